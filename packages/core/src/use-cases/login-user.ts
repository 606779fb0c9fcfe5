import { randomBytes } from 'node:crypto';
import { parseAccount } from '../domain/account.js';
import { parsePresentedPassword } from '../domain/password.js';
import { ForbiddenError, hasCode, InvalidCredentialsError, TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle, ThrottleLimit } from '../ports/login-throttle.js';
import type { Logger } from '../ports/logger.js';
import { notify, type LoginOutcome, type Observer } from '../ports/observer.js';
import { admission, type HashReservation, type PasswordHasher } from '../ports/password-hasher.js';
import type { IssuedToken } from '../ports/token-issuer.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import type { ChatAccountSaga } from './chat-account-saga.js';
import type { IssueChatToken } from './issue-chat-token.js';
import { principalOf, type Principal } from './principal.js';

export interface LoginUserCommand {
  readonly account: string;
  readonly password: string;
  /** The client's address, throttled alongside the account. */
  readonly clientAddress?: string;
  /** From {@link LoginUser.admit} for this client address: the place it holds is used, not taken anew. */
  readonly admission?: HashReservation;
}

export interface LoggedIn {
  readonly principal: Principal;
  readonly chatToken: IssuedToken;
}

/** How many wrong passwords are checked before logins are refused with `too_many_attempts`. */
export interface LoginLimits {
  /** Failures allowed per client address for one account in a window. @default 10 */
  readonly maxFailures: number;
  /**
   * Failures allowed per account across all addresses, and per address across all accounts: caps
   * distributed guessing at one account and one address guessing at many. @default 100
   */
  readonly maxFailuresPerAccount: number;
  /** Window length, counted from the window's first attempt. @default 900 */
  readonly windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({ maxFailures: 10, maxFailuresPerAccount: 100, windowSeconds: 900 });

export interface LoginUserDeps {
  users: UserRepository;
  passwordHasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  clock: Clock;
  saga: ChatAccountSaga;
  issueChatToken: IssueChatToken;
  limits: LoginLimits;
  logger?: Logger;
  /** Receives a `login` event per attempt (malformed requests are not attempts). */
  observer?: Observer;
}

/**
 * The counters a password check claims against: the (address, account) pair first (without an
 * address, all such callers share one pair per account), then the account, then the address.
 * Re-authentication (password change, deletion) claims the same ones, so it is throttled as a login.
 */
export function loginThrottleLimits(limits: LoginLimits, accountKey: string, client: string | undefined): ThrottleLimit[] {
  const { maxFailures, maxFailuresPerAccount, windowSeconds } = limits;
  const result: ThrottleLimit[] = [
    { key: `login:pair:${JSON.stringify([client ?? null, accountKey])}`, max: maxFailures, windowSeconds },
    { key: `login:account:${accountKey}`, max: maxFailuresPerAccount, windowSeconds },
  ];
  if (client !== undefined) result.push({ key: `login:address:${client}`, max: maxFailuresPerAccount, windowSeconds });
  return result;
}

/**
 * Checks a password and returns a chat user token. Unknown account and wrong password are one
 * `invalid_credentials`, and both cost one hash verification so they take the same time.
 * @throws InvalidRequestError (field `account` or `password`), InvalidCredentialsError, TooManyAttemptsError, ChatServiceUnavailableError, ServerBusyError
 */
export class LoginUser {
  private decoyHash: Promise<string> | undefined;

  constructor(private readonly deps: LoginUserDeps) {}

  async execute(input: LoginUserCommand): Promise<LoggedIn> {
    try {
      const output = await this.attempt(input);
      this.observe('success');
      return output;
    } catch (err) {
      if (hasCode(err, 'invalid_credentials')) this.observe('invalid');
      else if (hasCode(err, 'too_many_attempts')) this.observe('throttled');
      else if (!hasCode(err, 'invalid_request')) this.observe('error');
      throw err;
    } finally {
      input.admission?.release(); // refused before the hash (bad input, throttled): the place is given back
    }
  }

