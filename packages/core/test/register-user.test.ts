import { expect } from 'chai';
import { AGORA_UID_DRAW_MAX } from '../src/index.js';
import { aTestCore, expectCode } from '../src/testing/index.js';

describe('RegisterUser', function () {
  it('stores an active user with a scrypt hash, a chat user and an agoraUid', async function () {
    const { core, users, chat, hasher } = aTestCore();
    const principal = await core.registerUser.execute({ account: 'Jack', password: 'correct horse' });
    expect(principal).to.deep.include({ account: 'Jack', accountKey: 'jack', chatUsername: 'jack' });
    const [row] = users.all();
    expect(row).to.deep.include({ status: 'active', chatUsername: 'jack', leaseId: null });
    expect(row?.passwordHash).to.not.contain('correct horse');
    expect(await hasher.verify(row!.passwordHash!, 'correct horse')).to.equal(true);
    expect(row?.chatUuid).to.equal(chat.users.get('jack')?.uuid);
    expect(row?.agoraUid).to.be.within(1, AGORA_UID_DRAW_MAX);
  });

  it('never sends the user\'s password to the chat service', async function () {
    const { core, chat } = aTestCore();
    let sent = '';
    const create = chat.createUser.bind(chat);
    chat.createUser = async (username, password) => {
      sent = password;
      return create(username, password);
    };
    await core.registerUser.execute({ account: 'jack', password: 'correct horse' });
    expect(sent).to.not.equal('correct horse');
    expect(sent).to.have.length.greaterThan(20);
  });

  it('treats case variants as one account', async function () {
    const { core, users, chat } = aTestCore();
    await core.registerUser.execute({ account: 'Jack', password: 'correct horse' });
    await expectCode(core.registerUser.execute({ account: 'JACK', password: 'another pass' }), 'account_exists');
    expect(users.all()).to.have.length(1);
    expect(chat.users.size).to.equal(1);
  });

  it('rejects bad input naming the field, storing nothing', async function () {
    const { core, users, chat } = aTestCore();
    const cases: Array<[unknown, unknown, string]> = [
      [undefined, 'password1', 'account'], ['', 'password1', 'account'], [' jack', 'password1', 'account'],
      ['jack', 'short', 'password'], ['jack', 12345678, 'password'], ['jack', 'x'.repeat(1025), 'password'],
    ];
    for (const [account, password, field] of cases) {
      const err = await expectCode(core.registerUser.execute({ account, password } as { account: string; password: string }), 'invalid_request');
      expect(err).to.have.property('field', field);
    }
    expect(users.all()).to.deep.equal([]);
    expect(chat.calls.create).to.equal(0);
  });

  it('honours a configured minimum password length', async function () {
    const { core } = aTestCore({ passwordMinLength: 12 });
    await expectCode(core.registerUser.execute({ account: 'jack', password: '12345678901' }), 'invalid_request');
    await core.registerUser.execute({ account: 'jack', password: '123456789012' });
  });

  it('gives accounts Agora would refuse a derived chat username', async function () {
    const { core, chat } = aTestCore();
    const principal = await core.registerUser.execute({ account: 'Jöhn Doe', password: 'password1' });
    expect(principal.chatUsername).to.match(/^u\.[0-9a-f]{40}$/);
    expect(chat.users.has(principal.chatUsername)).to.equal(true);
  });

  it('gives every user a distinct agoraUid, drawing again on a collision', async function () {
    const draws = [7, 7, 7, 8];
    const { core, users } = aTestCore({ drawAgoraUid: () => draws.shift() ?? 9 });
    await core.registerUser.execute({ account: 'a', password: 'password1' });
    await core.registerUser.execute({ account: 'b', password: 'password1' });
    expect(users.all().map((u) => u.agoraUid)).to.deep.equal([7, 8]);
  });

  it('reserves before hashing: a duplicate costs no hash, a busy hasher leaves no reservation', async function () {
    const { ScryptPasswordHasher, ServerBusyError } = await import('../src/index.js');
    const inner = new ScryptPasswordHasher({ parameters: { logN: 4, r: 8, p: 1 } });
    let hashes = 0;
    let busy = false;
    const hasher = {
      hash: async (password: string) => {
        hashes++;
        if (busy) throw new ServerBusyError(1);
        return inner.hash(password);
      },
      verify: (hash: string, password: string) => inner.verify(hash, password),
      needsRehash: () => false,
    };
    const { core, users } = aTestCore({ passwordHasher: hasher });
    const racers = await Promise.allSettled(Array.from({ length: 20 }, () => core.registerUser.execute({ account: 'jack', password: 'password1' })));
    expect(racers.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    expect(hashes).to.equal(1);
    busy = true;
    await expectCode(core.registerUser.execute({ account: 'jill', password: 'password1' }), 'server_busy');
    expect(users.all().map((u) => u.accountKey)).to.deep.equal(['jack']);
  });

  it('limits registrations per client address, 409 answers included', async function () {
    const { core, clock } = aTestCore({ registrationLimits: { maxPerAddress: 3, windowSeconds: 600 } });
    const from = (account: string, clientAddress: string) => core.registerUser.execute({ account, password: 'password1', clientAddress });
    await from('a1', '10.0.0.1');
    await expectCode(from('a1', '10.0.0.1'), 'account_exists');
    await from('a2', '10.0.0.1');
    const refused = await expectCode(from('a3', '10.0.0.1'), 'too_many_attempts');
    expect(refused).to.have.property('retryAfterSeconds', 600);
    await from('a3', '10.0.0.2');
    clock.advance(600_000);
    await from('a4', '10.0.0.1');
  });

  it('remembers an address that the limit refused: until its window ends, refusing it costs no database work', async function () {
    const { core, clock, throttle } = aTestCore({ registrationLimits: { maxPerAddress: 1, windowSeconds: 600 } });
    let claims = 0;
    const claim = throttle.claim.bind(throttle);
    throttle.claim = (limits, now) => {
      claims++;
      return claim(limits, now);
    };
    const from = (account: string, clientAddress: string) => core.registerUser.execute({ account, password: 'password1', clientAddress });
    await from('a1', '10.0.0.1');
    await expectCode(from('a2', '10.0.0.1'), 'too_many_attempts');
    expect(claims).to.equal(2);
    clock.advance(400_000);
    const again = await expectCode(from('a3', '10.0.0.1'), 'too_many_attempts');
    expect(again).to.have.property('retryAfterSeconds', 200);
    expect(() => core.registerUser.admit('10.0.0.1')).to.throw().with.property('code', 'too_many_attempts');
    expect(claims, 'the remembered refusal read no throttle').to.equal(2);
    core.registerUser.admit('10.0.0.2');
    clock.advance(200_000);
    await from('a4', '10.0.0.1');
    expect(claims).to.equal(3);
  });

  it('sheds load with server_busy when the hashing queue is full', async function () {
    const { ScryptPasswordHasher } = await import('../src/index.js');
    const { core, users } = aTestCore({
      passwordHasher: new ScryptPasswordHasher({ parameters: { logN: 14, r: 8, p: 1 }, concurrency: 1, maxQueue: 1 }),
    });
    const results = await Promise.allSettled(['a', 'b', 'c', 'd'].map((account) =>
      core.registerUser.execute({ account, password: 'password1' })));
    const busy = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'server_busy');
    expect(busy).to.have.length(2);
    expect(users.all()).to.have.length(2);
    expect((busy[0] as PromiseRejectedResult).reason).to.have.property('retryAfterSeconds').that.is.at.least(1);
  });
});
