import { expect } from 'chai';
import { LRUCache } from 'lru-cache';
import { ChatServiceUnavailableError, ScryptPasswordHasher, type CachedPrincipal, type ObservedEvent, type Observer } from '../src/index.js';
import { CHEAP_SCRYPT_PARAMETERS, aTestCore, expectCode } from '../src/testing/index.js';

/** Records every event, so tests can see what an operator's metrics would count. */
class RecordingObserver implements Observer {
  readonly events: ObservedEvent[] = [];
  observe(event: ObservedEvent): void {
    this.events.push(event);
  }
  of<K extends ObservedEvent['kind']>(kind: K): Array<Extract<ObservedEvent, { kind: K }>> {
    return this.events.filter((e): e is Extract<ObservedEvent, { kind: K }> => e.kind === kind);
  }
}

describe('Observer events', function () {
  it('reports logins by outcome: success, invalid, throttled, and not malformed requests', async function () {
    const observer = new RecordingObserver();
    const { core } = aTestCore({ observer, loginLimits: { maxFailures: 1, maxFailuresPerAccount: 1, windowSeconds: 60 } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    await core.loginUser.execute({ account: 'jack', password: 'password1' });
    await expectCode(core.loginUser.execute({ account: 'jack', password: 'wrong-one' }), 'invalid_credentials');
    await expectCode(core.loginUser.execute({ account: 'jack', password: 'password1' }), 'too_many_attempts');
    await expectCode(core.loginUser.execute({ account: '', password: 'password1' }), 'invalid_request');
    expect(observer.of('login').map((e) => e.outcome)).to.deep.equal(['success', 'invalid', 'throttled']);
  });

  it('reports registrations by outcome, the pending rows failures leave, and takeovers', async function () {
    const observer = new RecordingObserver();
    const { core, chat, clock, leaseSeconds } = aTestCore({ observer });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    await expectCode(core.registerUser.execute({ account: 'JACK', password: 'password1' }), 'account_exists');
    chat.addForeignUser('jill');
    await expectCode(core.registerUser.execute({ account: 'jill', password: 'password1' }), 'chat_username_taken');
    chat.failNextCreate(new ChatServiceUnavailableError());
    await expectCode(core.registerUser.execute({ account: 'joe', password: 'password1' }), 'chat_service_unavailable');
    clock.advance(leaseSeconds * 1000 + 1);
    await core.registerUser.execute({ account: 'joe', password: 'password2' });
    expect(observer.of('registration').map((e) => e.outcome)).to.deep.equal([
      'created', 'account_exists', 'chat_username_taken', 'left_pending', 'created',
    ]);
    expect(observer.of('registration_takeover')).to.have.length(1);
  });

  it('reports principal cache misses and hits on the bearer path', async function () {
    const observer = new RecordingObserver();
    const { core } = aTestCore({ observer, principalCache: new LRUCache<string, CachedPrincipal>({ max: 10 }) });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const { chatToken } = await core.loginUser.execute({ account: 'jack', password: 'password1' });
    await core.verifyChatToken.execute(chatToken.token);
    await core.verifyChatToken.execute(chatToken.token);
    expect(observer.of('principal_cache').map((e) => e.result)).to.deep.equal(['miss', 'hit']);
  });

  it('reports the hashing queue wait of each hash and each shed request', async function () {
    const observer = new RecordingObserver();
    const hasher = new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS, concurrency: 1, maxQueue: 1, observer });
    const results = await Promise.allSettled([hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected']);
    const hashes = observer.of('password_hash');
    expect(hashes.map((e) => e.operation)).to.deep.equal(['hash', 'hash']);
    // The second waited for the first to finish.
    expect(hashes[1]!.queueWaitMs).to.be.greaterThan(0);
    expect(observer.of('password_hash_shed')).to.have.length(1);
    await hasher.verify(await hasher.hash('d'), 'd');
    expect(observer.of('password_hash').map((e) => e.operation).slice(-1)).to.deep.equal(['verify']);
  });

  it('a throwing observer never fails the operation', async function () {
    const { core } = aTestCore({ observer: { observe: () => { throw new Error('broken metrics'); } } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    await core.loginUser.execute({ account: 'jack', password: 'password1' });
  });
});
