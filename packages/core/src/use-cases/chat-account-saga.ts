import { randomBytes, randomUUID } from 'node:crypto';
import { drawAgoraUid } from '../domain/agora-uid.js';
import type { Account } from '../domain/account.js';
import {
  AccountExistsError, ChatServiceUnavailableError, ChatUserExistsError, ChatUsernameTakenError, hasCode,
  InvalidChatUsernameError, InvalidRequestError, isPortError,
} from '../errors.js';
import type { ChatProvisioner, ChatUserBatchResult } from '../ports/chat-provisioner.js';
import type { ChatUsernamePolicy } from '../ports/chat-username-policy.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { notify, type Observer, type RegistrationOutcome } from '../ports/observer.js';
import type { NewPendingUser, UserRecord, UserRepository } from '../ports/user-repository.js';

export interface ChatAccountSagaDeps {
  users: UserRepository;
  chatProvisioner: ChatProvisioner;
  chatUsernamePolicy: ChatUsernamePolicy;
  clock: Clock;
  logger?: Logger;
  /** Receives `registration` and `registration_takeover` events. */
  observer?: Observer;
  /** How long one attempt owns a pending row; longer than the provisioner's overall deadline. */
  leaseSeconds: number;
  /** Draws agoraUids; replaceable so tests can force collisions. */
  drawAgoraUid?: () => number;
}

/** Agora Chat's maximum number of users per batch registration. */
export const CHAT_BATCH_MAX = 60;

/** One account of a batch registration. */
export interface ChatAccountRequest {
  readonly account: Account;
  /** The chat username to register (it must pass Agora's rule); default: the username policy's. */
  readonly chatUsername?: string;
  /** What the caller has just read for this account (`null`: no row), to spare the read. */
  readonly found?: UserRecord | null;
}

/** How one account of a batch ended: its active row, or the error a single registration would throw. */
export type ChatAccountOutcome =
  | { readonly ok: true; readonly user: UserRecord; /** An earlier attempt had created the chat user. */ readonly adopted: boolean }
  | { readonly ok: false; readonly error: unknown };

// What the chat service said about one creation: the new user's uuid, or why not.
type Creation = { readonly uuid: string } | { readonly error: unknown };

/**
 * The registration saga (design section 4): reserve a pending row under a lease, record the
 * creation attempt, create the chat user, activate. Every failure leaves a row that the next
 * attempt can take over and finish, and never a chat user that belongs to nobody.
 */
export class ChatAccountSaga {
  constructor(private readonly deps: ChatAccountSagaDeps) {}

  /**
   * Reserves `account` (inserting a pending row or taking over one whose lease has expired), then
   * hashes its password under the reservation when `hashPassword` is given, and finishes it. The
   * reservation comes first: it is cheap and decided by the unique constraint, so a duplicate is
   * refused before it costs a hash.
   * @throws AccountExistsError when the account is active or another attempt holds a live lease
   */
  async register(account: Account, hashPassword?: () => Promise<string>): Promise<UserRecord> {
    let reserved: UserRecord | undefined;
    try {
      reserved = await this.reserve(account);
      const row = hashPassword ? await this.storePasswordHash(reserved, hashPassword) : reserved;
      return this.observed(await this.finish(row));
    } catch (err) {
      // A hash refused before anything was attempted releases the reservation: nothing is left pending.
      throw this.failed(err, reserved !== undefined && !hasCode(err, 'server_busy'));
    }
  }

