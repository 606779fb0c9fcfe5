import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ChannelMember, ChannelMemberStore } from '../ports/channel-member-store.js';

export interface ChannelRosterOptions {
  /** Members kept per channel (those whose tokens expire last). @default 1000 */
  readonly maxPerChannel?: number;
  /**
   * How long a noted member may wait before it is written; one write carries everything noted since.
   * Another instance sharing the store lists a new member after at most about this long. A second keeps
   * the store's transactions, commits and per-write trim check few under a stream of new members. @default 1000
   */
  readonly flushIntervalMs?: number;
  /**
   * A member is not written again while its stored expiry is at most this much earlier than the new
   * token's: repeated tokens for one channel cost no write. @default 60
   */
  readonly refreshSlackSeconds?: number;
  /**
   * Members waiting to be written at most (the oldest are dropped beyond it, with a warning). Half of it
   * waiting starts a write at once, without waiting for the interval. @default 10000
   */
  readonly maxPending?: number;
  /** Members remembered as written, for the deduplication. @default 10000 */
  readonly maxRemembered?: number;
}

export const DEFAULT_CHANNEL_ROSTER: Required<ChannelRosterOptions> = Object.freeze({
  maxPerChannel: 1000,
  flushIntervalMs: 1000,
  refreshSlackSeconds: 60,
  maxPending: 10_000,
  maxRemembered: 10_000,
});

const MAX_RETRY_DELAY_MS = 5000;

/**
 * Records who got an RTC token for which channel without slowing the token path down: `note` is
 * synchronous and in memory; repeated tokens for the same channel and uid are deduplicated; the
 * rest is written behind, in batches, to the {@link ChannelMemberStore}. A failed write is retried
 * with backoff. The roster is a convenience for call UIs: under a long outage the oldest notes are
 * dropped rather than letting memory grow.
 */
export class ChannelRoster {
  private readonly options: Required<ChannelRosterOptions>;
  private pending = new Map<string, ChannelMember>();
  // The batch being written: listed like pending ones until the write is done.
  private inFlight = new Map<string, ChannelMember>();
  // Insertion-ordered: the first entry is the least recently written one.
  private readonly written = new Map<string, { chatUsername: string; expiresAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private retryDelayMs: number;
  private failing = false;
  private closed = false;
  /** Notes dropped (beyond maxPending) since the last successful write, which reports the count. */
  private dropped = 0;

  constructor(private readonly deps: { store: ChannelMemberStore; clock: Clock; logger?: Logger; options?: ChannelRosterOptions }) {
    this.options = { ...DEFAULT_CHANNEL_ROSTER, ...deps.options };
    this.retryDelayMs = this.options.flushIntervalMs;
  }

  get maxPerChannel(): number {
    return this.options.maxPerChannel;
  }

  /** Notes that `member` got a token; written within `flushIntervalMs` unless it changes nothing stored. */
  note(member: ChannelMember): void {
    const key = keyOf(member.channelName, member.agoraUid);
    const queued = this.pending.get(key);
    if (queued) {
      if (member.expiresAt.getTime() >= queued.expiresAt.getTime()) this.pending.set(key, member);
      return;
    }
    const stored = this.written.get(key);
    const slackMs = this.options.refreshSlackSeconds * 1000;
    if (stored && stored.chatUsername === member.chatUsername && stored.expiresAt >= member.expiresAt.getTime() - slackMs) return;
    this.enqueue(key, member);
    // A burst is written once half of maxPending waits: waiting for the interval would drop the notes
    // beyond maxPending although the store keeps up. Not while it fails: the retry's backoff holds.
    if (this.pending.size >= this.options.maxPending / 2 && !this.writing && !this.failing && !this.closed) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flushInBackground();
    } else {
      this.schedule(this.options.flushIntervalMs);
    }
  }

  /** The unexpired members of a channel: what the store holds, plus what is still waiting to be (or being) written. */
  async members(channelName: string): Promise<ChannelMember[]> {
    const now = this.deps.clock.now();
    const stored = await this.deps.store.list(channelName, new Date(now), this.options.maxPerChannel);
    const byUid = new Map(stored.map((m) => [m.agoraUid, m]));
    for (const member of [...this.inFlight.values(), ...this.pending.values()]) {
      if (member.channelName !== channelName || member.expiresAt.getTime() <= now) continue;
      const known = byUid.get(member.agoraUid);
      if (!known || known.expiresAt.getTime() <= member.expiresAt.getTime()) byUid.set(member.agoraUid, member);
    }
    return [...byUid.values()]
      .sort((a, b) => b.expiresAt.getTime() - a.expiresAt.getTime() || a.agoraUid - b.agoraUid)
      .slice(0, this.options.maxPerChannel);
  }

  /** Writes everything noted so far (waits for a write in progress first). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = batch;
    this.writing = this.write(batch).finally(() => {
      this.inFlight = new Map();
      this.writing = undefined;
    });
    await this.writing;
  }

  /** Stops the timer and writes what is pending, once; call before the store's database closes. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: Map<string, ChannelMember>): Promise<void> {
    try {
      await this.deps.store.record([...batch.values()], { now: new Date(this.deps.clock.now()), maxPerChannel: this.options.maxPerChannel });
    } catch (err) {
      // Put the batch back (behind anything noted meanwhile, which is newer) and try again later.
      for (const [key, member] of batch) if (!this.pending.has(key)) this.enqueue(key, member);
      if (!this.failing) this.deps.logger?.warn({ err, pending: this.pending.size }, 'could not record channel members; retrying');
      this.failing = true;
      this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2);
      if (!this.closed) this.schedule(this.retryDelayMs);
      return;
    }
    if (this.failing) this.deps.logger?.warn({}, 'channel members are recorded again');
    if (this.dropped > 0) this.deps.logger?.warn({ dropped: this.dropped }, 'channel members were dropped unwritten while too many waited (maxPending)');
    this.dropped = 0;
    this.failing = false;
    this.retryDelayMs = this.options.flushIntervalMs;
    for (const [key, member] of batch) this.remember(key, member);
  }

  private enqueue(key: string, member: ChannelMember): void {
    if (this.pending.size >= this.options.maxPending) {
      const oldest = this.pending.keys().next();
      if (!oldest.done) this.pending.delete(oldest.value);
      if (this.dropped++ === 0) {
        this.deps.logger?.warn({ maxPending: this.options.maxPending }, 'too many channel members wait to be written: dropping the oldest notes');
      }
    }
    this.pending.set(key, member);
  }

  private remember(key: string, member: ChannelMember): void {
    this.written.delete(key);
    this.written.set(key, { chatUsername: member.chatUsername, expiresAt: member.expiresAt.getTime() });
    if (this.written.size > this.options.maxRemembered) {
      const oldest = this.written.keys().next();
      if (!oldest.done) this.written.delete(oldest.value);
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushInBackground();
    }, delayMs);
    // A pending write never keeps the process alive: close() writes it at shutdown.
    this.timer.unref();
  }

  private flushInBackground(): void {
    this.flush().catch((err: unknown) => this.deps.logger?.warn({ err }, 'channel member flush failed'));
  }
}

function keyOf(channelName: string, agoraUid: number): string {
  return `${agoraUid}:${channelName}`;
}
