import { createHash } from 'node:crypto';
import type { LoginThrottle, LoginThrottleLimits, ThrottleDecision } from '@chat-app-server/core';
import type { Knex } from 'knex';
import { isStorableText, MAX_INDEXED_TEXT_LENGTH } from './storable-text.js';
import { toEpochMs } from './user-row.js';

const TABLE = 'login_failures';
const HASHED_PREFIX = 'sha256:';
// Ended windows are deleted once every this many recordFailure calls, bounding the table under a flood.
const PRUNE_EVERY = 100;

interface FailureRow {
  key: string;
  count: number | string;
  window_started_at: number | string;
}

/**
 * A {@link LoginThrottle} whose windows live in the `login_failures` table, so every server instance on
 * one database shares them. Same semantics as core's `InMemoryLoginThrottle`: a fixed window starts with a
 * key's first failure; the key is blocked while its count reaches `maxFailures` within the window.
 * Each failure is counted by one upsert, so concurrent failures are never lost.
 */
export class KnexLoginThrottle implements LoginThrottle {
  private failuresSincePrune = 0;

  constructor(
    private readonly knex: Knex,
    readonly limits: LoginThrottleLimits,
  ) {}

  async check(keys: readonly string[], now: Date): Promise<ThrottleDecision> {
    if (keys.length === 0) return { allowed: true };
    const nowMs = toEpochMs(now);
    const windowMs = this.limits.windowSeconds * 1000;
    const rows: FailureRow[] = await this.knex(TABLE)
      .select('key', 'count', 'window_started_at')
      .whereIn('key', [...new Set(keys.map(storedKey))]);
    let wait = 0;
    for (const row of rows) {
      const endsAt = Number(row.window_started_at) + windowMs;
      if (endsAt <= nowMs || Number(row.count) < this.limits.maxFailures) continue;
      wait = Math.max(wait, Math.ceil((endsAt - nowMs) / 1000));
    }
    return wait > 0 ? { allowed: false, retryAfterSeconds: wait } : { allowed: true };
  }

  async recordFailure(keys: readonly string[], now: Date): Promise<void> {
    if (keys.length === 0) return;
    const nowMs = toEpochMs(now);
    const windowMs = this.limits.windowSeconds * 1000;
    // One row per key (PostgreSQL refuses to upsert a row twice in one statement); a repeated key counts twice.
    const counts = new Map<string, number>();
    for (const key of keys.map(storedKey)) counts.set(key, (counts.get(key) ?? 0) + 1);
    const rows = [...counts].map(([key, count]) => ({ key, count, window_started_at: nowMs }));
    // In ON CONFLICT ... DO UPDATE the bare column names are the stored row and `excluded` is the new one,
    // on both SQLite and PostgreSQL; every SET expression sees the stored values.
    const ended = this.knex.raw('?? + ? <= ??', [`${TABLE}.window_started_at`, windowMs, 'excluded.window_started_at']);
    await this.knex(TABLE)
      .insert(rows)
      .onConflict('key')
      .merge({
        count: this.knex.raw('case when ? then ?? else ?? + ?? end', [ended, 'excluded.count', `${TABLE}.count`, 'excluded.count']),
        window_started_at: this.knex.raw('case when ? then ?? else ?? end', [
          ended,
          'excluded.window_started_at',
          `${TABLE}.window_started_at`,
        ]),
      });
    if (++this.failuresSincePrune >= PRUNE_EVERY) {
      this.failuresSincePrune = 0;
      await this.knex(TABLE).where('window_started_at', '<=', nowMs - windowMs).delete();
    }
  }

  async reset(key: string): Promise<void> {
    await this.knex(TABLE).where('key', storedKey(key)).delete();
  }
}

// Keys are whatever the caller counts by, possibly raw client input. Those the database could not store
// or index exactly are replaced by their hash; keys that look like a hash are hashed too, so no two keys meet.
function storedKey(key: string): string {
  if (isStorableText(key, MAX_INDEXED_TEXT_LENGTH) && !key.startsWith(HASHED_PREFIX)) return key;
  return HASHED_PREFIX + createHash('sha256').update(key, 'utf16le').digest('hex');
}
