import { InvalidCredentialsError, TooManyAttemptsError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import type { LoginThrottle } from '../ports/login-throttle.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { UserRecord } from '../ports/user-repository.js';

/**
 * Re-authentication of a known user by password (password change, self-deletion): throttled with
 * the login throttle's keys, so a wrong password here counts as a failed login and vice versa.
 */
export class PasswordCheck {
  constructor(private readonly deps: { passwordHasher: PasswordHasher; loginThrottle: LoginThrottle; clock: Clock }) {}

  /** @throws TooManyAttemptsError, InvalidCredentialsError, ServerBusyError */
  async verify(user: UserRecord, password: string, clientAddress?: string): Promise<void> {
    const { passwordHasher, loginThrottle } = this.deps;
    passwordHasher.checkCapacity?.();
    const keys = [`account:${user.accountKey}`];
    if (clientAddress) keys.push(`address:${clientAddress}`);
    const decision = await loginThrottle.check(keys, this.now());
    if (!decision.allowed) throw new TooManyAttemptsError(decision.retryAfterSeconds);
    // A provisioned user (no password) cannot re-authenticate by password.
    const ok = user.passwordHash !== null && (await passwordHasher.verify(user.passwordHash, password));
    if (!ok) {
      await loginThrottle.recordFailure(keys, this.now());
      throw new InvalidCredentialsError();
    }
    await loginThrottle.reset(keys[0]!);
  }

  private now(): Date {
    return new Date(this.deps.clock.now());
  }
}
