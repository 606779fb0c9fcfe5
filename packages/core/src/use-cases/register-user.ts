import { parseAccount } from '../domain/account.js';
import { parseNewPassword } from '../domain/password.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface RegisterUserCommand {
  readonly account: string;
  readonly password: string;
}

/**
 * Registers a password account and its chat user (the saga of design section 4).
 * @throws InvalidRequestError (field `account` or `password`), AccountExistsError, ChatUsernameTakenError,
 *   ChatServiceUnavailableError, ServerBusyError
 */
export class RegisterUser {
  constructor(private readonly deps: { saga: ChatAccountSaga; passwordHasher: PasswordHasher; passwordMinLength: number }) {}

  async execute(command: RegisterUserCommand): Promise<Principal> {
    const account = parseAccount(command.account);
    const password = parseNewPassword(command.password, this.deps.passwordMinLength);
    const hash = await this.deps.passwordHasher.hash(password);
    return principalOf(await this.deps.saga.register(account, hash));
  }
}
