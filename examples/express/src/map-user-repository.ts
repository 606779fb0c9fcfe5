// Your own storage behind core's UserRepository port: a Map here, your ORM in a real backend.
// test/map-user-repository.test.ts runs core's contract kit on it: an adapter that passes is interchangeable.
import {
  AccountExistsError, ChatUsernameTakenError, isDomainError, isValidAgoraUid, type Activation, type NewActiveUser, type NewPendingUser,
  type Takeover, type UserRecord, type UserRepository,
} from '@chat-app-server/core';

export class MapUserRepository implements UserRepository {
  /** @param rows the storage, by account key (tests pass their own to read it back) */
  constructor(private readonly rows = new Map<string, UserRecord>()) {}

  async findByAccountKey(accountKey: string): Promise<UserRecord | undefined> {
    return this.rows.get(accountKey);
  }

  async findByChatUsername(chatUsername: string): Promise<UserRecord | undefined> {
    return this.find((r) => r.chatUsername === chatUsername);
  }

  async findByChatUuid(chatUuid: string): Promise<UserRecord | undefined> {
    return this.find((r) => r.chatUuid === chatUuid);
  }

  async insertPending(user: NewPendingUser, drawAgoraUid: () => number): Promise<UserRecord> {
    if (this.rows.has(user.accountKey)) throw new AccountExistsError();
    if (this.find((r) => r.chatUsername === user.chatUsername)) throw new ChatUsernameTakenError();
    const agoraUid = this.freeAgoraUid(drawAgoraUid);
    const { now, creationAttemptedAt, ...fields } = user;
    const row: UserRecord = {
      ...fields, agoraUid, chatUuid: null, status: 'pending', creationAttemptedAt: creationAttemptedAt ?? null, createdAt: now, updatedAt: now,
    };
    this.rows.set(user.accountKey, row);
    return row;
  }

  // A store with transactions would write a batch in one; a Map has nothing to save.
  async insertPendingMany(users: readonly NewPendingUser[], drawAgoraUid: () => number): Promise<Array<UserRecord | Error>> {
    return Promise.all(users.map((user) => this.insertPending(user, drawAgoraUid).catch(ownOutcome)));
  }

  async insertActive(user: NewActiveUser, drawAgoraUid: () => number): Promise<UserRecord> {
    if (user.agoraUid !== undefined && !isValidAgoraUid(user.agoraUid)) throw new RangeError(`agoraUid ${user.agoraUid} is not an integer in 1..2^32-1.`);
    if (this.rows.has(user.accountKey)) throw new AccountExistsError();
    if (this.find((r) => r.chatUsername === user.chatUsername || r.chatUuid === user.chatUuid)) throw new ChatUsernameTakenError();
    const wanted = user.agoraUid;
    const agoraUid = wanted !== undefined && !this.find((r) => r.agoraUid === wanted) ? wanted : this.freeAgoraUid(drawAgoraUid);
    const { now, agoraUid: _wanted, ...fields } = user;
    const row: UserRecord = {
      ...fields, agoraUid, status: 'active', leaseId: null, leaseExpiresAt: null, creationAttemptedAt: null, createdAt: now, updatedAt: now,
    };
    this.rows.set(user.accountKey, row);
    return row;
  }

  async takeOverPending(accountKey: string, expectedLeaseId: string, t: Takeover): Promise<UserRecord | undefined> {
    return this.updatePending(accountKey, expectedLeaseId, {
      leaseId: t.leaseId, leaseExpiresAt: t.leaseExpiresAt, passwordHash: t.passwordHash, updatedAt: t.now,
    });
  }

  async markCreationAttempted(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    const first = this.rows.get(accountKey)?.creationAttemptedAt ?? at;
    return this.updatePending(accountKey, leaseId, { creationAttemptedAt: first, updatedAt: at }) !== undefined;
  }

  async endLease(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    return this.updatePending(accountKey, leaseId, { leaseExpiresAt: at, updatedAt: at }) !== undefined;
  }

  async activate(accountKey: string, leaseId: string, chatUuid: string, at: Date): Promise<UserRecord | undefined> {
    if (this.find((r) => r.chatUuid === chatUuid && r.accountKey !== accountKey)) throw new ChatUsernameTakenError();
    return this.updatePending(accountKey, leaseId, { status: 'active', chatUuid, leaseId: null, leaseExpiresAt: null, updatedAt: at });
  }

  async activateMany(rows: readonly Activation[], at: Date): Promise<Array<UserRecord | undefined | Error>> {
    return Promise.all(rows.map((r) => this.activate(r.accountKey, r.leaseId, r.chatUuid, at).catch(ownOutcome)));
  }

  async deletePending(accountKey: string, leaseId: string): Promise<boolean> {
    return this.pendingUnder(accountKey, leaseId) !== undefined && this.rows.delete(accountKey);
  }

  async updatePasswordHash(accountKey: string, passwordHash: string, at: Date): Promise<void> {
    const row = this.rows.get(accountKey);
    if (row) this.rows.set(accountKey, { ...row, passwordHash, updatedAt: at });
  }

  private freeAgoraUid(draw: () => number): number {
    for (let draws = 0; draws < 10; draws++) {
      const uid = draw();
      if (!isValidAgoraUid(uid)) throw new RangeError(`drawAgoraUid returned ${uid}, not an integer in 1..2^32-1.`);
      if (!this.find((r) => r.agoraUid === uid)) return uid;
    }
    throw new Error('No free agoraUid after 10 draws.');
  }

  private find(matches: (row: UserRecord) => boolean): UserRecord | undefined {
    for (const row of this.rows.values()) if (matches(row)) return row;
    return undefined;
  }

  private pendingUnder(accountKey: string, leaseId: string): UserRecord | undefined {
    const row = this.rows.get(accountKey);
    return row?.status === 'pending' && row.leaseId === leaseId ? row : undefined;
  }

  // Compare-and-swap: the change applies only while the row is pending under `leaseId`.
  private updatePending(accountKey: string, leaseId: string, changes: Partial<UserRecord>): UserRecord | undefined {
    const row = this.pendingUnder(accountKey, leaseId);
    if (!row) return undefined;
    const next = { ...row, ...changes };
    this.rows.set(accountKey, next);
    return next;
  }
}

// A row's own refusal is its outcome; anything else fails the whole call.
function ownOutcome(err: unknown): Error {
  if (isDomainError(err) || err instanceof RangeError) return err;
  throw err;
}
