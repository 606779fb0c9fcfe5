import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { AGORA_UID_MAX } from '../../domain/agora-uid.js';
import type { NewActiveUser, NewPendingUser, UserRecord, UserRepository } from '../../ports/user-repository.js';
import { eachTest, expectCode, uniqueName, type Teardown } from './kit-support.js';

export interface UserRepositoryKitSubject extends Teardown {
  repo: UserRepository;
  /**
   * A probe: the stored row of `accountKey` read straight from the storage (not through `repo`), so
   * the kit checks what was written, not only what the repository answers.
   */
  readRow(accountKey: string): Promise<UserRecord | undefined>;
}

const T0 = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

// Spread over the whole range so runs sharing one database rarely collide (and redraw when they do).
const nextUid = () => randomInt(1, AGORA_UID_MAX + 1);

function pendingUser(overrides: Partial<NewPendingUser> = {}): NewPendingUser {
  const key = overrides.accountKey ?? uniqueName('acct');
  return {
    account: key.toUpperCase(),
    accountKey: key,
    passwordHash: 'hash-1',
    chatUsername: uniqueName('chat'),
    leaseId: uniqueName('lease'),
    leaseExpiresAt: at(60),
    now: T0,
    ...overrides,
  };
}

function activeUser(overrides: Partial<NewActiveUser> = {}): NewActiveUser {
  const key = overrides.accountKey ?? uniqueName('imp');
  return {
    account: key.toUpperCase(),
    accountKey: key,
    passwordHash: 'hash-imported',
    chatUsername: uniqueName('chat'),
    chatUuid: uniqueName('uuid'),
    now: T0,
    ...overrides,
  };
}

/**
 * The {@link UserRepository} contract. `factory` gives a repository for one test (a fresh one, or a
 * shared one: the kit's account keys and chat usernames are unique per test).
 */
