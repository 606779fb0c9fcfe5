import { AccountExistsError, ChatUsernameTakenError } from '@chat-app-server/core';
import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from './support/dialects.js';
import { aPendingUser, drawing, later, T0, unique } from './support/fixtures.js';

chai.use(chaiAsPromised);
const { expect } = chai;

describeEachDialect('KnexUserRepository', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const repo = () => new KnexUserRepository(knex());

  it('round-trips every field exactly, timestamps to the millisecond and the largest agoraUid as a number', async function () {
    const user = aPendingUser({ leaseExpiresAt: new Date(T0.getTime() + 1) });
    const inserted = await repo().insertPending(user, () => 2 ** 32 - 1 - (process.pid % 1000));
    const found = await repo().findByAccountKey(user.accountKey);

    expect(found).to.deep.equal(inserted);
    expect(found?.agoraUid).to.be.a('number').and.equal(2 ** 32 - 1 - (process.pid % 1000));
    expect(found?.createdAt).to.be.instanceOf(Date);
    expect(found?.createdAt.getTime()).to.equal(T0.getTime());
    expect(found?.leaseExpiresAt?.getTime()).to.equal(T0.getTime() + 1);
  });

  it('rejects a duplicate account key with AccountExistsError even when the chat username also collides', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());

    await expect(repo().insertPending({ ...aPendingUser(), accountKey: user.accountKey }, drawing())).to.be.rejectedWith(AccountExistsError);
    await expect(repo().insertPending({ ...user, leaseId: unique('lease') }, drawing())).to.be.rejectedWith(AccountExistsError);
  });

  it('rejects an active account key with AccountExistsError', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());
    await repo().activate(user.accountKey, user.leaseId, unique('uuid'), later(T0, 1));

    await expect(repo().insertPending({ ...aPendingUser(), accountKey: user.accountKey }, drawing())).to.be.rejectedWith(AccountExistsError);
  });

  it("rejects another account's chat username with ChatUsernameTakenError", async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());

    await expect(repo().insertPending(aPendingUser({ chatUsername: user.chatUsername }), drawing())).to.be.rejectedWith(ChatUsernameTakenError);
  });

  it('redraws a taken agoraUid and gives up after the configured number of draws', async function () {
    const taken = await repo().insertPending(aPendingUser(), drawing());
    let draws = 0;
    const always = () => {
      draws++;
      return taken.agoraUid;
    };

    const redrawn = await repo().insertPending(aPendingUser(), drawing(taken.agoraUid, taken.agoraUid));
    await expect(new KnexUserRepository(knex(), { maxAgoraUidDraws: 6 }).insertPending(aPendingUser(), always)).to.be.rejectedWith(/No free agoraUid after 6 draws/);

    expect(redrawn.agoraUid).to.not.equal(taken.agoraUid);
    expect(draws).to.equal(6);
  });

  it('refuses an agoraUid outside 1..2^32-1 before touching the database', async function () {
    await expect(repo().insertPending(aPendingUser(), () => 0)).to.be.rejectedWith(RangeError);
    await expect(repo().insertPending(aPendingUser(), () => 2 ** 32)).to.be.rejectedWith(RangeError);
  });

  it('takes over only a pending row under the expected lease and keeps its identity and first attempt', async function () {
    const user = aPendingUser();
    const row = await repo().insertPending(user, drawing());
    await repo().markCreationAttempted(user.accountKey, user.leaseId, later(T0, 5));
    const takeover = { leaseId: unique('lease'), leaseExpiresAt: later(T0, 90_000), passwordHash: 'new-hash', now: later(T0, 60_000) };

    const taken = await repo().takeOverPending(user.accountKey, user.leaseId, takeover);
    const stale = await repo().takeOverPending(user.accountKey, user.leaseId, { ...takeover, leaseId: unique('lease') });

    expect(taken).to.deep.include({ leaseId: takeover.leaseId, passwordHash: 'new-hash', chatUsername: row.chatUsername, agoraUid: row.agoraUid });
    expect(taken?.creationAttemptedAt?.getTime()).to.equal(later(T0, 5).getTime());
    expect(taken?.updatedAt.getTime()).to.equal(later(T0, 60_000).getTime());
    expect(stale).to.equal(undefined);
  });

  it('keeps the earlier creation attempt, ends leases, activates and deletes only under the owning lease', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());

    expect(await repo().markCreationAttempted(user.accountKey, user.leaseId, later(T0, 10))).to.equal(true);
    expect(await repo().markCreationAttempted(user.accountKey, user.leaseId, later(T0, 20))).to.equal(true);
    expect(await repo().markCreationAttempted(user.accountKey, 'someone-else', later(T0, 30))).to.equal(false);
    expect(await repo().endLease(user.accountKey, user.leaseId, later(T0, 40))).to.equal(true);
    expect(await repo().endLease(user.accountKey, 'someone-else', later(T0, 50))).to.equal(false);
    expect(await repo().deletePending(user.accountKey, 'someone-else')).to.equal(false);
    const row = await repo().findByAccountKey(user.accountKey);

    expect(row?.creationAttemptedAt?.getTime()).to.equal(later(T0, 10).getTime());
    expect(row?.leaseExpiresAt?.getTime()).to.equal(later(T0, 40).getTime());
  });

  it('activates once, clears the lease, and is then found by chat uuid and chat username', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());
    const uuid = unique('uuid');

    const active = await repo().activate(user.accountKey, user.leaseId, uuid, later(T0, 7));
    const again = await repo().activate(user.accountKey, user.leaseId, unique('uuid'), later(T0, 8));

    expect(active).to.deep.include({ status: 'active', chatUuid: uuid, leaseId: null, leaseExpiresAt: null });
    expect(again).to.equal(undefined);
    expect(await repo().findByChatUuid(uuid)).to.deep.equal(active);
    expect(await repo().findByChatUsername(user.chatUsername)).to.deep.equal(active);
    expect(await repo().deletePending(user.accountKey, user.leaseId)).to.equal(false);
  });

  it('updates the password hash of an existing row and ignores an unknown key', async function () {
    const user = aPendingUser();
    await repo().insertPending(user, drawing());

    await repo().updatePasswordHash(user.accountKey, 'rehashed', later(T0, 9));
    await repo().updatePasswordHash(unique('nobody'), 'rehashed', later(T0, 9));

    expect(await repo().findByAccountKey(user.accountKey)).to.deep.include({ passwordHash: 'rehashed' });
    expect(await repo().findByAccountKey(unique('nobody'))).to.equal(undefined);
  });
});
