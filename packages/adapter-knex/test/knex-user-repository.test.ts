import { AccountExistsError, ChatUsernameTakenError } from '@chat-app-server/core';
import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';
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

});
