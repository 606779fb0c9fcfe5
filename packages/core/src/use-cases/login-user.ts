import { randomBytes } from 'node:crypto';
import { parseAccount } from '../domain/account.js';
import { parsePresentedPassword } from '../domain/password.js';
import { hasCode, InvalidCredentialsError, TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle } from '../ports/login-throttle.js';
import type { Logger } from '../ports/logger.js';
import { notify, type LoginOutcome, type Observer } from '../ports/observer.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
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
}

export interface LoggedIn {
  readonly principal: Principal;
  readonly chatToken: IssuedToken;
}

export interface LoginUserDeps {
  users: UserRepository;
  passwordHasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  clock: Clock;
  saga: ChatAccountSaga;
  issueChatToken: IssueChatToken;
  logger?: Logger;
  /** Receives a `login` event per attempt (malformed requests are not attempts). */
  observer?: Observer;
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
    }
  }

  private observe(outcome: LoginOutcome): void {
    notify(this.deps.observer, { kind: 'login', outcome });
  }

  private async attempt(input: LoginUserCommand): Promise<LoggedIn> {
    const account = parseAccount(input.account);
    const password = parsePresentedPassword(input.password);
    const { users, passwordHasher, loginThrottle } = this.deps;
    // Under a login flood, refuse before the database reads of a request that cannot be hashed.
    passwordHasher.checkCapacity?.();
    const keys = [`account:${account.accountKey}`];
    if (input.clientAddress) keys.push(`address:${input.clientAddress}`);

    const decision = await loginThrottle.check(keys, this.now());
    if (!decision.allowed) throw new TooManyAttemptsError(decision.retryAfterSeconds);

    const user = await users.findByAccountKey(account.accountKey);
    const ok = user?.passwordHash
      ? await passwordHasher.verify(user.passwordHash, password)
      : (await passwordHasher.verify(await this.decoy(), password), false);
    if (!user || !ok) {
      await loginThrottle.recordFailure(keys, this.now());
      throw new InvalidCredentialsError();
    }
    await loginThrottle.reset(keys[0]!);

    const active = user.status === 'active' ? user : await this.deps.saga.resume(user);
    await this.rehashIfNeeded(active, password);
    const principal = principalOf(active);
    return { principal, chatToken: await this.deps.issueChatToken.execute(principal) };
  }

  private async rehashIfNeeded(user: UserRecord, password: string): Promise<void> {
    const { passwordHasher, users } = this.deps;
    if (!user.passwordHash || !passwordHasher.needsRehash(user.passwordHash)) return;
    try {
      await users.updatePasswordHash(user.accountKey, await passwordHasher.hash(password), this.now());
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