  /**
   * Registers up to {@link CHAT_BATCH_MAX} accounts without passwords with one batch creation at the
   * chat service, under the rules of {@link register}: every row is reserved and its creation attempt
   * recorded before the batch is sent; a name the chat service reports as taken is adopted only for
   * a row that an earlier attempt may have created it for; an unknown outcome leaves the row for the
   * next attempt. One account's failure never stops the others.
   * @throws RangeError for more than {@link CHAT_BATCH_MAX} requests
   */
  async registerBatch(requests: readonly ChatAccountRequest[]): Promise<ChatAccountOutcome[]> {
    if (requests.length > CHAT_BATCH_MAX) throw new RangeError(`At most ${CHAT_BATCH_MAX} accounts per batch, got ${requests.length}.`);
    const { users } = this.deps;
    const outcomes: ChatAccountOutcome[] = new Array(requests.length);
    const fail = (index: number, error: unknown, reserved: boolean) => {
      outcomes[index] = { ok: false, error: this.failed(error, reserved) };
    };
    const reserved: Array<{ index: number; row: UserRecord; attemptedBefore: boolean }> = [];
    const inserts: Array<{ index: number; user: NewPendingUser }> = [];
    const now = this.now();
    await Promise.all(requests.map(async (request, index) => {
      try {
        const { account } = request;
        const found = request.found !== undefined ? request.found : await users.findByAccountKey(account.accountKey);
        if (!found) {
          // New rows carry their creation attempt from the start: one write each, in one transaction.
          inserts.push({
            index,
            user: {
              account: account.account, accountKey: account.accountKey, passwordHash: null,
              chatUsername: request.chatUsername ?? this.deps.chatUsernamePolicy.usernameFor(account.accountKey),
              leaseId: randomUUID(), leaseExpiresAt: this.leaseEnd(now), now, creationAttemptedAt: now,
            },
          });
          return;
        }
        if (found.status === 'active' || !found.leaseExpiresAt || found.leaseExpiresAt > now) throw new AccountExistsError();
        const taken = await this.takeOver(found, found.passwordHash);
        if (!taken) throw new AccountExistsError();
        if (!(await users.markCreationAttempted(taken.accountKey, taken.leaseId ?? '', this.now()))) throw lostLease();
        reserved.push({ index, row: taken, attemptedBefore: taken.creationAttemptedAt !== null });
      } catch (error) {
        fail(index, error, false);
      }
    }));
    if (inserts.length > 0) {
      try {
        const rows = await users.insertPendingMany(inserts.map((i) => i.user), this.deps.drawAgoraUid ?? drawAgoraUid);
        rows.forEach((row, i) => {
          if (row instanceof Error) fail(inserts[i]!.index, row, false);
          else reserved.push({ index: inserts[i]!.index, row, attemptedBefore: false });
        });
      } catch (error) {
        for (const { index } of inserts) fail(index, error, false);
      }
    }
    if (reserved.length === 0) return outcomes;

    let result: ChatUserBatchResult | undefined;
    let batchError: unknown;
    try {
      result = await this.deps.chatProvisioner.createUsers(reserved.map(({ row }) => ({ username: row.chatUsername, password: chatPassword() })));
    } catch (err) {
      batchError = err;
    }
    const created = new Map(result?.created.map((user) => [user.username, user.uuid]));
    const failed = new Map(result?.failed.map((failure) => [failure.username, failure]));

    // Created users are activated together; every other answer takes the single registration's path.
    const toActivate = batchError === undefined ? reserved.filter(({ row }) => created.has(row.chatUsername)) : [];
    const others = reserved.filter((r) => !toActivate.includes(r));
    await Promise.all([
      this.activateCreated(toActivate, created, outcomes),
      ...others.map(async ({ index, row, attemptedBefore }) => {
        const failure = failed.get(row.chatUsername);
        let error: unknown = batchError;
        if (error === undefined && failure?.code === 'chat_user_exists') {
          error = new ChatUserExistsError(row.chatUsername, { afterUnknownOutcome: failure.afterUnknownOutcome });
        } else if (error === undefined && failure?.code === 'invalid_chat_username') {
          error = new InvalidChatUsernameError(row.chatUsername);
        } else if (error === undefined) {
          error = new ChatServiceUnavailableError(`The chat service did not create ${row.chatUsername}: ${failure?.reason ?? 'no answer for it'}.`);
        }
        try {
          const settled = await this.settle(row, attemptedBefore, { error });
          outcomes[index] = { ok: true, user: this.observed(settled.user), adopted: settled.adopted };
        } catch (err) {
          fail(index, err, true);
        }
      }),
    ]);
    return outcomes;
  }

  private async activateCreated(
    rows: ReadonlyArray<{ index: number; row: UserRecord }>, created: ReadonlyMap<string, string>, outcomes: ChatAccountOutcome[],
  ): Promise<void> {
    if (rows.length === 0) return;
    let results: Array<UserRecord | undefined | Error>;
    try {
      results = await this.deps.users.activateMany(
        rows.map(({ row }) => ({ accountKey: row.accountKey, leaseId: row.leaseId ?? '', chatUuid: created.get(row.chatUsername)! })),
        this.now(),
      );
    } catch (err) {
      results = rows.map(() => (err instanceof Error ? err : new Error(String(err))));
    }
    await Promise.all(rows.map(async ({ index, row }, i) => {
      const active = results[i];
      try {
        if (active instanceof Error) await this.abandon(row, row.leaseId ?? '', active);
        // The lease was lost: a later attempt owns the row now and will adopt the chat user we made.
        if (!active || active instanceof Error) throw lostLease();
        outcomes[index] = { ok: true, user: this.observed(active), adopted: false };
      } catch (err) {
        outcomes[index] = { ok: false, error: this.failed(err, true) };
      }
    }));
  }

