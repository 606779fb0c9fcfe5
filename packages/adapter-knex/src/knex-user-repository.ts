import {
  AccountExistsError,
  ChatUsernameTakenError,
  AGORA_UID_MAX,
  hasCode,
  isDomainError,
  isValidAgoraUid,
  type Activation,
  type NewActiveUser,
  type NewPendingUser,
  type PasswordChange,
  type StatusChange,
  type Takeover,
  type UserListQuery,
  type UserRecord,
  type UserRepository,
  type UserStatus,
} from '@chat-app-server/core';
import type { Knex } from 'knex';
import { reportingOutages, usersUniqueViolation } from './db-errors.js';
import { assertStorableText, isStorableText, MAX_INDEXED_TEXT_LENGTH } from './storable-text.js';
import { toEpochMs, toUserRecord, USER_COLUMNS, type UserRow } from './user-row.js';

/** Options of {@link KnexUserRepository}. */
export interface KnexUserRepositoryOptions {
  /**
   * How many agoraUids `insertPending` draws before giving up when every drawn one is taken.
   * @default 10
   */
  readonly maxAgoraUidDraws?: number;
}

const TABLE = 'users';

/**
 * A {@link UserRepository} on a Knex instance (SQLite or PostgreSQL) migrated with {@link migrateLatest}.
 * Every state change is one conditional statement (compare-and-swap on status and lease), so concurrent
 * callers on any number of server instances see the port's guarantees without transactions.
 *
 * Text the database could not store exactly (NUL, unpaired surrogates, over-long indexed values) is
 * rejected on writes with `InvalidRequestError`; lookups with such text find nothing.
 */
export class KnexUserRepository implements UserRepository {
  private readonly maxAgoraUidDraws: number;

  constructor(
    private readonly knex: Knex,
    options: KnexUserRepositoryOptions = {},
  ) {
    this.maxAgoraUidDraws = Math.max(5, options.maxAgoraUidDraws ?? 10);
  }

  async findByAccountKey(accountKey: string): Promise<UserRecord | undefined> {
    return this.findBy('account_key', accountKey);
  }

  async findByChatUsername(chatUsername: string): Promise<UserRecord | undefined> {
    return this.findBy('chat_username', chatUsername);
  }

  async findByChatUuid(chatUuid: string): Promise<UserRecord | undefined> {
    return this.findBy('chat_uuid', chatUuid);
  }

  async insertPending(user: NewPendingUser, drawAgoraUid: () => number): Promise<UserRecord> {
    assertStorableText('account', user.account);
    assertStorableText('account', user.accountKey, MAX_INDEXED_TEXT_LENGTH);
    assertStorableText('chatUsername', user.chatUsername, MAX_INDEXED_TEXT_LENGTH);
    assertStorableText('leaseId', user.leaseId);
    if (user.passwordHash !== null) assertStorableText('passwordHash', user.passwordHash);
    return this.insertRow(user.accountKey, undefined, drawAgoraUid, pendingRow(user));
  }

  async insertPendingMany(users: readonly NewPendingUser[], drawAgoraUid: () => number): Promise<Array<UserRecord | Error>> {
    // One INSERT for the batch, skipping any row that meets a unique constraint: one commit, not one
    // per row. The skipped ones then go through insertPending, which says why (or draws another uid).
    const valid = users.filter((user) => isStorableNewUser(user));
    const inserted = new Map<string, UserRecord>();
    const uids = valid.map(() => drawAgoraUid());
    // A bad uid (or text the database cannot store) is refused row by row below, with its own error.
    if (valid.length > 0 && uids.every(isValidAgoraUid)) {
      const rows = await this.knex(TABLE)
        .insert(valid.map((user, i) => ({ ...pendingRow(user), agora_uid: uids[i]! })))
        .onConflict()
        .ignore()
        .returning(USER_COLUMNS);
      for (const row of rows as UserRow[]) inserted.set(row.account_key, toUserRecord(row));
    }
    const results: Array<UserRecord | Error> = [];
    for (const user of users) {
      const row = inserted.get(user.accountKey);
      results.push(row && row.leaseId === user.leaseId ? row : await this.insertPending(user, drawAgoraUid).catch(ownOutcome));
    }
    return results;
  }