  /**
   * Cheap admission, for callers to run before they read the request body: refuses a login that the
   * hashing queue would refuse anyway, so that a flood is answered without parsing, validation or
   * database work, and holds the admitted login's place in the hashing queue (pass it to
   * {@link execute} as `admission`; release it when the login is not executed). Without the hold, a
   * burst that arrives at once would pass the check together and be refused after its body was read.
   * @throws ServerBusyError
   */
  admit(clientAddress?: string): HashReservation {
    return admission(this.deps.passwordHasher, clientAddress);
  }

  private observe(outcome: LoginOutcome): void {
    notify(this.deps.observer, { kind: 'login', outcome });
  }

  private async attempt(input: LoginUserCommand): Promise<LoggedIn> {
    const account = parseAccount(input.account);
    const password = parsePresentedPassword(input.password);
    const { users, passwordHasher, loginThrottle } = this.deps;
    const client = input.clientAddress;
    // Under a login flood, refuse before the database work of a request that cannot be hashed, and
    // hold the admitted request's place in the hashing queue through that work: otherwise a burst
    // passes the check at once, does its database work, and is mostly refused afterwards.
    const reservation = input.admission ?? this.admit(client);
    let user: UserRecord | undefined;
    let ok: boolean;
    const limits = this.limitsFor(account.accountKey, client);
    const [pair, ...shared] = limits.map((limit) => limit.key);
    try {
      // The attempt is counted before the password is checked, so parallel guesses cannot overshoot a
      // limit; a correct password gives the attempt back.
      const decision = await loginThrottle.claim(limits, this.now());
      if (!decision.allowed) throw new TooManyAttemptsError(decision.retryAfterSeconds);
      try {
        user = await users.findByAccountKey(account.accountKey);
        ok = user?.passwordHash
          ? await passwordHasher.verify(user.passwordHash, password, client, reservation)
          : (await passwordHasher.verify(await this.decoy(), password, client, reservation), false);
      } catch (err) {
        // Busy hasher, database failure: no password was judged, so the attempt does not count.
        await this.settle(() => loginThrottle.release(limits.map((limit) => limit.key)));
        throw err;
      }
    } finally {
      reservation.release();
    }
    if (!user || !ok) throw new InvalidCredentialsError();
    // The owner proved the password from this address: forget its failures there; failures that
    // others made elsewhere keep counting against the account.
    await this.settle(async () => {
      await loginThrottle.reset(pair!);
      await loginThrottle.release(shared);
    });

    if (user.status === 'disabled') throw new ForbiddenError('This account is disabled.');
    // An account being deleted is gone for its owner; the deletion finishes on its own.
    if (user.status === 'deleting') throw new InvalidCredentialsError();
    const active = user.status === 'active' ? user : await this.deps.saga.resume(user);
    await this.rehashIfNeeded(active, password);
    const principal = principalOf(active, this.deps.clock.now());
    return { principal, chatToken: await this.deps.issueChatToken.execute(principal) };
  }

  private limitsFor(accountKey: string, client: string | undefined): ThrottleLimit[] {
    return loginThrottleLimits(this.deps.limits, accountKey, client);
  }

  // Throttle bookkeeping after the outcome is known must not change the outcome.
  private async settle(bookkeeping: () => Promise<void>): Promise<void> {
    try {
      await bookkeeping();
    } catch (err) {
      this.deps.logger?.warn({ err }, 'login throttle bookkeeping failed');
    }
  }

  private async rehashIfNeeded(user: UserRecord, password: string): Promise<void> {
    const { passwordHasher, users } = this.deps;
    if (!user.passwordHash || !passwordHasher.needsRehash(user.passwordHash)) return;
    try {
      await users.updatePasswordHash(user.accountKey, await passwordHasher.hash(password), this.now(), user.passwordHash);
    } catch (err) {
      // The login itself succeeded; the upgrade is retried at the next login.
      this.deps.logger?.warn({ account: user.accountKey, err }, 'password rehash failed');
    }
  }

  // Verified against for unknown accounts, so that they cost what a wrong password costs.
  private decoy(): Promise<string> {
    this.decoyHash ??= this.deps.passwordHasher.hash(randomBytes(16).toString('hex')).catch((err: unknown) => {
      this.decoyHash = undefined;
      throw err;
    });
    return this.decoyHash;
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }
}