  /**
   * Takes over an abandoned pending row (lease expired), keeping its password hash, and finishes it.
   * @throws AccountExistsError when another attempt got the row first
   * @throws ChatServiceUnavailableError when the row is still leased (a registration is in flight)
   */
  async resume(row: UserRecord): Promise<UserRecord> {
    if (row.status === 'active') return row;
    const now = this.now();
    if (row.leaseExpiresAt && row.leaseExpiresAt > now) {
      throw new ChatServiceUnavailableError('The registration of this account is still in progress; try again shortly.', {
        retryAfterSeconds: Math.max(1, Math.ceil((row.leaseExpiresAt.getTime() - now.getTime()) / 1000)),
      });
    }
    let taken: UserRecord | undefined;
    try {
      taken = await this.takeOver(row, row.passwordHash);
      if (!taken) throw new AccountExistsError();
      return this.observed(await this.finish(taken));
    } catch (err) {
      throw this.failed(err, taken !== undefined);
    }
  }

  private observed(active: UserRecord): UserRecord {
    notify(this.deps.observer, { kind: 'registration', outcome: 'created' });
    return active;
  }

  /** Reports a failed registration and hands the error back to be rethrown. */
  private failed(err: unknown, reserved: boolean): unknown {
    let outcome: RegistrationOutcome = reserved ? 'left_pending' : 'error';
    if (hasCode(err, 'account_exists')) outcome = 'account_exists';
    else if (hasCode(err, 'chat_username_taken')) outcome = 'chat_username_taken';
    else if (hasCode(err, 'invalid_chat_username')) outcome = 'invalid_chat_username';
    notify(this.deps.observer, { kind: 'registration', outcome });
    return err;
  }

  // A taken-over row keeps its earlier password hash until the new one is stored.
  private async reserve(account: Account): Promise<UserRecord> {
    const { users } = this.deps;
    const existing = await users.findByAccountKey(account.accountKey);
    if (existing) {
      const now = this.now();
      if (existing.status === 'active' || !existing.leaseExpiresAt || existing.leaseExpiresAt > now) {
        throw new AccountExistsError();
      }
      const taken = await this.takeOver(existing, existing.passwordHash);
      if (!taken) throw new AccountExistsError();
      this.deps.logger?.warn({ account: existing.accountKey }, 'took over an abandoned registration');
      return taken;
    }
    const now = this.now();
    return users.insertPending({
      account: account.account,
      accountKey: account.accountKey,
      passwordHash: null,
      chatUsername: this.deps.chatUsernamePolicy.usernameFor(account.accountKey),
      leaseId: randomUUID(),
      leaseExpiresAt: this.leaseEnd(now),
      now,
    }, this.deps.drawAgoraUid ?? drawAgoraUid);
  }

  // Stores the hash with a fresh lease (the hash may have waited in the hashing queue).
  private async storePasswordHash(row: UserRecord, hashPassword: () => Promise<string>): Promise<UserRecord> {
    let hash: string;
    try {
      hash = await hashPassword();
    } catch (err) {
      await this.unreserve(row);
      throw err;
    }
    const stored = await this.newLease(row, hash);
    if (!stored) throw lostLease();
    return stored;
  }

  /** Gives up a reservation before any chat-user creation: deleted when none was ever attempted, else left to the next attempt. */
  private async unreserve(row: UserRecord): Promise<void> {
    const { users } = this.deps;
    const leaseId = row.leaseId ?? '';
    try {
      if (row.creationAttemptedAt === null) await users.deletePending(row.accountKey, leaseId);
      else await users.endLease(row.accountKey, leaseId, this.now());
    } catch (err) {
      // The row keeps its lease and becomes available when the lease expires on its own.
      this.deps.logger?.warn({ account: row.accountKey, err }, 'could not release a reservation');
    }
  }

  private async takeOver(row: UserRecord, passwordHash: string | null): Promise<UserRecord | undefined> {
    const taken = await this.newLease(row, passwordHash);
    if (taken) notify(this.deps.observer, { kind: 'registration_takeover' });
    return taken;
  }

