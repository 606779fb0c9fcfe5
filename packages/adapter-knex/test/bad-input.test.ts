import { InvalidRequestError } from '@chat-app-server/core';
import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { KnexLoginThrottle, KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';
import { aPendingUser, drawing, later, T0, unique } from './support/fixtures.js';

chai.use(chaiAsPromised);
const { expect } = chai;

// What a buggy or hostile caller may hand the repository. Each value is either stored and found exactly,
// or rejected with a domain error: a driver error must never escape.
describeEachDialect('bad input', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const repo = () => new KnexUserRepository(knex());

  it('stores and finds emoji, astral and combining characters exactly', async function () {
    const key = `${unique('k')}-😀𝔘𐍈-e\u0301-日本-\u{10FFFF}`;
    const user = aPendingUser({ accountKey: key, account: `${key}-DISPLAY`, chatUsername: unique('chat') });
    await repo().insertPending(user, drawing());

    expect(await repo().findByAccountKey(key)).to.deep.include({ accountKey: key, account: `${key}-DISPLAY` });
    expect(await repo().findByAccountKey(key.normalize('NFC'))).to.equal(undefined);
  });

  it('stores a 10 KB display name exactly (only indexed columns are bounded)', async function () {
    const account = '𝔘'.repeat(5 * 1024);
    const user = aPendingUser({ account });
    await repo().insertPending(user, drawing());

    expect((await repo().findByAccountKey(user.accountKey))?.account).to.equal(account);
  });

  it('rejects a 10 KB account key or chat username with InvalidRequestError, and finds nothing for it', async function () {
    const huge = `${unique('k')}${'x'.repeat(10 * 1024)}`;

    await expect(repo().insertPending(aPendingUser({ accountKey: huge }), drawing())).to.be.rejectedWith(InvalidRequestError);
    await expect(repo().insertPending(aPendingUser({ chatUsername: huge }), drawing())).to.be.rejectedWith(InvalidRequestError);
    expect(await repo().findByAccountKey(huge)).to.equal(undefined);
    expect(await repo().findByChatUsername(huge)).to.equal(undefined);
    expect(await repo().findByChatUuid(huge)).to.equal(undefined);
  });

  it('rejects NUL characters with InvalidRequestError naming the account', async function () {
    const withNul = `${unique('k')}\u0000tail`;

    const error = await repo().insertPending(aPendingUser({ accountKey: withNul }), drawing()).catch((e: unknown) => e);
    await expect(repo().insertPending(aPendingUser({ account: withNul }), drawing())).to.be.rejectedWith(InvalidRequestError);
    await expect(repo().insertPending(aPendingUser({ chatUsername: withNul }), drawing())).to.be.rejectedWith(InvalidRequestError);
    await expect(repo().insertPending(aPendingUser({ passwordHash: withNul }), drawing())).to.be.rejectedWith(InvalidRequestError);

    expect(error).to.be.instanceOf(InvalidRequestError).and.to.include({ code: 'invalid_request', field: 'account' });
  });

  it('rejects unpaired surrogates, which no driver could store exactly', async function () {
    await expect(repo().insertPending(aPendingUser({ accountKey: `${unique('k')}\uD800` }), drawing())).to.be.rejectedWith(InvalidRequestError);
    await expect(repo().insertPending(aPendingUser({ account: `\uDC00${unique('k')}` }), drawing())).to.be.rejectedWith(InvalidRequestError);
  });

  it('answers lookups and lease-guarded changes with NUL keys as "not found"', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());
    const nul = `${user.accountKey}\u0000`;
    const takeover = { leaseId: unique('lease'), leaseExpiresAt: later(T0, 1), passwordHash: null, now: T0 };

    expect(await repo().findByAccountKey(nul)).to.equal(undefined);
    expect(await repo().findByChatUsername(`${user.chatUsername}\u0000`)).to.equal(undefined);
    expect(await repo().findByChatUuid('\u0000')).to.equal(undefined);
    expect(await repo().takeOverPending(nul, user.leaseId, takeover)).to.equal(undefined);
    expect(await repo().takeOverPending(user.accountKey, `${user.leaseId}\u0000`, takeover)).to.equal(undefined);
    expect(await repo().markCreationAttempted(nul, user.leaseId, T0)).to.equal(false);
    expect(await repo().endLease(nul, user.leaseId, T0)).to.equal(false);
    expect(await repo().activate(nul, user.leaseId, unique('uuid'), T0)).to.equal(undefined);
    expect(await repo().deletePending(nul, user.leaseId)).to.equal(false);
    await repo().updatePasswordHash(nul, 'h', T0);
    expect(await repo().findByAccountKey(user.accountKey)).to.deep.include({ status: 'pending', leaseId: user.leaseId });
  });

  it('rejects a NUL chat uuid on activation with InvalidRequestError and leaves the row pending', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());

    await expect(repo().activate(user.accountKey, user.leaseId, 'uuid\u0000', T0)).to.be.rejectedWith(InvalidRequestError);
    expect(await repo().findByAccountKey(user.accountKey)).to.deep.include({ status: 'pending' });
  });

  it('throttles by keys with NUL, lone surrogates and 10 KB of text without mixing them up', async function () {
    await knex()('login_failures').delete();
    const throttle = new KnexLoginThrottle(knex());
    const odd = ['a\u0000b', 'a\u0000c', '\uD800', 'y'.repeat(10 * 1024), 'sha256:abc', '😀'];
    const once = (key: string) => ({ key, max: 1, windowSeconds: 60 });

    expect(await throttle.claim(odd.map(once), T0)).to.deep.equal({ allowed: true });

    for (const key of odd) expect(await throttle.claim([once(key)], T0)).to.deep.equal({ allowed: false, retryAfterSeconds: 60 });
    expect(await throttle.claim(['a', 'a\u0000', 'y'.repeat(10 * 1024 - 1), 'sha256:abd'].map(once), T0)).to.deep.equal({ allowed: true });
  });
});
