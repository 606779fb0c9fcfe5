import { AGORA_UID_MAX, isValidAgoraUid } from '../domain/agora-uid.js';
import { AccountExistsError, ChatUsernameTakenError, isDomainError } from '../errors.js';
import type { Activation, NewActiveUser, NewPendingUser, Takeover, UserRecord, UserRepository } from '../ports/user-repository.js';

/** A {@link UserRepository} in a Map, for unit tests; it passes the same kit as the SQL adapters. */
export class InMemoryUserRepository implements UserRepository {
  private readonly rows = new Map<string, UserRecord>();
  /** When set, the next call of that method rejects with this error (fault injection). */
  readonly failNext: Partial<Record<keyof UserRepository, Error>> = {};

  all(): UserRecord[] {
    return [...this.rows.values()];
  }

  async findByAccountKey(accountKey: string): Promise<UserRecord | undefined> {
    this.fault('findByAccountKey');
    return this.rows.get(accountKey);
  }

  async findByChatUsername(chatUsername: string): Promise<UserRecord | undefined> {
    this.fault('findByChatUsername');
    return this.all().find((r) => r.chatUsername === chatUsername);
  }

  async findByChatUuid(chatUuid: string): Promise<UserRecord | undefined> {
    this.fault('findByChatUuid');
    return this.all().find((r) => r.chatUuid === chatUuid);
  }

  async insertPending(user: NewPendingUser, drawAgoraUid: () => number): Promise<UserRecord> {
    this.fault('insertPending');
    if (this.rows.has(user.accountKey)) throw new AccountExistsError();
    if (this.all().some((r) => r.chatUsername === user.chatUsername)) throw new ChatUsernameTakenError();
    const agoraUid = this.freeAgoraUid(undefined, drawAgoraUid);
    const row: UserRecord = {
      account: user.account, accountKey: user.accountKey, passwordHash: user.passwordHash,
      chatUsername: user.chatUsername, chatUuid: null, agoraUid, status: 'pending',
      leaseId: user.leaseId, leaseExpiresAt: user.leaseExpiresAt, creationAttemptedAt: user.creationAttemptedAt ?? null,
      createdAt: user.now, updatedAt: user.now,
    };
    this.rows.set(user.accountKey, row);
    return row;
  }

  async insertPendingMany(users: readonly NewPendingUser[], drawAgoraUid: () => number): Promise<Array<UserRecord | Error>> {
    this.fault('insertPendingMany');
    const results: Array<UserRecord | Error> = [];
    for (const user of users) results.push(await this.insertPending(user, drawAgoraUid).catch(ownOutcome));
    return results;
  }

  async activateMany(rows: readonly Activation[], at: Date): Promise<Array<UserRecord | undefined | Error>> {
    this.fault('activateMany');
    const results: Array<UserRecord | undefined | Error> = [];
    for (const row of rows) results.push(await this.activate(row.accountKey, row.leaseId, row.chatUuid, at).catch(ownOutcome));
    return results;
  }

  async insertActive(user: NewActiveUser, drawAgoraUid: () => number): Promise<UserRecord> {
    this.fault('insertActive');
    if (user.agoraUid !== undefined && !isValidAgoraUid(user.agoraUid)) throw new RangeError(`agoraUid ${user.agoraUid} is not an integer in 1..${AGORA_UID_MAX}.`);
    if (this.rows.has(user.accountKey)) throw new AccountExistsError();
    if (this.all().some((r) => r.chatUsername === user.chatUsername || r.chatUuid === user.chatUuid)) throw new ChatUsernameTakenError();
    const row: UserRecord = {
      account: user.account, accountKey: user.accountKey, passwordHash: user.passwordHash,
      chatUsername: user.chatUsername, chatUuid: user.chatUuid, agoraUid: this.freeAgoraUid(user.agoraUid, drawAgoraUid),
      status: 'active', leaseId: null, leaseExpiresAt: null, creationAttemptedAt: null, createdAt: user.now, updatedAt: user.now,
    };
    this.rows.set(user.accountKey, row);
    return row;
  }

  async takeOverPending(accountKey: string, expectedLeaseId: string, t: Takeover): Promise<UserRecord | undefined> {
    this.fault('takeOverPending');
    return this.update(accountKey, expectedLeaseId, {
      leaseId: t.leaseId, leaseExpiresAt: t.leaseExpiresAt, passwordHash: t.passwordHash, updatedAt: t.now,
    });
  }

  async markCreationAttempted(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    this.fault('markCreationAttempted');
    const row = this.rows.get(accountKey);
    return !!this.update(accountKey, leaseId, { creationAttemptedAt: row?.creationAttemptedAt ?? at, updatedAt: at });
  }

  async endLease(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    this.fault('endLease');
    return !!this.update(accountKey, leaseId, { leaseExpiresAt: at, updatedAt: at });
  }

  async activate(accountKey: string, leaseId: string, chatUuid: string, at: Date): Promise<UserRecord | undefined> {
    this.fault('activate');
    if (this.all().some((r) => r.chatUuid === chatUuid && r.accountKey !== accountKey)) throw new ChatUsernameTakenError();
    return this.update(accountKey, leaseId, { status: 'active', chatUuid, leaseId: null, leaseExpiresAt: null, updatedAt: at });
  }

  async deletePending(accountKey: string, leaseId: string): Promise<boolean> {
    this.fault('deletePending');
    const row = this.rows.get(accountKey);
    if (!row || row.status !== 'pending' || row.leaseId !== leaseId) return false;
    return this.rows.delete(accountKey);
  }

  async updatePasswordHash(accountKey: string, passwordHash: string, at: Date): Promise<void> {
    this.fault('updatePasswordHash');
    const row = this.rows.get(accountKey);
    if (row) this.rows.set(accountKey, { ...row, passwordHash, updatedAt: at });
  }

  // `wanted` when free, otherwise drawn until free (10 draws at most).
  private freeAgoraUid(wanted: number | undefined, drawAgoraUid: () => number): number {
    const draw = () => {
      const uid = drawAgoraUid();
      if (!isValidAgoraUid(uid)) throw new RangeError(`drawAgoraUid returned ${uid}, not an integer in 1..${AGORA_UID_MAX}.`);
      return uid;
    };
    const taken = (uid: number) => this.all().some((r) => r.agoraUid === uid);
    if (wanted !== undefined && !taken(wanted)) return wanted;
    let agoraUid = draw();
    for (let draws = 1; taken(agoraUid); draws++) {
      if (draws >= 10) throw new Error('no free agoraUid after 10 draws');
      agoraUid = draw();
    }
    return agoraUid;
  }

  private update(accountKey: string, leaseId: string, changes: Partial<UserRecord>): UserRecord | undefined {
    const row = this.rows.get(accountKey);
    if (!row || row.status !== 'pending' || row.leaseId !== leaseId) return undefined;
    const next = { ...row, ...changes };
    this.rows.set(accountKey, next);
    return next;
  }

  private fault(method: keyof UserRepository): void {
    const err = this.failNext[method];
    if (err) {
      delete this.failNext[method];
      throw err;
    }
  }
}

// A row's own refusal is its outcome; anything else fails the whole call.
function ownOutcome(err: unknown): Error {
  if (isDomainError(err) || err instanceof RangeError) return err;
  throw err;
}
