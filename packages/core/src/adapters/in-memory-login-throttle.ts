import type { LoginThrottle, ThrottleDecision } from '../ports/login-throttle.js';

export interface LoginThrottleLimits {
  /** Failures allowed per key in one window. @default 10 */
  readonly maxFailures: number;
  /** Window length in seconds, counted from the window's first failure. @default 900 */
  readonly windowSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE_LIMITS: LoginThrottleLimits = Object.freeze({ maxFailures: 10, windowSeconds: 900 });

/** A {@link LoginThrottle} for one process (several instances need a shared store, such as adapter-knex's). */
export class InMemoryLoginThrottle implements LoginThrottle {
  private readonly windows = new Map<string, { count: number; startedAt: number }>();

  constructor(readonly limits: LoginThrottleLimits = DEFAULT_LOGIN_THROTTLE_LIMITS) {}

  async check(keys: readonly string[], now: Date): Promise<ThrottleDecision> {
    let wait = 0;
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w) continue;
      const endsAt = w.startedAt + this.limits.windowSeconds * 1000;
      if (endsAt <= now.getTime()) continue;
      if (w.count >= this.limits.maxFailures) wait = Math.max(wait, Math.ceil((endsAt - now.getTime()) / 1000));
    }
    return wait > 0 ? { allowed: false, retryAfterSeconds: wait } : { allowed: true };
  }

  async recordFailure(keys: readonly string[], now: Date): Promise<void> {
    for (const key of keys) {
      const w = this.windows.get(key);
      if (!w || w.startedAt + this.limits.windowSeconds * 1000 <= now.getTime()) {
        this.windows.set(key, { count: 1, startedAt: now.getTime() });
      } else {
        w.count++;
      }
    }
    this.prune(now.getTime());
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  // Bounds memory under a flood of distinct keys: drop windows that have ended.
  private prune(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [key, w] of this.windows) {
      if (w.startedAt + this.limits.windowSeconds * 1000 <= now) this.windows.delete(key);
    }
  }
}
