import { parseAccount } from '../domain/account.js';
import type { UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

/**
 * The active user of an account, without any proof of identity: only for the sample servers'
 * unauthenticated token endpoints (`TOKEN_AUTH=legacy`) while old clients migrate.
 * @throws InvalidRequestError (field `account`)
 */
export class FindActiveUser {
  constructor(private readonly deps: { users: UserRepository }) {}

  async execute(account: string): Promise<Principal | undefined> {
    const { accountKey } = parseAccount(account);
    const user = await this.deps.users.findByAccountKey(accountKey);
    return user?.status === 'active' ? principalOf(user) : undefined;
  }
}
