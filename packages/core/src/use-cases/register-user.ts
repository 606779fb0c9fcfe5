import { parseAccount } from '../domain/account.js';
import { parseNewPassword } from '../domain/password.js';
import { TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle } from '../ports/login-throttle.js';
import { NOTHING_HELD, type HashReservation, type PasswordHasher } from '../ports/password-hasher.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

export interface RegisterUserCommand {
  readonly account: string;
  readonly password: string;
  /** The client's address: registrations are limited per address, and its hashing waits in its own queue. */
  readonly clientAddress?: string;
  /** From {@link RegisterUser.admit} for this client address: the place it holds is used, not taken anew. */
  readonly admission?: HashReservation;
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
  /**
   * Addresses the throttle refused, until when (epoch ms). A window never reopens early, so until then
   * the answer is known without the database: a flood of refused registrations costs no query and
   * does not queue ahead of other clients' database work. Oldest entries go first when full.
   */
  private readonly refusedUntil = new Map<string, number>();

  constructor(private readonly deps: RegisterUserDeps) {}

  /**
   * Cheap admission, for callers to run before they read the request body: refuses an address whose
   * registration limit is known to be used up, and a registration the hashing queue would refuse now.
   * Unlike a login, it holds no place in the hashing queue: the account is reserved first, so that
   * racers for one account learn at once that it exists (409) and a duplicate never costs a hash or
   * a place; the hash asks for its place after the reservation.
   * @throws TooManyAttemptsError, ServerBusyError
   */
  admit(clientAddress?: string): HashReservation {
    if (clientAddress !== undefined) this.checkRemembered(clientAddress);
    this.deps.passwordHasher.checkCapacity?.(clientAddress);
    return NOTHING_HELD;
  }

  async execute(input: RegisterUserCommand): Promise<Principal> {
    try {
      return await this.attempt(input);
    } finally {
      input.admission?.release(); // refused before the hash (bad input, duplicate, limit): the place is given back
    }
  }

  private async attempt(input: RegisterUserCommand): Promise<Principal> {
    const account = parseAccount(input.account);
    const password = parseNewPassword(input.password, this.deps.passwordMinLength);
    const { passwordHasher, saga } = this.deps;
    const client = input.clientAddress;
    if (input.admission === undefined) this.admit(client);
    if (client !== undefined) await this.claimRegistration(client);
    return principalOf(await saga.register(account, () => passwordHasher.hash(password, client)), this.deps.clock.now());
  }

  // Every attempt counts, answered 409 or not: "exists" answers must not enumerate accounts freely.
  private async claimRegistration(client: string): Promise<void> {
    const { maxPerAddress, windowSeconds } = this.deps.limits;
    const limit = { key: `register:address:${client}`, max: maxPerAddress, windowSeconds };
    const decision = await this.deps.throttle.claim([limit], new Date(this.deps.clock.now()));
    if (!decision.allowed) {
      this.remember(client, this.deps.clock.now() + decision.retryAfterSeconds * 1000);
      throw refused(decision.retryAfterSeconds);
    }
  }

  private checkRemembered(client: string): void {
    const until = this.refusedUntil.get(client);
    if (until === undefined) return;
    const leftMs = until - this.deps.clock.now();
    if (leftMs > 0) throw refused(Math.ceil(leftMs / 1000));
    this.refusedUntil.delete(client);
  }

  private remember(client: string, until: number): void {
    this.refusedUntil.delete(client);
    if (this.refusedUntil.size >= REFUSED_ADDRESSES_KEPT) this.refusedUntil.delete(this.refusedUntil.keys().next().value!);
    this.refusedUntil.set(client, until);
  }
}

/** Refused addresses remembered at most (about 100 bytes each). */
const REFUSED_ADDRESSES_KEPT = 10_000;

function refused(retryAfterSeconds: number): TooManyAttemptsError {
  return new TooManyAttemptsError(retryAfterSeconds, 'Too many registrations from this address; try again later.');
}
