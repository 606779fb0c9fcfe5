export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Counts failed logins per key (an account key, a client address) in a window that starts with the
 * first failure. A key with `maxFailures` failures in its window is blocked until the window ends.
 */
export interface LoginThrottle {
  /** Blocked when any key is blocked; `retryAfterSeconds` is the longest wait, at least 1. */
  check(keys: readonly string[], now: Date): Promise<ThrottleDecision>;
  /** Counts one failure for each key (a key whose window has ended starts a new one). */
  recordFailure(keys: readonly string[], now: Date): Promise<void>;
  /** Forgets the failures of one key. */
  reset(key: string): Promise<void>;
}

export const LoginThrottle: unique symbol = Symbol.for('chat-app-server.LoginThrottle');
