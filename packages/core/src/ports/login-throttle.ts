export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** One counter to claim an attempt against: at most `max` attempts per window of `windowSeconds`. */
export interface ThrottleLimit {
  /** What is counted: an account, a client address, an (address, account) pair, registrations of an address... */
  readonly key: string;
  /** Attempts allowed in one window. */
  readonly max: number;
  /** Window length; a window starts with the first attempt claimed after the previous one ended. */
  readonly windowSeconds: number;
}

/**
 * Counts attempts (failed logins, registrations) per key in fixed windows. An attempt is claimed
 * before the work it costs is done, so parallel attempts can never exceed a limit: of any number of
 * concurrent claims against a key with one attempt left, exactly one is allowed.
 */
export interface LoginThrottle {
  /**
   * Counts one attempt against every key, atomically: when any key has already used its `max`
   * attempts in its window, counts nothing and refuses with the longest wait (at least 1 s).
   */
  claim(limits: readonly ThrottleLimit[], now: Date): Promise<ThrottleDecision>;
  /** Gives back one claimed attempt of each key (the attempt turned out not to count: a correct password). */
  release(keys: readonly string[]): Promise<void>;
  /** Forgets every attempt of one key. */
  reset(key: string): Promise<void>;
}

export const LoginThrottle: unique symbol = Symbol.for('chat-app-server.LoginThrottle');
