import { parseAccount } from '../domain/account.js';
import { AccountNotFoundError, AccountStateError, ChatServiceUnavailableError, InvalidRequestError, isDomainError } from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import { USER_STATUSES, type UserRecord, type UserRepository, type UserStatus } from '../ports/user-repository.js';
import type { AccountDeletion } from './account-deletion.js';
import { revocationBoundaryAt } from './principal.js';
import type { RevokeTokens } from './revoke-tokens.js';
import type { VerifyChatToken } from './verify-chat-token.js';

export interface AdministerAccountsDeps {
  users: UserRepository;
  chatProvisioner: ChatProvisioner;
  verifyChatToken: VerifyChatToken;
  revokeTokens: RevokeTokens;
  deletion: AccountDeletion;
  clock: Clock;
  logger?: Logger;
}

/** What an operator may change or read about any account (the `users` CLI). No password is needed. */
export class AdministerAccounts {
  constructor(private readonly deps: AdministerAccountsDeps) {}

  /** All accounts, or those in one status, ordered by account key. */
  async list(options: { status?: UserStatus } = {}): Promise<UserRecord[]> {
    if (options.status !== undefined && !(USER_STATUSES as readonly string[]).includes(options.status)) {
      throw new InvalidRequestError('status', `status must be one of ${USER_STATUSES.join(', ')}.`);
    }
    const all: UserRecord[] = [];
    for (;;) {
      const after = all.at(-1)?.accountKey;
      const page = await this.deps.users.list({
        limit: 500, ...(options.status ? { status: options.status } : {}), ...(after === undefined ? {} : { afterAccountKey: after }),
      });
      all.push(...page);
      if (page.length < 500) return all;
    }
  }

  /** @throws AccountNotFoundError */
  async show(account: string): Promise<UserRecord> {
    return this.find(account);
  }

  /**
   * No login, no tokens, bearers refused; at the chat service the user is deactivated and forced
   * offline. Running it again on a disabled account retries the chat service part.
   * @throws AccountNotFoundError, AccountStateError (pending or being deleted), ChatServiceUnavailableError
   *   (disabled here, but the chat service was not updated: run it again)
   */
  async disable(account: string): Promise<UserRecord> {
    const user = await this.find(account);
    if (user.status !== 'active' && user.status !== 'disabled') throw notChangeable(user);
    const now = this.deps.clock.now();
    const disabled = await this.deps.users.changeStatus(user.accountKey, {
      from: ['active', 'disabled'], to: 'disabled', at: new Date(now), tokensNotBefore: revocationBoundaryAt(now),
    });
    if (!disabled) throw new AccountStateError('The account changed meanwhile; try again.');
    this.deps.verifyChatToken.forget(disabled);
    await this.atChatService(disabled, 'disabled here, but the chat user is still active at the chat service', async (chat) => {
      await chat.deactivateUser(disabled.chatUsername);
      await chat.forceOffline(disabled.chatUsername);
    });
    return disabled;
  }

  /**
   * Reactivates the chat user, then the account (tokens revoked by the disable stay revoked).
   * @throws AccountNotFoundError, AccountStateError, ChatServiceUnavailableError (nothing changed)
   */
  async enable(account: string): Promise<UserRecord> {
    const user = await this.find(account);
    if (user.status !== 'active' && user.status !== 'disabled') throw notChangeable(user);
    await this.atChatService(user, 'the account stays disabled', (chat) => chat.activateUser(user.chatUsername));
    if (user.status === 'active') return user;
    const enabled = await this.deps.users.changeStatus(user.accountKey, { from: ['disabled'], to: 'active', at: new Date(this.deps.clock.now()) });
    if (!enabled) throw new AccountStateError('The account changed meanwhile; try again.');
    this.deps.verifyChatToken.forget(enabled);
    return enabled;
  }

  /** Logs the account out everywhere. @throws AccountNotFoundError */
  async revoke(account: string): Promise<UserRecord> {
    const user = await this.find(account);
    const revoked = await this.deps.revokeTokens.revoke(user);
    if (!revoked) throw new AccountNotFoundError(user.account);
    return revoked;
  }

  /**
   * Deletes the account and its chat user (the deletion saga).
   * @throws AccountNotFoundError, ChatServiceUnavailableError (the account stays `deleting`; run it
   *   again or let the server finish it)
   */
  async delete(account: string): Promise<void> {
    const user = await this.find(account);
    this.deps.verifyChatToken.forget(user);
    await this.deps.deletion.delete(user);
  }

  private async find(account: string): Promise<UserRecord> {
    const parsed = parseAccount(account);
    const user = await this.deps.users.findByAccountKey(parsed.accountKey);
    if (!user) throw new AccountNotFoundError(parsed.account);
    return user;
  }

  private async atChatService(user: UserRecord, outcome: string, call: (chat: ChatProvisioner) => Promise<unknown>): Promise<void> {
    try {
      await call(this.deps.chatProvisioner);
    } catch (err) {
      if (!isDomainError(err) || err.code !== 'chat_service_unavailable') throw err;
      this.deps.logger?.warn({ account: user.accountKey, err }, `chat service unavailable: ${outcome}`);
      throw new ChatServiceUnavailableError(`The chat service is unavailable: ${outcome}. Run the command again.`, { cause: err });
    }
  }
}

function notChangeable(user: UserRecord): AccountStateError {
  return new AccountStateError(
    user.status === 'deleting' ? `"${user.account}" is being deleted.` : `"${user.account}" has not finished registering.`,
  );
}
