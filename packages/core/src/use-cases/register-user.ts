import { parseAccount } from '../domain/account.js';
import { parseNewPassword } from '../domain/password.js';
import type { Clock } from '../ports/clock.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface RegisterUserInput {
  readonly userAccount: unknown;
  readonly userPassword: unknown;
}

/**
 * Registers a password account and its chat user (the saga of design section 4).
 * @throws InvalidRequestError, AccountExistsError, ChatUsernameTakenError, ChatServiceUnavailableError, ServerBusyError
 */
export class RegisterUser {
  constructor(private readonly deps: { saga: ChatAccountSaga; passwordHasher: PasswordHasher; passwordMinLength: number; clock: Clock }) {}

  async execute(input: RegisterUserInput): Promise<Principal> {
    const account = parseAccount(input.userAccount);
    const password = parseNewPassword(input.userPassword, this.deps.passwordMinLength);
    const hash = await this.deps.passwordHasher.hash(password);
    return principalOf(await this.deps.saga.register(account, hash), this.deps.clock.now());
  }
}
