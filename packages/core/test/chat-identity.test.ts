import { expect } from 'chai';
import { LRUCache } from 'lru-cache';
import { OWASP_SCRYPT_PARAMETERS, ScryptPasswordHasher, createCore, type CachedPrincipal } from '../src/index.js';
import { WorkLimiter } from '../src/adapters/work-limiter.js';
import { FakeTokenIssuer, aTestCore, expectCode } from '../src/testing/index.js';
import { hangAt, holdFirstCreate, until } from './support.js';

describe('ProvisionChatUser', function () {
  it('gives an externally authenticated user a chat account, idempotently', async function () {
    const { core, chat, users } = aTestCore();
    const first = await core.provisionChatUser.execute({ account: 'Employee-42' });
    const second = await core.provisionChatUser.execute({ account: 'employee-42' });
    expect(second).to.deep.equal(first);
    expect(chat.users.size).to.equal(1);
    expect(users.all()[0]).to.deep.include({ status: 'active', passwordHash: null });
  });

  it('gives 20 concurrent calls for one new user the same principal and one chat user', async function () {
    const { core, chat } = aTestCore();
    const principals = await Promise.all(Array.from({ length: 20 }, () => core.provisionChatUser.execute({ account: 'u1' })));
    for (const p of principals) expect(p).to.deep.equal(principals[0]);
    expect(principals[0]?.chatUuid).to.equal(chat.users.get('u1')?.uuid);
    expect(chat.calls.create).to.equal(1);
  });

  it('callers that lose the reservation wait for the winner, also in another core instance', async function () {
    const rig = aTestCore();
    const other = createCore({ users: rig.users, chatProvisioner: rig.chat, tokens: rig.tokens, clock: rig.clock });
    const held = holdFirstCreate(rig.chat);
    const winner = rig.core.provisionChatUser.execute({ account: 'u1' });
    await held.reached;
    const waiting = Array.from({ length: 10 }, (_, i) => (i % 2 ? rig.core : other).provisionChatUser.execute({ account: 'U1' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release();
    const principals = await Promise.all([winner, ...waiting]);
    for (const p of principals) expect(p).to.deep.equal(principals[0]);
    expect(rig.chat.calls.create).to.equal(1);
  });

  it('waiters take the reservation over when its owner died, and finish it', async function () {
    const rig = aTestCore();
    const dying = createCore({ users: rig.users, chatProvisioner: hangAt(rig.chat, 'createUser'), tokens: rig.tokens, clock: rig.clock });
    void dying.provisionChatUser.execute({ account: 'u1' });
    await until(() => rig.users.all().length === 1);
    const waiting = Array.from({ length: 5 }, () => rig.core.provisionChatUser.execute({ account: 'u1' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    rig.clock.advance(rig.leaseSeconds * 1000);
    const principals = await Promise.all(waiting);
    for (const p of principals) expect(p).to.deep.equal(principals[0]);
    expect(principals[0]?.chatUuid).to.equal(rig.chat.users.get('u1')?.uuid);
    expect(rig.chat.calls.create).to.equal(1);
  });

  it('waiters fail with the winner when the chat service fails past its deadline; the next call finishes', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate();
    const held = holdFirstCreate(rig.chat);
    const winner = rig.core.provisionChatUser.execute({ account: 'u1' });
    await held.reached;
    const waiting = Array.from({ length: 5 }, () => rig.core.provisionChatUser.execute({ account: 'u1' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    held.release();
    for (const outcome of await Promise.allSettled([winner, ...waiting])) {
      expect(outcome.status).to.equal('rejected');
      const { reason } = outcome as PromiseRejectedResult;
      expect(reason).to.have.property('code', 'chat_service_unavailable');
      expect(reason).to.have.property('retryAfterSeconds').that.is.at.least(1);
    }
    expect(rig.chat.calls.create).to.equal(1);
    const principal = await rig.core.provisionChatUser.execute({ account: 'u1' });
    expect(principal.chatUuid).to.equal(rig.chat.users.get('u1')?.uuid);
  });

  it('finishes a provisioning that failed earlier', async function () {
    const { core, chat, clock } = aTestCore();
    chat.loseNextCreateAnswer();
    await expectCode(core.provisionChatUser.execute({ account: 'u1' }), 'chat_service_unavailable');
    clock.advance(1000);
    const principal = await core.provisionChatUser.execute({ account: 'u1' });
    expect(principal.chatUuid).to.equal(chat.users.get('u1')?.uuid);
  });
});

describe('IssueRtcToken', function () {
  async function registered() {
    const rig = aTestCore();
    const principal = await rig.core.registerUser.execute({ account: 'jack', password: 'password1' });
    return { ...rig, principal };
  }

  it('binds the token to the channel and the user\'s persistent agoraUid, with the role asked for', async function () {
    const { core, principal, tokens } = await registered();
    const a = await core.issueRtcToken.execute({ principal, channelName: 'room-1', role: 'publisher' });
    const b = await core.issueRtcToken.execute({ principal, channelName: 'room-2', role: 'subscriber' });
    expect(tokens.decode(a.token).rtc).to.deep.equal({ channelName: 'room-1', agoraUid: principal.agoraUid, publisher: true });
    expect(tokens.decode(b.token).rtc).to.deep.equal({ channelName: 'room-2', agoraUid: principal.agoraUid, publisher: false });
  });

  it('rejects bad channel names naming the field', async function () {
    const { core, principal } = await registered();
    for (const channelName of ['', 'a'.repeat(64), 'räum', 'a/b']) {
      const err = await expectCode(core.issueRtcToken.execute({ principal, channelName, role: 'subscriber' }), 'invalid_request');
      expect(err).to.have.property('field', 'channelName');
      expect(err).to.have.property('problem').that.is.a('string');
    }
  });
});

describe('FindActiveUser', function () {
  it('finds the active user of an account in any case, and nobody for unknown or pending accounts', async function () {
    const { core, chat } = aTestCore();
    const principal = await core.registerUser.execute({ account: 'Jack', password: 'password1' });
    expect(await core.findActiveUser.execute('JACK')).to.deep.equal(principal);
    expect(await core.findActiveUser.execute('jill')).to.equal(undefined);
    chat.failNextCreate();
    await expectCode(core.registerUser.execute({ account: 'pending', password: 'password1' }), 'chat_service_unavailable');
    expect(await core.findActiveUser.execute('pending')).to.equal(undefined);
    await expectCode(core.findActiveUser.execute(' jack'), 'invalid_request');
  });
});

describe('VerifyChatToken and RenewToken', function () {
  it('authenticates a login token and renews it with a later expiry', async function () {
    const { core, clock } = aTestCore();
    await core.registerUser.execute({ account: 'Jack', password: 'password1' });
    const login = await core.loginUser.execute({ account: 'jack', password: 'password1' });
    expect(await core.verifyChatToken.execute(login.chatToken.token)).to.deep.equal(login.principal);
    clock.advance(5000);
    const renewed = await core.renewToken.execute({ chatToken: login.chatToken.token });
    expect(renewed.principal).to.deep.equal({ ...login.principal, knownAt: login.principal.knownAt + 5000 });
    expect(renewed.chatToken.expireTimestamp).to.equal(login.chatToken.expireTimestamp + 5000);
  });

  it('looks users up by uuid when tokens name uuids', async function () {
    const rig = aTestCore();
    const core = createCore({
      users: rig.users, chatProvisioner: rig.chat, clock: rig.clock, passwordHasher: rig.hasher,
      tokens: new FakeTokenIssuer(rig.clock, { subjectKind: 'uuid' }),
    });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const login = await core.loginUser.execute({ account: 'jack', password: 'password1' });
    expect((await core.verifyChatToken.execute(login.chatToken.token)).chatUsername).to.equal('jack');
  });

  it('refuses missing, garbled and expired tokens and tokens of unknown or pending users', async function () {
    const { core, clock, tokens, chat } = aTestCore();
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const login = await core.loginUser.execute({ account: 'jack', password: 'password1' });
    for (const bad of [undefined, '', 42, 'garbage', `${login.chatToken.token}x`]) {
      await expectCode(core.verifyChatToken.execute(bad), 'unauthenticated');
    }
    const stranger = await tokens.issueChatToken({ chatUsername: 'nobody', chatUuid: null });
    await expectCode(core.verifyChatToken.execute(stranger.token), 'unauthenticated');
    chat.failNextCreate();
    await expectCode(core.registerUser.execute({ account: 'pending', password: 'password1' }), 'chat_service_unavailable');
    const pending = await tokens.issueChatToken({ chatUsername: 'pending', chatUuid: null });
    await expectCode(core.verifyChatToken.execute(pending.token), 'unauthenticated');
    clock.advance(86400 * 1000);
    await expectCode(core.renewToken.execute({ chatToken: login.chatToken.token }), 'unauthenticated');
  });
});

describe('ScryptPasswordHasher defaults', function () {
  it('uses OWASP-grade parameters by default (N=2^15, r=8, p=3) and records them in the hash', async function () {
    expect(OWASP_SCRYPT_PARAMETERS).to.deep.equal({ logN: 15, r: 8, p: 3 });
    const hasher = new ScryptPasswordHasher();
    expect(hasher.parameters).to.deep.equal(OWASP_SCRYPT_PARAMETERS);
    const hash = await hasher.hash('password1');
    const header = Buffer.from(hash, 'base64');
    expect(header.subarray(0, 6).toString()).to.equal('scrypt');
    expect([header[7], header.readUInt32BE(8), header.readUInt32BE(12)]).to.deep.equal([15, 8, 3]);
    expect(hasher.needsRehash(hash)).to.equal(false);
  });
});

describe('ScryptPasswordHasher under load', function () {
  it('logs refused hashes as one summary line, not one line per refusal', async function () {
    const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const hasher = new ScryptPasswordHasher({
      parameters: { logN: 14, r: 8, p: 1 }, concurrency: 1, maxQueue: 0,
      logger: { warn: (fields, message) => void lines.push({ fields, message }) },
    });
    const running = hasher.hash('takes the only slot');
    for (let i = 0; i < 50; i++) expect(() => hasher.checkCapacity('flooder')).to.throw();
    await running;
    expect(lines).to.have.length(1);
    expect(lines[0]!.message).to.contain('saturated');
  });
});

describe('WorkLimiter', function () {
  it('runs at most `concurrency` jobs, queues up to maxQueue and sheds the rest', async function () {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueue: 1 });
    let running = 0;
    let peak = 0;
    const job = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return 'done';
    };
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => limiter.run(job)));
    expect(peak).to.equal(2);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[3] as PromiseRejectedResult).reason).to.have.property('code', 'server_busy');
    expect(await limiter.run(job)).to.equal('done');
  });

  it('sheds a job whose expected wait exceeds maxWaitMs, with a Retry-After estimate', async function () {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueue: 100, maxWaitMs: 150 });
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 100));
    await limiter.run(slow); // teaches the limiter that a job takes about 100 ms
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => limiter.run(slow)));
    // One runs, one waits (about 100 ms), the third would wait about 200 ms: refused, as is the fourth.
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect((results[2] as PromiseRejectedResult).reason).to.include({ code: 'server_busy', retryAfterSeconds: 1 });
  });

  it('serves clients round-robin, so a flooding client cannot keep another out', async function () {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueue: 4 });
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(name);
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const flood = Array.from({ length: 10 }, (_, i) => limiter.run(job(`a${i}`), { client: 'flooder' }));
    const fair = limiter.run(job('b'), { client: 'other' });
    const results = await Promise.allSettled([...flood, fair]);
    expect(results.at(-1)?.status, 'the other client was admitted though the queue was full').to.equal('fulfilled');
    expect(order.slice(0, 3)).to.deep.equal(['a0', 'a1', 'b']);
    expect(order).to.have.length(5);
    expect(limiter.queued).to.equal(0);
  });

  it('serves a client with nothing running before the queue of a client whose jobs hold the slots', async function () {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueue: 8 });
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    // Each job runs until the test lets it end, so the order of starts depends on admission alone.
    const job = (name: string) => () => {
      order.push(name);
      return new Promise<void>((resolve) => gates.set(name, resolve));
    };
    const flood = ['a0', 'a1', 'a2', 'a3'].map((name) => limiter.run(job(name), { client: 'flooder' }));
    const light = limiter.run(job('b0'), { client: 'light' });
    expect(order).to.deep.equal(['a0', 'a1']);
    gates.get('a0')!();
    await flood[0];
    // Round-robin alone would start a2: the flooder's queue was there first.
    expect(order).to.deep.equal(['a0', 'a1', 'b0']);
    gates.get('a1')!();
    gates.get('b0')!();
    await Promise.all([flood[1], light]);
    for (const name of ['a2', 'a3']) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.get(name)!();
    }
    await Promise.all(flood);
    expect(order).to.deep.equal(['a0', 'a1', 'b0', 'a2', 'a3']);
  });

  it('keeps one job per slot waiting even when the wait estimate exceeds maxWaitMs, so slots never idle', async function () {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueue: 8, maxWaitMs: 10 });
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve('done'), 40));
    await limiter.run(slow); // teaches the limiter that a job takes far longer than maxWaitMs
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => limiter.run(slow)));
    // Two run, two wait for the next free slots, the fifth would wait a second round: refused.
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
  });

  it('counts reserved places before their jobs run, so a burst is refused at the door, and gives released places back', async function () {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueue: 8, maxWaitMs: 10 });
    await limiter.run(() => new Promise((resolve) => setTimeout(resolve, 40))); // a job takes far longer than maxWaitMs
    // A burst arrives at once and every request has database work to do before it hashes.
    const admitted = [];
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      try {
        admitted.push(limiter.reserve('flooder'));
      } catch (err) {
        expect(err).to.have.property('code', 'server_busy');
        refused++;
      }
    }
    // Two for the free slots and one waiting per slot; the rest never reach the database.
    expect([admitted.length, refused]).to.deep.equal([4, 6]);
    expect(() => limiter.checkCapacity('flooder')).to.throw();
    // Another client still gets in ahead of the flooder's waiting jobs.
    const light = limiter.reserve('light');
    light.release();
    admitted.pop()!.release();
    admitted.pop()!.release();
    limiter.reserve('flooder');
    const ran = await Promise.allSettled(admitted.map((reservation) => limiter.run(async () => 'ran', { client: 'flooder', reservation })));
    expect(ran.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled']);
  });

  it('frees the slot when a job fails', async function () {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueue: 0 });
    await limiter.run(async () => { throw new Error('boom'); }).catch(() => undefined);
    expect(await limiter.run(async () => 'ok')).to.equal('ok');
  });
});

