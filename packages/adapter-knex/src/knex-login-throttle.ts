import { createHash } from 'node:crypto';
import type { LoginThrottle, ThrottleDecision, ThrottleLimit } from '@chat-app-server/core';
import type { Knex } from 'knex';
import { reportingOutages } from './db-errors.js';
import { isStorableText, MAX_INDEXED_TEXT_LENGTH } from './storable-text.js';
import { toEpochMs } from './user-row.js';

const TABLE = 'login_failures';
const HASHED_PREFIX = 'sha256:';
// Ended windows are deleted once every this many claims, bounding the table under a flood.
const PRUNE_EVERY = 100;

/** Options of {@link KnexLoginThrottle}. */
export interface KnexLoginThrottleOptions {
  /**
   * The longest window any caller claims with: windows older than this are deleted by the periodic prune.
   * @default 7 days
   */
  readonly longestWindowSeconds?: number;
}

interface WindowRow {
  count: number | string;
  window_started_at: number | string;
}

/** Thrown inside the claim's transaction to roll it back. */
class Refused {
  constructor(readonly retryAfterSeconds: number) {}
}

/**
 * A {@link LoginThrottle} whose windows live in the `login_failures` table, so every server instance on
 * one database shares them. A claim is one transaction that counts the attempt against each key with an
 * upsert (which locks the key's row) and rolls back when a key went over its limit: however many
 * instances claim at once, a key never admits more than its `max` attempts in a window.
 */
export class KnexLoginThrottle implements LoginThrottle {
  private claimsSincePrune = 0;
  private readonly longestWindowMs: number;

  constructor(
    private readonly knex: Knex,
    options: KnexLoginThrottleOptions = {},
  ) {
    this.longestWindowMs = (options.longestWindowSeconds ?? 7 * 86_400) * 1000;
  }

  async claim(limits: readonly ThrottleLimit[], now: Date): Promise<ThrottleDecision> {
    if (limits.length === 0) return { allowed: true };
    const nowMs = toEpochMs(now);
    // One order for every claim, so two transactions never wait for each other's rows in a cycle.
    const ordered = limits.map((limit) => ({ ...limit, key: storedKey(limit.key) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    try {
      await this.knex.transaction(async (trx) => {
        let wait = 0;
        for (const { key, max, windowSeconds } of ordered) {
          const row = await this.count(trx, key, windowSeconds * 1000, nowMs);
          if (Number(row.count) > max) {
            wait = Math.max(wait, Math.ceil((Number(row.window_started_at) + windowSeconds * 1000 - nowMs) / 1000));
          }
        }
        if (wait > 0) throw new Refused(wait);
      });
    } catch (err) {
      if (err instanceof Refused) return { allowed: false, retryAfterSeconds: Math.max(1, err.retryAfterSeconds) };
      throw err;
    }
    if (++this.claimsSincePrune >= PRUNE_EVERY) {
      this.claimsSincePrune = 0;
      await this.knex(TABLE).where('window_started_at', '<=', nowMs - this.longestWindowMs).delete();
    }
    return { allowed: true };
  }

  async release(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.knex(TABLE)
      .whereIn('key', [...new Set(keys.map(storedKey))])
      .where('count', '>', 0)
      .update({ count: this.knex.raw('?? - 1', ['count']) });
  }

  async reset(key: string): Promise<void> {
    await this.knex(TABLE).where('key', storedKey(key)).delete();
  }

  // Counts one attempt: a new row, a new window when the stored one has ended, or one more in the window.
  // In ON CONFLICT ... DO UPDATE the bare column names are the stored row and `excluded` is the new one,
  // on both SQLite and PostgreSQL; every SET expression sees the stored values.
  private async count(trx: Knex.Transaction, key: string, windowMs: number, nowMs: number): Promise<WindowRow> {
    const ended = trx.raw('?? + ? <= ??', [`${TABLE}.window_started_at`, windowMs, 'excluded.window_started_at']);
    const [row] = await trx(TABLE)
      .insert({ key, count: 1, window_started_at: nowMs })
      .onConflict('key')
      .merge({
        count: trx.raw('case when ? then 1 else ?? + 1 end', [ended, `${TABLE}.count`]),
        window_started_at: trx.raw('case when ? then ?? else ?? end', [ended, 'excluded.window_started_at', `${TABLE}.window_started_at`]),
      })
      .returning(['count', 'window_started_at']);
    return row as WindowRow;
  }
}

reportingOutages(KnexLoginThrottle);

// Keys are whatever the caller counts by, possibly raw client input. Those the database could not store
// or index exactly are replaced by their hash; keys that look like a hash are hashed too, so no two keys meet.
function storedKey(key: string): string {
  if (isStorableText(key, MAX_INDEXED_TEXT_LENGTH) && !key.startsWith(HASHED_PREFIX)) return key;
  return HASHED_PREFIX + createHash('sha256').update(key, 'utf16le').digest('hex');
}
