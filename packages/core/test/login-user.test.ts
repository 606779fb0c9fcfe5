import { expect } from 'chai';
import { ScryptPasswordHasher, type PasswordHasher } from '../src/index.js';
import { CHEAP_SCRYPT_PARAMETERS, aTestCore, expectCode } from '../src/testing/index.js';

/** Counts verifications, so tests can see that unknown accounts cost a hash check too. */
class CountingHasher implements PasswordHasher {
  verifications = 0;
  constructor(private readonly inner: PasswordHasher) {}
  hash(password: string, client?: string) { return this.inner.hash(password, client); }
  verify(hash: string, password: string, client?: string) { this.verifications++; return this.inner.verify(hash, password, client); }
  needsRehash(hash: string) { return this.inner.needsRehash(hash); }
}

describe('LoginUser', function () {
  it('returns a chat token for the chat username, its expiry and the agoraUid', async function () {
    const { core, tokens, users, clock } = aTestCore();
    await core.registerUser.execute({ account: 'Jack', password: 'password1' });
    const out = await core.loginUser.execute({ account: 'jACK', password: 'password1' });
    expect(out.principal.chatUsername).to.equal('jack');
    expect(out.principal.agoraUid).to.equal(users.all()[0]?.agoraUid);
    expect(out.chatToken.expireTimestamp).to.equal((Math.floor(clock.now() / 1000) + 86400) * 1000);
    expect(tokens.decode(out.chatToken.token)).to.deep.include({ sub: 'jack' });
  });

  it('answers invalid_credentials alike for an unknown account and a wrong password, verifying a hash in both', async function () {
    const hasher = new CountingHasher(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }));
    const { core } = aTestCore({ passwordHasher: hasher });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const unknown = await expectCode(core.loginUser.execute({ account: 'nobody', password: 'password1' }), 'invalid_credentials');
    expect(hasher.verifications).to.equal(1);
    const wrong = await expectCode(core.loginUser.execute({ account: 'jack', password: 'password2' }), 'invalid_credentials');
    expect(hasher.verifications).to.equal(2);
    expect(unknown.message).to.equal(wrong.message);
  });

  it('checks the throttle before the hash, per account and per client address', async function () {
    const hasher = new CountingHasher(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }));
    const { core, clock } = aTestCore({ passwordHasher: hasher, loginLimits: { maxFailures: 3, maxFailuresPerAccount: 3, windowSeconds: 60 } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    for (let i = 0; i < 3; i++) {
      await expectCode(core.loginUser.execute({ account: 'jack', password: 'nope-nope', clientAddress: `10.0.0.${i}` }), 'invalid_credentials');
    }
    const before = hasher.verifications;
    const blocked = await expectCode(core.loginUser.execute({ account: 'jack', password: 'password1', clientAddress: '10.0.0.9' }), 'too_many_attempts');
    expect(blocked).to.have.property('retryAfterSeconds', 60);
    expect(hasher.verifications).to.equal(before);

    for (let i = 0; i < 3; i++) {
      await expectCode(core.loginUser.execute({ account: `other${i}`, password: 'nope-nope', clientAddress: '10.9.9.9' }), 'invalid_credentials');
    }
    await expectCode(core.loginUser.execute({ account: 'someone', password: 'x', clientAddress: '10.9.9.9' }), 'too_many_attempts');

    clock.advance(60_000);
    await core.loginUser.execute({ account: 'jack', password: 'password1', clientAddress: '10.0.0.9' });
  });

  it('checks at most maxFailures passwords however parallel the guesses', async function () {
    const hasher = new CountingHasher(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS, maxQueue: 100 }));
    const { core } = aTestCore({ passwordHasher: hasher, loginLimits: { maxFailures: 5, maxFailuresPerAccount: 100, windowSeconds: 60 } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const guesses = await Promise.allSettled(Array.from({ length: 40 }, (_, i) =>
      core.loginUser.execute({ account: 'jack', password: `guess-${i}-x`, clientAddress: '10.0.0.1' })));
    expect(hasher.verifications).to.equal(5);
    expect(guesses.filter((g) => g.status === 'rejected' && (g.reason as { code?: string }).code === 'too_many_attempts')).to.have.length(35);
  });

  it('blocks an address for an account after maxFailures, not the owner elsewhere, until maxFailuresPerAccount', async function () {
    const { core } = aTestCore({ loginLimits: { maxFailures: 2, maxFailuresPerAccount: 5, windowSeconds: 60 } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const attempt = (password: string, clientAddress: string) => core.loginUser.execute({ account: 'jack', password, clientAddress });
    for (let i = 0; i < 2; i++) await expectCode(attempt('nope-nope', '10.0.0.1'), 'invalid_credentials');
    await expectCode(attempt('password1', '10.0.0.1'), 'too_many_attempts');
    await attempt('password1', '10.0.0.2');
    for (const address of ['10.0.0.3', '10.0.0.3', '10.0.0.4']) await expectCode(attempt('nope-nope', address), 'invalid_credentials');
    await expectCode(attempt('password1', '10.0.0.5'), 'too_many_attempts');
  });

  it('forgets the failures of the owner\'s address on success', async function () {
    const { core } = aTestCore({ loginLimits: { maxFailures: 3, maxFailuresPerAccount: 100, windowSeconds: 60 } });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) {
        await expectCode(core.loginUser.execute({ account: 'jack', password: 'nope-nope' }), 'invalid_credentials');
      }
      await core.loginUser.execute({ account: 'jack', password: 'password1' });
    }
  });

  it('rehashes after a successful login when the parameters were raised', async function () {
    const weak = new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS });
    const first = aTestCore({ passwordHasher: weak });
    await first.core.registerUser.execute({ account: 'jack', password: 'password1' });
    const oldHash = first.users.all()[0]!.passwordHash!;

    const strong = new ScryptPasswordHasher({ parameters: { ...CHEAP_SCRYPT_PARAMETERS, logN: 6 } });
    const upgraded = aTestCore({ passwordHasher: strong, users: first.users });
    await upgraded.core.loginUser.execute({ account: 'jack', password: 'password1' });
    const newHash = first.users.all()[0]!.passwordHash!;
    expect(newHash).to.not.equal(oldHash);
    expect(strong.needsRehash(newHash)).to.equal(false);
    expect(await strong.verify(newHash, 'password1')).to.equal(true);
  });

  it('still logs in when the rehash cannot be stored, and says so', async function () {
    const warnings: string[] = [];
    const weak = aTestCore({ passwordHasher: new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }) });
    await weak.core.registerUser.execute({ account: 'jack', password: 'password1' });
    const rig = aTestCore({
      users: weak.users,
      passwordHasher: new ScryptPasswordHasher({ parameters: { ...CHEAP_SCRYPT_PARAMETERS, logN: 6 } }),
      logger: { warn: (_fields, message) => warnings.push(message) },
    });
    weak.users.failNext.updatePasswordHash = new Error('disk full');
    await rig.core.loginUser.execute({ account: 'jack', password: 'password1' });
    expect(warnings).to.deep.equal(['password rehash failed']);
  });

  it('refuses users provisioned without a password', async function () {
    const { core } = aTestCore();
    await core.provisionChatUser.execute({ account: 'sso-user' });
    await expectCode(core.loginUser.execute({ account: 'sso-user', password: 'anything1' }), 'invalid_credentials');
  });

  it('rejects malformed input before touching the throttle or the hash', async function () {
    const hasher = new CountingHasher(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }));
    const { core } = aTestCore({ passwordHasher: hasher });
    for (const input of [{ account: '', password: 'x' }, { account: 'jack', password: 7 }, { account: 'jack' }]) {
      await expectCode(core.loginUser.execute(input as { account: string; password: string }), 'invalid_request');
    }
    expect(hasher.verifications).to.equal(0);
  });
});

describe('LoginUser under a login flood', function () {
  it('refuses with server_busy before reading the database when the hasher is saturated', async function () {
    const hasher = new ScryptPasswordHasher({ parameters: { logN: 14, r: 8, p: 1 }, concurrency: 1, maxQueue: 0 });
    const { core, users } = aTestCore({ passwordHasher: hasher });
    await core.registerUser.execute({ account: 'jack', password: 'password1' });
    const occupying = hasher.hash('takes the only hashing slot');
    users.failNext.findByAccountKey = new Error('the database must not be read');
    const err = await expectCode(core.loginUser.execute({ account: 'jack', password: 'password1' }), 'server_busy');
    expect(err).to.have.property('retryAfterSeconds').that.is.at.least(1);
    delete users.failNext.findByAccountKey;
    await occupying;
    await core.loginUser.execute({ account: 'jack', password: 'password1' });
  });
});
