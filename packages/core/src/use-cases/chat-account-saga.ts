import { randomBytes, randomUUID } from 'node:crypto';
import { drawAgoraUid } from '../domain/agora-uid.js';
import type { Account } from '../domain/account.js';
import {
  AccountExistsError, ChatServiceUnavailableError, ChatUsernameTakenError, hasCode, InvalidRequestError, isPortError,
} from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { ChatUsernamePolicy } from '../ports/chat-username-policy.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { notify, type Observer, type RegistrationOutcome } from '../ports/observer.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';

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
    const { users, chatProvisioner } = this.deps;
    const leaseId = row.leaseId ?? '';
    const attemptedBefore = row.creationAttemptedAt !== null;
    if (!(await users.markCreationAttempted(row.accountKey, leaseId, this.now()))) throw lostLease();

    let chatUuid: string;
    try {
      // The chat password is random and never used: clients log in with tokens.
      chatUuid = (await chatProvisioner.createUser(row.chatUsername, randomBytes(24).toString('base64url'))).uuid;
    } catch (err) {
      if (hasCode(err, 'chat_user_exists')) {
        if (!attemptedBefore && !err.afterUnknownOutcome) {
          // Someone this server never reserved the name for owns that chat user: never adopt it.
          if (!(await users.deletePending(row.accountKey, leaseId))) throw lostLease();
          throw new ChatUsernameTakenError();
        }
        chatUuid = await this.adopt(row, leaseId, err);
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
    return active;
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

function lostLease(): AccountExistsError {
  return new AccountExistsError('Another registration of this account took over; try logging in.');
}
