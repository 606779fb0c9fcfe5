import { parseAccount } from '../domain/account.js';
import { parseNewPassword } from '../domain/password.js';
import { TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle } from '../ports/login-throttle.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface RegisterUserCommand {
  readonly account: string;
  readonly password: string;
  /** The client's address: registrations are limited per address, and its hashing waits in its own queue. */
  readonly clientAddress?: string;
}

/** How many registrations one client address may attempt (successful or not) per window. */
export interface RegistrationLimits {
  /** @default 20 */
  readonly maxPerAddress: number;
  /** @default 3600 */
  readonly windowSeconds: number;
}

export const DEFAULT_REGISTRATION_LIMITS: RegistrationLimits = Object.freeze({ maxPerAddress: 20, windowSeconds: 3600 });

export interface RegisterUserDeps {
  saga: ChatAccountSaga;
  passwordHasher: PasswordHasher;
  passwordMinLength: number;
  throttle: LoginThrottle;
  clock: Clock;
  limits: RegistrationLimits;
}

/**
 * Registers a password account and its chat user (the saga of design section 4). The account is
 * reserved before the password is hashed, so a duplicate is refused at once and never costs a hash.
 * @throws InvalidRequestError (field `account` or `password`), TooManyAttemptsError, AccountExistsError,
 *   ChatUsernameTakenError, ChatServiceUnavailableError, ServerBusyError
 */
export class RegisterUser {
  constructor(private readonly deps: RegisterUserDeps) {}

  async execute(input: RegisterUserCommand): Promise<Principal> {
    const account = parseAccount(input.account);
    const password = parseNewPassword(input.password, this.deps.passwordMinLength);
    const { passwordHasher, saga } = this.deps;
    const client = input.clientAddress;
    passwordHasher.checkCapacity?.(client);
    if (client !== undefined) await this.claimRegistration(client);
    return principalOf(await saga.register(account, () => passwordHasher.hash(password, client)));
  }

  // Every attempt counts, answered 409 or not: "exists" answers must not enumerate accounts freely.
  private async claimRegistration(client: string): Promise<void> {
    const { maxPerAddress, windowSeconds } = this.deps.limits;
    const limit = { key: `register:address:${client}`, max: maxPerAddress, windowSeconds };
    const decision = await this.deps.throttle.claim([limit], new Date(this.deps.clock.now()));
    if (!decision.allowed) {
      throw new TooManyAttemptsError(decision.retryAfterSeconds, 'Too many registrations from this address; try again later.');
    }
  }
}