export function userRepositoryContract(label: string, factory: () => Promise<UserRepositoryKitSubject>): void {
  describe(`UserRepository contract: ${label}`, function () {
    const subject = eachTest(factory);
    const repo = () => subject.get().repo;

    it('finds nothing for unknown keys, usernames and uuids', async function () {
      expect(await repo().findByAccountKey(uniqueName('none'))).to.equal(undefined);
      expect(await repo().findByChatUsername(uniqueName('none'))).to.equal(undefined);
      expect(await repo().findByChatUuid(uniqueName('none'))).to.equal(undefined);
    });

    it('inserts a pending row with the drawn uid and returns it as stored', async function () {
      const user = pendingUser();
      const uid = nextUid();
      const row = await repo().insertPending(user, () => uid);
      expect(row).to.deep.include({
        account: user.account, accountKey: user.accountKey, passwordHash: 'hash-1', chatUsername: user.chatUsername,
        chatUuid: null, agoraUid: uid, status: 'pending', leaseId: user.leaseId, creationAttemptedAt: null,
      });
      expect(row.leaseExpiresAt?.getTime()).to.equal(at(60).getTime());
      expect(row.createdAt.getTime()).to.equal(T0.getTime());
      expect(await repo().findByAccountKey(user.accountKey)).to.deep.equal(row);
      expect(await repo().findByChatUsername(user.chatUsername)).to.deep.equal(row);
    });

    it('writes every state change to storage, as the probe reads it back', async function () {
      const { readRow } = subject.get();
      const user = pendingUser();
      const inserted = await repo().insertPending(user, nextUid);
      expect(await readRow(user.accountKey), 'after insertPending').to.deep.equal(inserted);
      await repo().markCreationAttempted(user.accountKey, user.leaseId, at(1));
      expect(await readRow(user.accountKey), 'after markCreationAttempted').to.deep.include({ creationAttemptedAt: at(1) });
      const uuid = uniqueName('uuid');
      const active = await repo().activate(user.accountKey, user.leaseId, uuid, at(2));
      expect(await readRow(user.accountKey), 'after activate').to.deep.equal(active);
      await repo().updatePasswordHash(user.accountKey, 'hash-2', at(3));
      expect(await readRow(user.accountKey), 'after updatePasswordHash').to.deep.include({ passwordHash: 'hash-2', status: 'active', chatUuid: uuid });
      const other = pendingUser();
      await repo().insertPending(other, nextUid);
      await repo().deletePending(other.accountKey, other.leaseId);
      expect(await readRow(other.accountKey), 'after deletePending').to.equal(undefined);
    });

    it('stores a null password hash for provisioned users', async function () {
      const user = pendingUser({ passwordHash: null });
      await repo().insertPending(user, nextUid);
      expect((await repo().findByAccountKey(user.accountKey))?.passwordHash).to.equal(null);
    });

    it('rejects a second row for the same account key with account_exists', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await expectCode(repo().insertPending({ ...pendingUser(), accountKey: user.accountKey }, nextUid), 'account_exists');
    });

    it('rejects a second row for the same chat username with chat_username_taken', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await expectCode(repo().insertPending(pendingUser({ chatUsername: user.chatUsername }), nextUid), 'chat_username_taken');
      expect(await repo().findByChatUsername(user.chatUsername)).to.have.property('accountKey', user.accountKey);
    });

    it('draws another agoraUid when the drawn one is taken', async function () {
      const taken = nextUid();
      const fresh = nextUid();
      await repo().insertPending(pendingUser(), () => taken);
      const draws = [taken, taken, fresh];
      const row = await repo().insertPending(pendingUser(), () => draws.shift() ?? nextUid());
      expect(row.agoraUid).to.equal(fresh);
    });

    it('keeps agoraUids up to the maximum exactly', async function () {
      const max = AGORA_UID_MAX + 1 - randomInt(1, 1_000_000);
      const user = pendingUser();
      await repo().insertPending(user, () => max);
      expect((await repo().findByAccountKey(user.accountKey))?.agoraUid).to.equal(max);
    });

    it('takes over a pending row under the expected lease, keeping name, uid and attempt mark', async function () {
      const user = pendingUser();
      const row = await repo().insertPending(user, nextUid);
      expect(await repo().markCreationAttempted(user.accountKey, user.leaseId, at(1))).to.equal(true);
      const taken = await repo().takeOverPending(user.accountKey, user.leaseId, {
        leaseId: 'lease-2', leaseExpiresAt: at(200), passwordHash: 'hash-2', now: at(100),
      });
      expect(taken).to.deep.include({
        leaseId: 'lease-2', passwordHash: 'hash-2', chatUsername: row.chatUsername, agoraUid: row.agoraUid, status: 'pending',
      });
      expect(taken?.leaseExpiresAt?.getTime()).to.equal(at(200).getTime());
      expect(taken?.creationAttemptedAt?.getTime()).to.equal(at(1).getTime());
      expect(await repo().findByAccountKey(user.accountKey)).to.deep.equal(taken);
    });

    it('refuses a takeover under a stale lease id', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await repo().takeOverPending(user.accountKey, user.leaseId, { leaseId: 'lease-2', leaseExpiresAt: at(200), passwordHash: 'h2', now: at(100) });
      const second = await repo().takeOverPending(user.accountKey, user.leaseId, { leaseId: 'lease-3', leaseExpiresAt: at(300), passwordHash: 'h3', now: at(100) });
      expect(second).to.equal(undefined);
      expect((await repo().findByAccountKey(user.accountKey))?.leaseId).to.equal('lease-2');
    });

    it('lets exactly one of concurrent takeovers win', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => repo().takeOverPending(user.accountKey, user.leaseId, {
        leaseId: `lease-${i}`, leaseExpiresAt: at(200), passwordHash: `h${i}`, now: at(100),
      })));
      const winners = results.filter((r) => r !== undefined);
      expect(winners).to.have.length(1);
      expect((await repo().findByAccountKey(user.accountKey))?.leaseId).to.equal(winners[0]?.leaseId);
    });

    it('never takes over an active row or an unknown key', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await repo().activate(user.accountKey, user.leaseId, uniqueName('uuid'), at(2));
      expect(await repo().takeOverPending(user.accountKey, user.leaseId, { leaseId: 'x', leaseExpiresAt: at(9), passwordHash: 'h', now: at(3) })).to.equal(undefined);
      expect(await repo().takeOverPending(uniqueName('none'), 'x', { leaseId: 'y', leaseExpiresAt: at(9), passwordHash: 'h', now: at(3) })).to.equal(undefined);
    });

    it('keeps the first creation attempt time when marked again', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await repo().markCreationAttempted(user.accountKey, user.leaseId, at(1));
      expect(await repo().markCreationAttempted(user.accountKey, user.leaseId, at(5))).to.equal(true);
      expect((await repo().findByAccountKey(user.accountKey))?.creationAttemptedAt?.getTime()).to.equal(at(1).getTime());
    });

    it('marks, ends leases and activates only under the owning lease', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      expect(await repo().markCreationAttempted(user.accountKey, 'other', at(1))).to.equal(false);
      expect(await repo().endLease(user.accountKey, 'other', at(1))).to.equal(false);
      expect(await repo().activate(user.accountKey, 'other', 'uuid', at(1))).to.equal(undefined);
      expect(await repo().deletePending(user.accountKey, 'other')).to.equal(false);
      expect(await repo().findByAccountKey(user.accountKey)).to.deep.include({ status: 'pending', creationAttemptedAt: null });
    });

    it('ends a lease at the given time', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      expect(await repo().endLease(user.accountKey, user.leaseId, at(7))).to.equal(true);
      expect((await repo().findByAccountKey(user.accountKey))?.leaseExpiresAt?.getTime()).to.equal(at(7).getTime());
    });

    it('activates with the chat uuid, clears the lease and is found by uuid', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      const uuid = uniqueName('uuid');
      const active = await repo().activate(user.accountKey, user.leaseId, uuid, at(3));
      expect(active).to.deep.include({ status: 'active', chatUuid: uuid, leaseId: null, leaseExpiresAt: null });
      expect(active?.updatedAt.getTime()).to.equal(at(3).getTime());
      expect(await repo().findByChatUuid(uuid)).to.deep.equal(active);
      expect(await repo().activate(user.accountKey, user.leaseId, uuid, at(4))).to.equal(undefined);
    });

    it('refuses to activate with a chat uuid another row holds, with chat_username_taken', async function () {
      const first = pendingUser();
      const second = pendingUser();
      await repo().insertPending(first, nextUid);
      await repo().insertPending(second, nextUid);
      const uuid = uniqueName('uuid');
      await repo().activate(first.accountKey, first.leaseId, uuid, at(1));
      await expectCode(repo().activate(second.accountKey, second.leaseId, uuid, at(2)), 'chat_username_taken');
      expect(await repo().findByAccountKey(second.accountKey)).to.have.property('status', 'pending');
    });

    it('refuses agoraUids outside 1..AGORA_UID_MAX with a RangeError, storing nothing', async function () {
      for (const bad of [0, -1, AGORA_UID_MAX + 1, 1.5]) {
        const user = pendingUser();
        let error: unknown;
        await repo().insertPending(user, () => bad).catch((err: unknown) => { error = err; });
        expect(error, String(bad)).to.be.instanceOf(RangeError);
        expect(await repo().findByAccountKey(user.accountKey)).to.equal(undefined);
      }
    });

    it('activates after the lease expired when nobody took the row over', async function () {
      const user = pendingUser({ leaseExpiresAt: at(1) });
      await repo().insertPending(user, nextUid);
      expect(await repo().activate(user.accountKey, user.leaseId, uniqueName('uuid'), at(500))).to.have.property('status', 'active');
    });

    it('deletes a pending row under its lease, never an active one', async function () {
      const pending = pendingUser();
      await repo().insertPending(pending, nextUid);
      expect(await repo().deletePending(pending.accountKey, pending.leaseId)).to.equal(true);
      expect(await repo().findByAccountKey(pending.accountKey)).to.equal(undefined);
      const active = pendingUser();
      await repo().insertPending(active, nextUid);
      await repo().activate(active.accountKey, active.leaseId, uniqueName('uuid'), at(1));
      expect(await repo().deletePending(active.accountKey, active.leaseId)).to.equal(false);
      expect(await repo().findByAccountKey(active.accountKey)).to.have.property('status', 'active');
    });

    it('frees the account key and chat username of a deleted reservation', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await repo().deletePending(user.accountKey, user.leaseId);
      const again = await repo().insertPending({ ...pendingUser(), accountKey: user.accountKey, chatUsername: user.chatUsername }, nextUid);
      expect(again.accountKey).to.equal(user.accountKey);
    });

    it('replaces the password hash', async function () {
      const user = pendingUser();
      await repo().insertPending(user, nextUid);
      await repo().activate(user.accountKey, user.leaseId, uniqueName('uuid'), at(1));
      await repo().updatePasswordHash(user.accountKey, 'hash-new', at(9));
      const row = await repo().findByAccountKey(user.accountKey);
      expect(row?.passwordHash).to.equal('hash-new');
      expect(row?.updatedAt.getTime()).to.equal(at(9).getTime());
    });

    it('compares account keys exactly and keeps unicode intact', async function () {
      const base = uniqueName('k');
      const key = `${base}-ünïcødé-😀-日本`;
      const user = pendingUser({ accountKey: key, account: `${base}-ÜNÏCØDÉ-😀-日本` });
      await repo().insertPending(user, nextUid);
      expect((await repo().findByAccountKey(key))?.account).to.equal(user.account);
      expect(await repo().findByAccountKey(key.toUpperCase())).to.equal(undefined);
      expect(await repo().findByAccountKey(`${key} `)).to.equal(undefined);
    });

    it('inserts an imported user as active with the uid it keeps', async function () {
      const user = activeUser({ agoraUid: nextUid() });
      const row = await repo().insertActive(user, () => { throw new Error('must not draw'); });
      expect(row).to.deep.include({
        account: user.account, accountKey: user.accountKey, passwordHash: 'hash-imported', chatUsername: user.chatUsername,
        chatUuid: user.chatUuid, agoraUid: user.agoraUid, status: 'active', leaseId: null, leaseExpiresAt: null, creationAttemptedAt: null,
      });
      expect(await repo().findByAccountKey(user.accountKey)).to.deep.equal(row);
      expect(await repo().findByChatUuid(user.chatUuid)).to.deep.equal(row);
    });

    it('keeps an imported uid above 2^31, and draws one when the user brings none', async function () {
      const high = randomInt(2 ** 31, 2 ** 32);
      expect((await repo().insertActive(activeUser({ agoraUid: high }), nextUid)).agoraUid).to.equal(high);
      const drawn = nextUid();
      expect((await repo().insertActive(activeUser(), () => drawn)).agoraUid).to.equal(drawn);
    });

    it('draws a free uid when the imported one is taken', async function () {
      const taken = nextUid();
      await repo().insertPending(pendingUser(), () => taken);
      const fresh = nextUid();
      const row = await repo().insertActive(activeUser({ agoraUid: taken }), () => fresh);
      expect(row.agoraUid).to.equal(fresh);
    });

    it('refuses to import over an existing account, chat username or chat uuid, storing nothing', async function () {
      const existing = activeUser();
      await repo().insertActive(existing, nextUid);
      await expectCode(repo().insertActive(activeUser({ accountKey: existing.accountKey }), nextUid), 'account_exists');
      const sameName = activeUser({ chatUsername: existing.chatUsername });
      await expectCode(repo().insertActive(sameName, nextUid), 'chat_username_taken');
      const sameUuid = activeUser({ chatUuid: existing.chatUuid });
      await expectCode(repo().insertActive(sameUuid, nextUid), 'chat_username_taken');
      expect(await repo().findByAccountKey(sameName.accountKey)).to.equal(undefined);
      expect(await repo().findByAccountKey(sameUuid.accountKey)).to.equal(undefined);
      const pending = pendingUser();
      await repo().insertPending(pending, nextUid);
      await expectCode(repo().insertActive(activeUser({ accountKey: pending.accountKey }), nextUid), 'account_exists');
    });

    it('refuses an imported uid outside 1..2^32-1 with a RangeError, storing nothing', async function () {
      for (const bad of [0, 2 ** 32, 1.5]) {
        const user = activeUser({ agoraUid: bad });
        let error: unknown;
        await repo().insertActive(user, nextUid).catch((err: unknown) => { error = err; });
        expect(error, String(bad)).to.be.instanceOf(RangeError);
        expect(await repo().findByAccountKey(user.accountKey)).to.equal(undefined);
      }
    });

    it('inserts many pending rows, each with its own outcome, and records a creation attempt given with the insert', async function () {
      const existing = pendingUser();
      await repo().insertPending(existing, nextUid);
      const fine = pendingUser({ creationAttemptedAt: at(5) });
      const sameKey = { ...pendingUser(), accountKey: existing.accountKey };
      const sameName = pendingUser({ chatUsername: existing.chatUsername });
      const alsoFine = pendingUser();
      const results = await repo().insertPendingMany([fine, sameKey, sameName, alsoFine], nextUid);
      expect(results).to.have.length(4);
      expect(results[0]).to.deep.include({ accountKey: fine.accountKey, status: 'pending' });
      expect((results[0] as { creationAttemptedAt: Date }).creationAttemptedAt.getTime()).to.equal(at(5).getTime());
      expect(results[1]).to.have.property('code', 'account_exists');
      expect(results[2]).to.have.property('code', 'chat_username_taken');
      expect(results[3]).to.deep.include({ accountKey: alsoFine.accountKey, creationAttemptedAt: null });
      expect(await repo().findByAccountKey(fine.accountKey)).to.deep.equal(results[0]);
      expect(await repo().findByAccountKey(sameName.accountKey)).to.equal(undefined);
      expect(await repo().findByAccountKey(alsoFine.accountKey)).to.deep.equal(results[3]);
    });

    it('activates many rows, each with its own outcome', async function () {
      const [a, b, c] = [pendingUser(), pendingUser(), pendingUser()];
      for (const user of [a, b, c]) await repo().insertPending(user, nextUid);
      const held = uniqueName('uuid');
      await repo().insertActive(activeUser({ chatUuid: held }), nextUid);
      const results = await repo().activateMany([
        { accountKey: a.accountKey, leaseId: a.leaseId, chatUuid: uniqueName('uuid') },
        { accountKey: b.accountKey, leaseId: 'not-its-lease', chatUuid: uniqueName('uuid') },
        { accountKey: c.accountKey, leaseId: c.leaseId, chatUuid: held },
      ], at(3));
      expect(results[0]).to.deep.include({ accountKey: a.accountKey, status: 'active', leaseId: null });
      expect(results[1]).to.equal(undefined);
      expect(results[2]).to.have.property('code', 'chat_username_taken');
      expect(await repo().findByAccountKey(a.accountKey)).to.deep.equal(results[0]);
      expect(await repo().findByAccountKey(b.accountKey)).to.have.property('status', 'pending');
      expect(await repo().findByAccountKey(c.accountKey)).to.have.property('status', 'pending');
    });
  });
}