describe('VerifyChatToken principal cache', function () {
  async function loggedIn(options: { cacheSize?: number; accounts?: string[] } = {}) {
    const principalCache = new LRUCache<string, CachedPrincipal>({ max: options.cacheSize ?? 100 });
    const rig = aTestCore({ principalCache });
    const bearers: string[] = [];
    for (const account of options.accounts ?? ['jack']) {
      await rig.core.registerUser.execute({ account, password: 'password1' });
      bearers.push((await rig.core.loginUser.execute({ account, password: 'password1' })).chatToken.token);
    }
    return { ...rig, principalCache, bearers, bearer: bearers[0]! };
  }

  /** The error of `promise`, or undefined when it fulfils. */
  async function failureOf(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
      return undefined;
    } catch (err) {
      return err;
    }
  }

  it('answers repeated bearers without reading the repository, until the entry expires', async function () {
    const { core, users, clock, bearer } = await loggedIn();
    const first = await core.verifyChatToken.execute(bearer);
    users.failNext.findByChatUsername = new Error('the database is down');
    expect(await core.verifyChatToken.execute(bearer)).to.deep.equal(first);
    clock.advance(60_000);
    expect(await failureOf(core.verifyChatToken.execute(bearer))).to.have.property('message', 'the database is down');
    expect({ ...(await core.verifyChatToken.execute(bearer)), knownAt: first.knownAt }).to.deep.equal(first);
  });

  it('still verifies the token itself on every call', async function () {
    const { core, clock, bearer } = await loggedIn();
    await core.verifyChatToken.execute(bearer);
    clock.advance(86_400_000);
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
  });

  it('evicts the least recently used principal, not the oldest one', async function () {
    const { core, users, bearers } = await loggedIn({ cacheSize: 2, accounts: ['ann', 'bob', 'cat'] });
    const [ann, bob, cat] = bearers as [string, string, string];
    await core.verifyChatToken.execute(ann);
    await core.verifyChatToken.execute(bob);
    await core.verifyChatToken.execute(ann); // ann is now the most recently used
    await core.verifyChatToken.execute(cat); // evicts bob, the least recently used
    users.failNext.findByChatUsername = new Error('read');
    await core.verifyChatToken.execute(ann);
    await core.verifyChatToken.execute(cat);
    expect(await failureOf(core.verifyChatToken.execute(bob))).to.have.property('message', 'read');
  });

  it('reads the repository on every call without a cache', async function () {
    const rig = aTestCore();
    await rig.core.registerUser.execute({ account: 'jack', password: 'password1' });
    const { chatToken } = await rig.core.loginUser.execute({ account: 'jack', password: 'password1' });
    await rig.core.verifyChatToken.execute(chatToken.token);
    rig.users.failNext.findByChatUsername = new Error('read again');
    expect(await failureOf(rig.core.verifyChatToken.execute(chatToken.token))).to.have.property('message', 'read again');
  });
});