  /** Compare-and-swap on the row's current lease: a fresh lease and `passwordHash` (a takeover, or our own renewal). */
  private newLease(row: UserRecord, passwordHash: string | null): Promise<UserRecord | undefined> {
    const now = this.now();
    return this.deps.users.takeOverPending(row.accountKey, row.leaseId ?? '', {
      leaseId: randomUUID(), leaseExpiresAt: this.leaseEnd(now), passwordHash, now,
    });
  }

  private async finish(row: UserRecord): Promise<UserRecord> {
    const attemptedBefore = row.creationAttemptedAt !== null;
    if (!(await this.deps.users.markCreationAttempted(row.accountKey, row.leaseId ?? '', this.now()))) throw lostLease();
    let creation: Creation;
    try {
      creation = { uuid: (await this.deps.chatProvisioner.createUser(row.chatUsername, chatPassword())).uuid };
    } catch (error) {
      creation = { error };
    }
    return (await this.settle(row, attemptedBefore, creation)).user;
  }

  /** Ends a row whose creation attempt is recorded, from what the chat service said. */
  private async settle(row: UserRecord, attemptedBefore: boolean, creation: Creation): Promise<{ user: UserRecord; adopted: boolean }> {
    const { users } = this.deps;
    const leaseId = row.leaseId ?? '';
    let chatUuid: string;
    let adopted = false;
    if ('uuid' in creation) {
      chatUuid = creation.uuid;
    } else {
      const err = creation.error;
      if (hasCode(err, 'chat_user_exists')) {
        if (!attemptedBefore && !err.afterUnknownOutcome) {
          // Someone this server never reserved the name for owns that chat user: never adopt it.
          if (!(await users.deletePending(row.accountKey, leaseId))) throw lostLease();
          throw new ChatUsernameTakenError();
        }
        chatUuid = await this.adopt(row, leaseId, err);
        adopted = true;
      } else if (hasCode(err, 'invalid_chat_username')) {
        // A definite refusal: nothing was created, so the reservation must not stand either. The
        // port's code stays here: for the client, this account cannot be given a chat user.
        await users.deletePending(row.accountKey, leaseId);
        this.deps.logger?.warn({ account: row.accountKey, chatUsername: row.chatUsername, err }, 'the chat service refused the derived chat username');
        throw InvalidRequestError.rule('account', 'cannot be given a chat user name; choose another account.');
      } else {
        chatUuid = await this.abandon(row, leaseId, err);
      }
    }

    let active: UserRecord | undefined;
    try {
      active = await users.activate(row.accountKey, leaseId, chatUuid, this.now());
    } catch (err) {
      await this.abandon(row, leaseId, err);
    }
    // The lease was lost: a later attempt owns the row now and will adopt the chat user we made.
    if (!active) throw lostLease();
    return { user: active, adopted };
  }

  // The chat user exists and an earlier attempt on this row may have created it: it is ours.
  private async adopt(row: UserRecord, leaseId: string, cause: unknown): Promise<string> {
    let found;
    try {
      found = await this.deps.chatProvisioner.getUser(row.chatUsername);
    } catch (err) {
      return this.abandon(row, leaseId, err);
    }
    if (!found) return this.abandon(row, leaseId, cause);
    this.deps.logger?.warn({ account: row.accountKey, chatUsername: row.chatUsername }, 'adopted a chat user created by an earlier attempt');
    return found.uuid;
  }

  /** Ends the lease at once so the next attempt can finish the job, then fails this one. */
  private async abandon(row: UserRecord, leaseId: string, err: unknown): Promise<never> {
    try {
      await this.deps.users.endLease(row.accountKey, leaseId, this.now());
    } catch (endErr) {
      // The row keeps its lease and becomes available when the lease expires on its own.
      this.deps.logger?.warn({ account: row.accountKey, err: endErr }, 'could not end the lease of a failed registration');
    }
    // A port's own code (a chat user that exists after all, ...) means nothing to the client: the
    // outcome is unknown, so the client retries and the next attempt finishes the job.
    if (isPortError(err)) throw new ChatServiceUnavailableError(undefined, { cause: err });
    throw err;
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }

  private leaseEnd(now: Date): Date {
    return new Date(now.getTime() + this.deps.leaseSeconds * 1000);
  }
}

// The chat password is random and never used: clients log in with tokens.
function chatPassword(): string {
  return randomBytes(24).toString('base64url');
}

function lostLease(): AccountExistsError {
  return new AccountExistsError('Another registration of this account took over; try logging in.');
}
