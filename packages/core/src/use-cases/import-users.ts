import { drawAgoraUid as defaultDrawAgoraUid } from '../domain/agora-uid.js';
import { parseAccount } from '../domain/account.js';
import { isValidChatUsername } from '../domain/chat-username.js';
import { parsePresentedPassword } from '../domain/password.js';
import { hasCode, isDomainError } from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Clock } from '../ports/clock.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

/** A user of another server whose chat user exists already. */
export interface ImportUserItem {
  readonly account: string;
  /**
   * The user's password in plain text (Agora's sample servers stored it so): hashed with the server's
   * hasher. Only type and size are checked: the user keeps the password they have, even one shorter
   * than the minimum for new passwords. Absent: a user without a password (an embedding backend
   * authenticates it).
   */
  readonly password?: string;
  /** The existing chat user (Agora treats names case-insensitively: stored in lower case). */
  readonly chatUsername: string;
  /** The chat user's uuid when the source knows it; otherwise it is looked up at the chat service. */
  readonly chatUuid?: string;
  /** An RTC uid that clients already hold: kept when no other user has it, otherwise one is drawn. */
  readonly agoraUid?: number;
}

/** Why a user was not imported; stable codes for reports. */
export type ImportFailureReason =
  | 'invalid_account'
  | 'invalid_password'
  | 'invalid_chat_username'
  /** The chat service has no user with this name. */
  | 'chat_user_missing'
  /** The chat service's user has another uuid than the source says. */
  | 'chat_uuid_mismatch'
  /** This server has another user (or a registration in progress) with this account. */
  | 'account_exists'
  /** Another account of this server has this chat user. */
  | 'chat_user_taken'
  | 'chat_service_unavailable';

export type ImportUsersResult =
  | {
      readonly index: number;
      readonly account: string;
      readonly status: 'imported';
      /** `undefined` in a dry run. */
      readonly principal: Principal | undefined;
      /** The item's agoraUid was taken by another user: a new one was drawn. */
      readonly agoraUidRedrawn: boolean;
    }
  | { readonly index: number; readonly account: string; readonly status: 'present'; readonly principal: Principal }
  | { readonly index: number; readonly account: string; readonly status: 'failed'; readonly reason: ImportFailureReason; readonly message: string };

export interface ImportUsersProgress {
  readonly total: number;
  readonly done: number;
  readonly imported: number;
  readonly present: number;
  readonly failed: number;
}

export interface ImportUsersOptions {
  /** Confirm at the chat service that each chat user exists (and has the item's uuid) before importing it. */
  readonly verify?: boolean;
  /** Check everything (including the lookups), store and hash nothing. */
  readonly dryRun?: boolean;
  /** Users in flight at once (hashing, lookups, inserts). @default 8 */
  readonly concurrency?: number;
  /** Stops taking new users; those in flight finish, then the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly onResult?: (result: ImportUsersResult) => void;
  /** Called after each user, at most every `progressIntervalMs`, and at the end. */
  readonly onProgress?: (progress: ImportUsersProgress) => void;
  /** @default 200 */
  readonly progressIntervalMs?: number;
}

export interface ImportUsersDeps {
  users: UserRepository;
  chatProvisioner: ChatProvisioner;
  passwordHasher: PasswordHasher;
  clock: Clock;
  drawAgoraUid?: () => number;
}

// A row the import refuses, with its reason.
class Refused extends Error {
  constructor(readonly reason: ImportFailureReason, message: string) {
    super(message);
  }
}

/**
 * Brings over users of another server whose chat users exist already (Agora's sample servers): each
 * becomes an active user of this server that adopts its chat user, in one insert, so an interrupted
 * import leaves every user either imported whole or not at all. Idempotent: users imported already
 * come back as `present` and nothing is changed or looked up for them. The chat service is only read,
 * never written. One user's failure never stops the others.
 * @throws ChatServiceMisconfiguredError (the whole import is pointless with bad credentials)
 */
export class ImportUsers {
  constructor(private readonly deps: ImportUsersDeps) {}

