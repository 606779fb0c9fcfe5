import { parseAccount } from '../domain/account.js';
import { hasCode } from '../errors.js';
import type { UserRepository } from '../ports/user-repository.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface ProvisionChatUserInput {
  /** The embedding backend's own identifier of an already authenticated user. */
  readonly userAccount: string;
}

/**
 * Gives an app user a chat account (idempotent): for backends that authenticate users themselves.
 * @throws InvalidRequestError, ChatUsernameTakenError, ChatServiceUnavailableError
 */
export class ProvisionChatUser {
  constructor(private readonly deps: { users: UserRepository; saga: ChatAccountSaga }) {}

  async execute(input: ProvisionChatUserInput): Promise<Principal> {
    const account = parseAccount(input.userAccount);
    const existing = await this.deps.users.findByAccountKey(account.accountKey);
    if (existing?.status === 'active') return principalOf(existing);
    if (existing) return principalOf(await this.deps.saga.resume(existing));
    try {
      return principalOf(await this.deps.saga.register(account));
    } catch (err) {
      // A concurrent provisioning of the same user won the race: its result is ours too.
      if (!hasCode(err, 'account_exists')) throw err;
      const winner = await this.deps.users.findByAccountKey(account.accountKey);
      if (winner?.status === 'active') return principalOf(winner);
      throw err;
    }
  }
}
