import {
  AccountExistsError,
  ChatUsernameTakenError,
  isValidAgoraUid,
  type NewPendingUser,
  type Takeover,
  type UserRecord,
  type UserRepository,
  type UserStatus,
} from '@chat-app-server/core';
import type { Knex } from 'knex';
import { usersUniqueViolation } from './db-errors.js';
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
    const now = toEpochMs(user.now);
    const base = {
      account: user.account,
      account_key: user.accountKey,
      password_hash: user.passwordHash,
      chat_username: user.chatUsername,
      chat_uuid: null,
      status: 'pending' satisfies UserStatus,
      lease_id: user.leaseId,
      lease_expires_at: toEpochMs(user.leaseExpiresAt),
      creation_attempted_at: null,
      created_at: now,
      updated_at: now,
    };
    for (let draw = 1; ; draw++) {
      const agoraUid = drawAgoraUid();
      if (!isValidAgoraUid(agoraUid)) throw new RangeError(`drawAgoraUid returned ${agoraUid}, not an integer in 1..2^32-1.`);
      try {
        const [row] = await this.knex(TABLE).insert({ ...base, agora_uid: agoraUid }).returning(USER_COLUMNS);
        return toUserRecord(row as UserRow);
      } catch (err) {
        const column = usersUniqueViolation(err);
        if (column === 'agora_uid' && draw < this.maxAgoraUidDraws) continue;
        if (column === 'agora_uid') throw new Error(`No free agoraUid after ${draw} draws.`, { cause: err });
        if (column === 'account_key') throw new AccountExistsError();
        if (column === 'chat_username') {
          // Which unique index fails first is up to the database: report the account as existing
          // whenever it does, as the port promises, and the chat username only for a stranger's row.
          if (await this.findByAccountKey(user.accountKey)) throw new AccountExistsError();
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

  async updatePasswordHash(accountKey: string, passwordHash: string, at: Date): Promise<void> {
    assertStorableText('passwordHash', passwordHash);
    if (!isStorableText(accountKey)) return;
    await this.knex(TABLE).where('account_key', accountKey).update({ password_hash: passwordHash, updated_at: toEpochMs(at) });
  }

  private async findBy(column: 'account_key' | 'chat_username' | 'chat_uuid', value: string): Promise<UserRecord | undefined> {
    // Such a value was never stored (see insertPending), and PostgreSQL would reject a NUL parameter.
    if (!isStorableText(value, MAX_INDEXED_TEXT_LENGTH)) return undefined;
    const row = await this.knex(TABLE).select(USER_COLUMNS).where(column, value).first();
    return row === undefined ? undefined : toUserRecord(row as UserRow);
  }

  // The compare-and-swap condition of every lease-guarded change.
  private pendingUnder(accountKey: string, leaseId: string) {
    return this.knex(TABLE).where({ account_key: accountKey, status: 'pending' satisfies UserStatus, lease_id: leaseId });
  }
}