  async activateMany(rows: readonly Activation[], at: Date): Promise<Array<UserRecord | undefined | Error>> {
    const valid = rows.filter((r) => isStorableText(r.accountKey) && isStorableText(r.leaseId) && isStorableText(r.chatUuid, MAX_INDEXED_TEXT_LENGTH));
    let activated: Map<string, UserRecord> | undefined;
    if (valid.length > 0) {
      try {
        // One UPDATE for the batch; each row still only under its own lease (the compare-and-swap).
        const uuid = this.knex.raw(`case ?? ${valid.map(() => 'when ? then ?').join(' ')} end`, [
          'account_key', ...valid.flatMap((r) => [r.accountKey, r.chatUuid]),
        ]);
        const updated = await this.knex(TABLE)
          .where('status', 'pending')
          .whereIn(['account_key', 'lease_id'], valid.map((r) => [r.accountKey, r.leaseId]))
          .update({ status: 'active', chat_uuid: uuid, lease_id: null, lease_expires_at: null, updated_at: toEpochMs(at) })
          .returning(USER_COLUMNS);
        activated = new Map((updated as UserRow[]).map((row) => [row.account_key, toUserRecord(row)]));
      } catch (err) {
        // A uuid that another row holds fails the whole statement: then row by row, so only that row fails.
        if (usersUniqueViolation(err) !== 'chat_uuid') throw err;
      }
    }
    const results: Array<UserRecord | undefined | Error> = [];
    for (const r of rows) {
      results.push(activated ? activated.get(r.accountKey) : await this.activate(r.accountKey, r.leaseId, r.chatUuid, at).catch(ownOutcome));
    }
    return results;
  }

  async insertActive(user: NewActiveUser, drawAgoraUid: () => number): Promise<UserRecord> {
    assertStorableText('userAccount', user.account);
    assertStorableText('userAccount', user.accountKey, MAX_INDEXED_TEXT_LENGTH);
    assertStorableText('chatUsername', user.chatUsername, MAX_INDEXED_TEXT_LENGTH);
    assertStorableText('chatUuid', user.chatUuid, MAX_INDEXED_TEXT_LENGTH);
    if (user.passwordHash !== null) assertStorableText('passwordHash', user.passwordHash);
    const now = toEpochMs(user.now);
    return this.insertRow(user.accountKey, user.agoraUid, drawAgoraUid, {
      account: user.account,
      account_key: user.accountKey,
      password_hash: user.passwordHash,
      chat_username: user.chatUsername,
      chat_uuid: user.chatUuid,
      status: 'active' satisfies UserStatus,
      lease_id: null,
      lease_expires_at: null,
      creation_attempted_at: null,
      tokens_not_before: 0,
      created_at: now,
      updated_at: now,
    });
  }

  // One INSERT per try: with `wantedUid` first (when given), then drawn uids while the uid is taken.
  private async insertRow(
    accountKey: string, wantedUid: number | undefined, drawAgoraUid: () => number, base: Omit<UserRow, 'agora_uid'>,
  ): Promise<UserRecord> {
    for (let draw = wantedUid === undefined ? 1 : 0; ; draw++) {
      const agoraUid = draw === 0 ? wantedUid! : drawAgoraUid();
      if (!isValidAgoraUid(agoraUid)) {
        throw new RangeError(`${draw === 0 ? 'agoraUid' : 'drawAgoraUid returned'} ${agoraUid}, not an integer in 1..${AGORA_UID_MAX}.`);
      }
      try {
        const [row] = await this.knex(TABLE).insert({ ...base, agora_uid: agoraUid }).returning(USER_COLUMNS);
        return toUserRecord(row as UserRow);
      } catch (err) {
        const column = usersUniqueViolation(err);
        if (column === 'agora_uid' && draw < this.maxAgoraUidDraws) continue;
        if (column === 'agora_uid') throw new Error(`No free agoraUid after ${draw} draws.`, { cause: err });
        if (column === 'account_key') throw new AccountExistsError();
        if (column === 'chat_username' || column === 'chat_uuid') {
          // Which unique index fails first is up to the database: report the account as existing
          // whenever it does, as the port promises, and the chat user only for a stranger's row.
          if (await this.findByAccountKey(accountKey)) throw new AccountExistsError();
          throw new ChatUsernameTakenError();
        }
        throw err;
      }
    }
  }

