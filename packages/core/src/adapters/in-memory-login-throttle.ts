import type { LoginThrottle, ThrottleDecision, ThrottleLimit } from '../ports/login-throttle.js';

interface Window {
  count: number;
  startedAt: number;
}

/** A {@link LoginThrottle} for one process (several instances need a shared store, such as adapter-knex's). */
export class InMemoryLoginThrottle implements LoginThrottle {
  private readonly windows = new Map<string, Window>();
  /** The longest window ever claimed: a window older than this has ended for every limit. */
  private longestWindowMs = 0;

  async claim(limits: readonly ThrottleLimit[], now: Date): Promise<ThrottleDecision> {
    const nowMs = now.getTime();
    let wait = 0;
    for (const { key, max, windowSeconds } of limits) {
      const w = this.live(key, windowSeconds, nowMs);
      if (w && w.count >= max) wait = Math.max(wait, Math.ceil((w.startedAt + windowSeconds * 1000 - nowMs) / 1000));
    }
    if (wait > 0) return { allowed: false, retryAfterSeconds: wait };
    // Nothing awaits between the check and the counting: one claim is atomic in one process.
    for (const { key, windowSeconds } of limits) {
      const w = this.live(key, windowSeconds, nowMs);
      if (w) w.count++;
      else this.windows.set(key, { count: 1, startedAt: nowMs });
      this.longestWindowMs = Math.max(this.longestWindowMs, windowSeconds * 1000);
    }
    this.prune(nowMs - this.longestWindowMs);
    return { allowed: true };
  }

  async release(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && w.count > 0) w.count--;
    }
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private live(key: string, windowSeconds: number, nowMs: number): Window | undefined {
    const w = this.windows.get(key);
    return w && w.startedAt + windowSeconds * 1000 > nowMs ? w : undefined;
  }

  // Bounds memory under a flood of distinct keys: drop windows that started before `before` (ended for sure).
  private prune(before: number): void {
    if (this.windows.size < 10_000) return;
    for (const [key, w] of this.windows) if (w.startedAt <= before) this.windows.delete(key);
  }
}
