import { InvalidCredentialsError, TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle } from '../ports/login-throttle.js';
import type { Logger } from '../ports/logger.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRecord } from '../ports/user-repository.js';
import { loginThrottleLimits, type LoginLimits } from './login-user.js';

export interface PasswordCheckDeps {
  passwordHasher: PasswordHasher;
  loginThrottle: LoginThrottle;
  /** The login limits: a wrong password here counts exactly as a failed login. */
  limits: LoginLimits;
  clock: Clock;
  logger?: Logger;
}

/**
 * Re-authentication of a known user by password (password change, self-deletion), claimed against the
 * login throttle's own counters, so a wrong password here counts as a failed login and vice versa.
 */
export class PasswordCheck {
  constructor(private readonly deps: PasswordCheckDeps) {}

  /** @throws TooManyAttemptsError, InvalidCredentialsError, ServerBusyError */
  async verify(user: UserRecord, password: string, clientAddress?: string): Promise<void> {
    const { passwordHasher, loginThrottle } = this.deps;
    passwordHasher.checkCapacity?.(clientAddress);
    const limits = loginThrottleLimits(this.deps.limits, user.accountKey, clientAddress);
    const keys = limits.map((limit) => limit.key);
    const decision = await loginThrottle.claim(limits, new Date(this.deps.clock.now()));
    if (!decision.allowed) throw new TooManyAttemptsError(decision.retryAfterSeconds);
    let ok: boolean;
    try {
      // A provisioned user (no password) cannot re-authenticate by password.
      ok = user.passwordHash !== null && (await passwordHasher.verify(user.passwordHash, password, clientAddress));
    } catch (err) {
      // No password was judged: the attempt does not count.
      await this.settle(() => loginThrottle.release(keys));
      throw err;
    }
    if (!ok) throw new InvalidCredentialsError();
    await this.settle(async () => {
      await loginThrottle.reset(keys[0]!);
      await loginThrottle.release(keys.slice(1));
    });
  }

  // Bookkeeping after the outcome is known must not change the outcome.
  private async settle(bookkeeping: () => Promise<void>): Promise<void> {
    try {
      await bookkeeping();
    } catch (err) {
      this.deps.logger?.warn({ err }, 'login throttle bookkeeping failed');
    }
  }
}
