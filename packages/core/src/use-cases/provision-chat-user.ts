import { setTimeout as sleep } from 'node:timers/promises';
import { parseAccount, type Account } from '../domain/account.js';
import { ChatServiceUnavailableError, hasCode } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface ProvisionChatUserCommand {
  /** The embedding backend's own identifier of an already authenticated user. */
  readonly account: string;
}

export interface ProvisionChatUserDeps {
  users: UserRepository;
  saga: ChatAccountSaga;
  clock: Clock;
  /** The saga's lease: the longest a caller waits for another attempt on the same account. */
  leaseSeconds: number;
}

// Real time between two looks at an attempt in flight: quick at first (the chat service usually
// answers in milliseconds), then sparing with the database.
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 500;

/**
 * Gives an app user a chat account, idempotently also under concurrency: for backends that
 * authenticate users themselves and call this from whichever request a user makes first.
 *
 * Concurrent calls for one account (in this process or in other instances sharing the database)
 * all return the same principal. One of them reserves the account and creates the chat user; the
 * others watch the reservation until it becomes active, take it over when its owner died (the lease
 * expired), or fail with the owner when the owner gave up (the chat service failed past its deadline).
 * @throws InvalidRequestError, ChatUsernameTakenError, ChatServiceUnavailableError
 */
export class ProvisionChatUser {
  constructor(private readonly deps: ProvisionChatUserDeps) {}

  async execute(input: ProvisionChatUserCommand): Promise<Principal> {
    const account = parseAccount(input.account);
    const giveUpAt = this.deps.clock.now() + this.deps.leaseSeconds * 1000;
    for (;;) {
      const row = await this.deps.users.findByAccountKey(account.accountKey);
      if (row?.status === 'active') return principalOf(row);
      if (row && this.leaseLive(row)) {
        const outcome = await this.awaitOwner(row, giveUpAt);
        if (outcome) return outcome;
        continue;
      }
      try {
        return principalOf(await this.reserveOrTakeOver(account, row));
      } catch (err) {
        // Another attempt got the reservation (or took it over from us): watch it on the next turn.
        if (!hasCode(err, 'account_exists')) throw err;
        if (this.deps.clock.now() >= giveUpAt) throw stillInProgress(1);
      }
    }
  }

  private reserveOrTakeOver(account: Account, row: UserRecord | undefined): Promise<UserRecord> {
    return row ? this.deps.saga.resume(row) : this.deps.saga.register(account);
  }

  /**
   * Watches the attempt that owns `row` until it is over.
   * @returns its principal when it succeeded; `undefined` when the caller should look again (the row
   *   was taken over, released, or its owner died)
   * @throws ChatServiceUnavailableError when the owner gave up, or the wait outlasted `giveUpAt`
   */
  private async awaitOwner(row: UserRecord, giveUpAt: number): Promise<Principal | undefined> {
    const { users, clock } = this.deps;
    const leaseEnd = row.leaseExpiresAt!.getTime();
    for (let interval = POLL_FIRST_MS; ; interval = Math.min(POLL_MAX_MS, interval * 1.5)) {
      await sleep(interval);
      const now = clock.now();
      const current = await users.findByAccountKey(row.accountKey);
      if (current?.status === 'active') return principalOf(current);
      if (!current || current.leaseId !== row.leaseId) return undefined;
      const currentEnd = current.leaseExpiresAt?.getTime() ?? 0;
      // The owner ended its lease early: its chat-user creation failed, and so does this call.
      // The next call (after Retry-After) takes the row over and finishes the job.
      if (currentEnd < leaseEnd && currentEnd <= now) {
        throw new ChatServiceUnavailableError('The chat account of this user could not be created; try again later.');
      }
      if (currentEnd <= now) return undefined;
      if (now >= giveUpAt) throw stillInProgress(Math.ceil((currentEnd - now) / 1000));
    }
  }

  private leaseLive(row: UserRecord): boolean {
    return row.leaseExpiresAt !== null && row.leaseExpiresAt.getTime() > this.deps.clock.now();
  }
}

function stillInProgress(retryAfterSeconds: number): ChatServiceUnavailableError {
  return new ChatServiceUnavailableError('The chat account of this user is still being created; try again shortly.', {
    retryAfterSeconds: Math.max(1, retryAfterSeconds),
  });
}
