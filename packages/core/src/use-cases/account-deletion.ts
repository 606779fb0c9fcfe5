import { AccountNotFoundError, AccountStateError, ChatServiceUnavailableError, isDomainError } from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { revocationBoundaryAt } from './principal.js';

export interface AccountDeletionDeps {
  users: UserRepository;
  chatProvisioner: ChatProvisioner;
  clock: Clock;
  logger?: Logger;
}

/**
 * The deletion saga: mark the row `deleting` (the account is unusable from then on and every token
 * is revoked), end the chat user's sessions and delete it at the chat service, then delete the row.
 * A failure at the chat service leaves the row `deleting`; the next attempt, or
 * {@link AccountDeletion.finishPending}, finishes it. So there is never a local user whose chat user
 * is gone, and never a deleted local user whose chat user stays.
 */
export class AccountDeletion {
  constructor(private readonly deps: AccountDeletionDeps) {}

  /** Starts (if needed) and finishes the deletion of `user`. @throws ChatServiceUnavailableError */
  async delete(user: UserRecord): Promise<void> {
    await this.finish(await this.start(user));
  }

  /**
   * Marks `user` as `deleting` and revokes its tokens (nothing when it is already `deleting`).
   * A `pending` row can be deleted once its registration lease has expired.
   * @throws ChatServiceUnavailableError while a registration of the account is in flight
   * @throws AccountNotFoundError when the row is gone
   */
  async start(user: UserRecord): Promise<UserRecord> {
    if (user.status === 'deleting') return user;
    const now = this.deps.clock.now();
    if (user.status === 'pending' && user.leaseExpiresAt !== null && user.leaseExpiresAt.getTime() > now) {
      throw new ChatServiceUnavailableError('The registration of this account is still in progress; try again shortly.', {
        retryAfterSeconds: Math.max(1, Math.ceil((user.leaseExpiresAt.getTime() - now) / 1000)),
      });
    }
    const marked = await this.deps.users.changeStatus(user.accountKey, {
      from: user.status === 'pending' ? ['pending'] : ['active', 'disabled'],
      to: 'deleting',
      at: new Date(now),
      tokensNotBefore: revocationBoundaryAt(now),
      ...(user.leaseId === null ? {} : { leaseId: user.leaseId }),
    });
    if (marked) return marked;
    // Someone else changed the row meanwhile: a concurrent deletion is fine, anything else is retried by the caller.
    const current = await this.deps.users.findByAccountKey(user.accountKey);
    if (!current) throw new AccountNotFoundError(user.account);
    if (current.status === 'deleting') return current;
    throw new AccountStateError('The account changed during the deletion; try again.');
  }

  /** Deletes the chat user (if one may exist) and then the `deleting` row. @throws ChatServiceUnavailableError */
  async finish(user: UserRecord): Promise<void> {
    const { chatProvisioner, users } = this.deps;
    // A row without a chat uuid whose chat-user creation was never attempted has no chat user.
    if (user.chatUuid !== null || user.creationAttemptedAt !== null) {
      try {
        await chatProvisioner.forceOffline(user.chatUsername);
        await chatProvisioner.deleteUser(user.chatUsername);
      } catch (err) {
        if (!isDomainError(err) || err.code !== 'chat_service_unavailable') throw err;
        this.deps.logger?.warn({ account: user.accountKey, err }, 'account deletion waits for the chat service');
        throw new ChatServiceUnavailableError(
          'The account is being deleted: the chat service is unavailable, the deletion finishes later.',
          { cause: err, retryAfterSeconds: err.retryAfterSeconds ?? 5 },
        );
      }
    }
    await users.deleteDeleting(user.accountKey);
  }

  /**
   * Finishes deletions left unfinished by earlier failures (a periodic job). Rows changed within the
   * last `olderThanMs` are left to the request that may still be working on them.
   */
  async finishPending(options: { limit?: number; olderThanMs?: number } = {}): Promise<{ finished: number; failed: number }> {
    const before = this.deps.clock.now() - (options.olderThanMs ?? 0);
    const rows = (await this.deps.users.list({ status: 'deleting', limit: options.limit ?? 100 }))
      .filter((row) => row.updatedAt.getTime() <= before);
    let finished = 0;
    for (const row of rows) {
      try {
        await this.finish(row);
        finished++;
      } catch (err) {
        this.deps.logger?.warn({ account: row.accountKey, err }, 'could not finish an account deletion yet');
      }
    }
    return { finished, failed: rows.length - finished };
  }
}
