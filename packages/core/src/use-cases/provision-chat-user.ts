import { parseAccount } from '../domain/account.js';
import { AccountStateError, ForbiddenError, hasCode } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface ProvisionChatUserInput {
  /** The embedding backend's own identifier of an already authenticated user. */
  readonly userAccount: string;
}

/**
 * Gives an app user a chat account (idempotent): for backends that authenticate users themselves.
 * @throws InvalidRequestError, ChatUsernameTakenError, ChatServiceUnavailableError, ForbiddenError (disabled), AccountStateError (being deleted)
 */
export class ProvisionChatUser {
  constructor(private readonly deps: { users: UserRepository; saga: ChatAccountSaga; clock: Clock }) {}

  async execute(input: ProvisionChatUserInput): Promise<Principal> {
    const account = parseAccount(input.userAccount);
    const existing = await this.deps.users.findByAccountKey(account.accountKey);
    if (existing) refuseUnusable(existing);
    if (existing?.status === 'active') return this.principal(existing);
    if (existing) return this.principal(await this.deps.saga.resume(existing));
    try {
      return this.principal(await this.deps.saga.register(account, null));
    } catch (err) {
      // A concurrent provisioning of the same user won the race: its result is ours too.
      if (!hasCode(err, 'account_exists')) throw err;
      const winner = await this.deps.users.findByAccountKey(account.accountKey);
      if (winner?.status === 'active') return this.principal(winner);
      throw err;
    }
  }

  private principal(user: UserRecord): Principal {
    return principalOf(user, this.deps.clock.now());
  }
}

function refuseUnusable(user: UserRecord): void {
  if (user.status === 'disabled') throw new ForbiddenError('This account is disabled.');
  if (user.status === 'deleting') throw new AccountStateError('This account is being deleted.');
}