  async execute(items: readonly ImportUserItem[], options: ImportUsersOptions = {}): Promise<ImportUsersResult[]> {
    const concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer.');
    options.signal?.throwIfAborted();
    const results: ImportUsersResult[] = new Array(items.length);
    const counts = { imported: 0, present: 0, failed: 0 };
    const interval = options.progressIntervalMs ?? 200;
    let lastProgress = 0;
    const progress = (force: boolean): void => {
      const now = Date.now();
      if (!options.onProgress || (!force && now - lastProgress < interval)) return;
      lastProgress = now;
      options.onProgress({ total: items.length, done: counts.imported + counts.present + counts.failed, ...counts });
    };

    let next = 0;
    let fatal: unknown;
    const worker = async (): Promise<void> => {
      while (next < items.length && !options.signal?.aborted && fatal === undefined) {
        const index = next++;
        let result: ImportUsersResult;
        try {
          result = await this.importOne(index, items[index]!, options);
        } catch (err) {
          fatal ??= err;
          return;
        }
        results[index] = result;
        counts[result.status]++;
        options.onResult?.(result);
        progress(false);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    if (fatal !== undefined) throw fatal;
    progress(true);
    options.signal?.throwIfAborted();
    return results;
  }

  private async importOne(index: number, item: ImportUserItem, options: ImportUsersOptions): Promise<ImportUsersResult> {
    const { account } = item;
    try {
      return await this.tryImport(index, item, options);
    } catch (err) {
      if (err instanceof Refused) return { index, account, status: 'failed', reason: err.reason, message: err.message };
      if (hasCode(err, 'chat_service_unavailable')) return { index, account, status: 'failed', reason: 'chat_service_unavailable', message: err.message };
      throw err;
    }
  }

  private async tryImport(index: number, item: ImportUserItem, options: ImportUsersOptions): Promise<ImportUsersResult> {
    const { users, chatProvisioner } = this.deps;
    const account = refuseInvalid('invalid_account', () => parseAccount(item.account));
    const password = item.password === undefined ? undefined : refuseInvalid('invalid_password', () => parsePresentedPassword(item.password));
    const chatUsername = typeof item.chatUsername === 'string' ? item.chatUsername.toLowerCase() : '';
    if (!isValidChatUsername(chatUsername)) {
      throw new Refused('invalid_chat_username', `"${String(item.chatUsername)}" is not a valid Agora Chat user name (1-64 of a-z 0-9 _ - .).`);
    }

    const existing = await users.findByAccountKey(account.accountKey);
    if (existing) return this.alreadyHere(index, item, existing, chatUsername);
    const holder = await users.findByChatUsername(chatUsername);
    if (holder) throw new Refused('chat_user_taken', `The chat user ${chatUsername} belongs to the account ${holder.account} here.`);

    let chatUuid = item.chatUuid;
    if (chatUuid === undefined || options.verify) {
      const found = await chatProvisioner.getUser(chatUsername);
      if (!found) throw new Refused('chat_user_missing', `Agora Chat has no user ${chatUsername}.`);
      if (chatUuid !== undefined && found.uuid !== chatUuid) {
        throw new Refused('chat_uuid_mismatch', `Agora Chat's user ${chatUsername} has the uuid ${found.uuid}, not ${chatUuid}.`);
      }
      chatUuid = found.uuid;
    }
    if (options.dryRun) return { index, account: item.account, status: 'imported', principal: undefined, agoraUidRedrawn: false };

    const passwordHash = password === undefined ? null : await this.deps.passwordHasher.hash(password);
    let row: UserRecord;
    try {
      row = await users.insertActive({
        account: account.account, accountKey: account.accountKey, passwordHash, chatUsername, chatUuid,
        ...(item.agoraUid === undefined ? {} : { agoraUid: item.agoraUid }),
        now: new Date(this.deps.clock.now()),
      }, this.deps.drawAgoraUid ?? defaultDrawAgoraUid);
    } catch (err) {
      if (hasCode(err, 'account_exists')) {
        // Inserted meanwhile (another run of the same import, or a registration): judge that row.
        const winner = await users.findByAccountKey(account.accountKey);
        if (winner) return this.alreadyHere(index, item, winner, chatUsername);
      }
      if (hasCode(err, 'chat_username_taken')) throw new Refused('chat_user_taken', `Another account here has the chat user ${chatUsername}.`);
      throw err;
    }
    const agoraUidRedrawn = item.agoraUid !== undefined && row.agoraUid !== item.agoraUid;
    return { index, account: item.account, status: 'imported', principal: principalOf(row), agoraUidRedrawn };
  }

  // The account has a row here: the same user imported before, or somebody else.
  private alreadyHere(index: number, item: ImportUserItem, row: UserRecord, chatUsername: string): ImportUsersResult {
    const same = row.status === 'active' && row.chatUsername === chatUsername && (item.chatUuid === undefined || row.chatUuid === item.chatUuid);
    if (same) return { index, account: item.account, status: 'present', principal: principalOf(row) };
    const what = row.status === 'active' ? `the chat user ${row.chatUsername}` : 'a registration in progress';
    throw new Refused('account_exists', `This server has the account ${row.account} already, with ${what}.`);
  }
}

function refuseInvalid<T>(reason: ImportFailureReason, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (isDomainError(err)) throw new Refused(reason, err.message);
    throw err;
  }
}