  async takeOverPending(accountKey: string, expectedLeaseId: string, takeover: Takeover): Promise<UserRecord | undefined> {
    if (!isStorableText(accountKey) || !isStorableText(expectedLeaseId)) return undefined;
    assertStorableText('leaseId', takeover.leaseId);
    if (takeover.passwordHash !== null) assertStorableText('passwordHash', takeover.passwordHash);
    const [row] = await this.pendingUnder(accountKey, expectedLeaseId)
      .update({
        lease_id: takeover.leaseId,
        lease_expires_at: toEpochMs(takeover.leaseExpiresAt),
        password_hash: takeover.passwordHash,
        updated_at: toEpochMs(takeover.now),
      })
      .returning(USER_COLUMNS);
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  async markCreationAttempted(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    if (!isStorableText(accountKey) || !isStorableText(leaseId)) return false;
    const ms = toEpochMs(at);
    // COALESCE keeps the first attempt's time: it is what tells a later takeover that a chat user may exist.
    const count = await this.pendingUnder(accountKey, leaseId).update({
      creation_attempted_at: this.knex.raw('coalesce(??, ?)', ['creation_attempted_at', ms]),
      updated_at: ms,
    });
    return count > 0;
  }

  async endLease(accountKey: string, leaseId: string, at: Date): Promise<boolean> {
    if (!isStorableText(accountKey) || !isStorableText(leaseId)) return false;
    const ms = toEpochMs(at);
    const count = await this.pendingUnder(accountKey, leaseId).update({ lease_expires_at: ms, updated_at: ms });
    return count > 0;
  }

  async activate(accountKey: string, leaseId: string, chatUuid: string, at: Date): Promise<UserRecord | undefined> {
    if (!isStorableText(accountKey) || !isStorableText(leaseId)) return undefined;
    assertStorableText('chatUuid', chatUuid, MAX_INDEXED_TEXT_LENGTH);
    try {
      const [row] = await this.pendingUnder(accountKey, leaseId)
        .update({ status: 'active' satisfies UserStatus, chat_uuid: chatUuid, lease_id: null, lease_expires_at: null, updated_at: toEpochMs(at) })
        .returning(USER_COLUMNS);
      return row === undefined ? undefined : toUserRecord(row as UserRow);
    } catch (err) {
      if (usersUniqueViolation(err) === 'chat_uuid') throw new ChatUsernameTakenError();
      throw err;
    }
  }

  async deletePending(accountKey: string, leaseId: string): Promise<boolean> {
    if (!isStorableText(accountKey) || !isStorableText(leaseId)) return false;
    return (await this.pendingUnder(accountKey, leaseId).delete()) > 0;
  }

  async updatePasswordHash(accountKey: string, passwordHash: string, at: Date, previousHash?: string): Promise<void> {
    assertStorableText('passwordHash', passwordHash);
    if (!isStorableText(accountKey) || (previousHash !== undefined && !isStorableText(previousHash))) return;
    const query = this.knex(TABLE).where('account_key', accountKey);
    if (previousHash !== undefined) query.where('password_hash', previousHash);
    await query.update({ password_hash: passwordHash, updated_at: toEpochMs(at) });
  }

  async changePassword(accountKey: string, change: PasswordChange): Promise<UserRecord | undefined> {
    assertStorableText('passwordHash', change.passwordHash);
    if (!isStorableText(accountKey) || !isStorableText(change.previousHash)) return undefined;
    const [row] = await this.knex(TABLE)
      .where({ account_key: accountKey, status: 'active', password_hash: change.previousHash })
      .update({ password_hash: change.passwordHash, ...this.raiseBoundary(change.tokensNotBefore), updated_at: toEpochMs(change.at) })
      .returning(USER_COLUMNS);
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  async revokeTokens(accountKey: string, tokensNotBefore: number, at: Date): Promise<UserRecord | undefined> {
    if (!isStorableText(accountKey)) return undefined;
    const [row] = await this.knex(TABLE)
      .where('account_key', accountKey)
      .update({ ...this.raiseBoundary(tokensNotBefore), updated_at: toEpochMs(at) })
      .returning(USER_COLUMNS);
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  async changeStatus(accountKey: string, change: StatusChange): Promise<UserRecord | undefined> {
    const settled = change.from.filter((status) => status !== 'pending');
    // A pending row moves only under its lease: another registration attempt may own it.
    const leaseId = change.from.includes('pending') && change.leaseId !== undefined && isStorableText(change.leaseId) ? change.leaseId : undefined;
    if (!isStorableText(accountKey) || (settled.length === 0 && leaseId === undefined)) return undefined;
    const [row] = await this.knex(TABLE)
      .where('account_key', accountKey)
      .where((where) => {
        if (settled.length > 0) where.whereIn('status', settled);
        if (leaseId !== undefined) where.orWhere({ status: 'pending', lease_id: leaseId });
      })
      .update({
        status: change.to,
        lease_id: null,
        lease_expires_at: null,
        ...(change.tokensNotBefore === undefined ? {} : this.raiseBoundary(change.tokensNotBefore)),
        updated_at: toEpochMs(change.at),
      })
      .returning(USER_COLUMNS);
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  async deleteDeleting(accountKey: string): Promise<boolean> {
    if (!isStorableText(accountKey)) return false;
    return (await this.knex(TABLE).where({ account_key: accountKey, status: 'deleting' }).delete()) > 0;
  }

  async list(query: UserListQuery): Promise<UserRecord[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 1000) throw new RangeError('limit must be an integer from 1 to 1000.');
    const select = this.knex(TABLE).select(USER_COLUMNS).orderBy('account_key').limit(query.limit);
    if (query.status !== undefined) select.where('status', query.status);
    if (query.afterAccountKey !== undefined) {
      if (!isStorableText(query.afterAccountKey)) return [];
      select.where('account_key', '>', query.afterAccountKey);
    }
    const rows = (await select) as UserRow[];
    return rows.map(toUserRecord);
  }

  private async findBy(column: 'account_key' | 'chat_username' | 'chat_uuid', value: string): Promise<UserRecord | undefined> {
    // Such a value was never stored (see insertPending), and PostgreSQL would reject a NUL parameter.
    if (!isStorableText(value, MAX_INDEXED_TEXT_LENGTH)) return undefined;
    const row = await this.knex(TABLE).select(USER_COLUMNS).where(column, value).first();
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  // Raises, never lowers: a late, older revocation must not undo a newer one.
  private raiseBoundary(tokensNotBefore: number): { tokens_not_before: Knex.Raw } {
    if (!Number.isSafeInteger(tokensNotBefore) || tokensNotBefore < 0) throw new RangeError('tokensNotBefore must be a whole number of seconds.');
    return {
      tokens_not_before: this.knex.raw('case when ?? < ? then ? else ?? end', ['tokens_not_before', tokensNotBefore, tokensNotBefore, 'tokens_not_before']),
    };
  }

  // The compare-and-swap condition of every lease-guarded change.
  private pendingUnder(accountKey: string, leaseId: string) {
    return this.knex(TABLE).where({ account_key: accountKey, status: 'pending' satisfies UserStatus, lease_id: leaseId });
  }

}

// An outage fails every call of the repository the same way (the methods' errors pass through toDatabaseError).
reportingOutages(KnexUserRepository);

// A row's own refusal is its outcome; anything else (the database is gone) fails the whole batch.
function ownOutcome(err: unknown): Error {
  if (hasCode(err, 'database_unavailable')) throw err;
  if (isDomainError(err) || err instanceof RangeError) return err;
  throw err;
}

function pendingRow(user: NewPendingUser): Omit<UserRow, 'agora_uid'> {
  const now = toEpochMs(user.now);
  return {
    account: user.account,
    account_key: user.accountKey,
    password_hash: user.passwordHash,
    chat_username: user.chatUsername,
    chat_uuid: null,
    status: 'pending' satisfies UserStatus,
    lease_id: user.leaseId,
    lease_expires_at: toEpochMs(user.leaseExpiresAt),
    creation_attempted_at: user.creationAttemptedAt ? toEpochMs(user.creationAttemptedAt) : null,
    tokens_not_before: 0,
    created_at: now,
    updated_at: now,
  };
}

// What insertPending would accept without a database error of its own.
function isStorableNewUser(user: NewPendingUser): boolean {
  return isStorableText(user.account) && isStorableText(user.accountKey, MAX_INDEXED_TEXT_LENGTH)
    && isStorableText(user.chatUsername, MAX_INDEXED_TEXT_LENGTH) && isStorableText(user.leaseId)
    && (user.passwordHash === null || isStorableText(user.passwordHash));
}
