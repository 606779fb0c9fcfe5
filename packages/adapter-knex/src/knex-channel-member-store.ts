import type { ChannelMember, ChannelMemberStore } from '@chat-app-server/core';
import type { Knex } from 'knex';
import { reportingOutages } from './db-errors.js';
import { toEpochMs } from './user-row.js';

const TABLE = 'channel_members';
// Rows per INSERT: 4 parameters each stays far below SQLite's 32766 and PostgreSQL's 65535 parameters.
const ROWS_PER_INSERT = 500;
// Expired rows are never listed, so deleting them can wait: one sweep per few seconds (of the callers'
// clock) instead of one per flush keeps every flush from touching the whole expiry index.
const EXPIRED_SWEEP_INTERVAL_MS = 5_000;

interface MemberRow {
  channel_name: string;
  agora_uid: number | string;
  chat_username: string;
  expires_at: number | string;
}

/** A {@link ChannelMemberStore} in the `channel_members` table, shared by every server instance on one database. */
export class KnexChannelMemberStore implements ChannelMemberStore {
  private lastSweepAt: number | undefined;

  constructor(private readonly knex: Knex) {}

  async record(members: readonly ChannelMember[], options: { now: Date; maxPerChannel: number }): Promise<void> {
    if (members.length === 0) return;
    const now = toEpochMs(options.now);
    // PostgreSQL refuses to upsert one row twice in one statement: keep the last note of each key.
    const rows = new Map<string, MemberRow>();
    for (const m of members) {
      rows.set(`${m.agoraUid}:${m.channelName}`, {
        channel_name: m.channelName, agora_uid: m.agoraUid, chat_username: m.chatUsername, expires_at: toEpochMs(m.expiresAt),
      });
    }
    const channels = [...new Set(members.map((m) => m.channelName))];
    await this.knex.transaction(async (trx) => {
      const all = [...rows.values()];
      for (let i = 0; i < all.length; i += ROWS_PER_INSERT) {
        await trx(TABLE).insert(all.slice(i, i + ROWS_PER_INSERT)).onConflict(['channel_name', 'agora_uid']).merge(['chat_username', 'expires_at']);
      }
      // A clock that went back sweeps too, rather than waiting for it to catch up.
      if (this.lastSweepAt === undefined || Math.abs(now - this.lastSweepAt) >= EXPIRED_SWEEP_INTERVAL_MS) {
        await trx(TABLE).where('expires_at', '<=', now).delete();
        this.lastSweepAt = now;
      }
      for (let i = 0; i < channels.length; i += ROWS_PER_INSERT) {
        // Ranking every touched channel costs a sort of all their rows; a count on the primary key finds
        // the few channels over the bound, and only those are ranked.
        const full: { channel_name: string }[] = await trx(TABLE)
          .select('channel_name')
          .whereIn('channel_name', channels.slice(i, i + ROWS_PER_INSERT))
          .groupBy('channel_name')
          .having(trx.raw('count(*)'), '>', options.maxPerChannel);
        if (full.length === 0) continue;
        // Beyond the bound, the rows whose tokens expire first go (expired rows not yet swept rank last).
        const ranked = trx(TABLE)
          .select('channel_name', 'agora_uid', trx.raw('row_number() over (partition by ?? order by ?? desc, ?? asc) as rank', [
            'channel_name', 'expires_at', 'agora_uid',
          ]))
          .whereIn('channel_name', full.map((r) => r.channel_name))
          .as('ranked');
        await trx(TABLE)
          .whereIn(['channel_name', 'agora_uid'], trx.select('channel_name', 'agora_uid').from(ranked).where('rank', '>', options.maxPerChannel))
          .delete();
      }
    });
  }

  async list(channelName: string, now: Date, limit: number): Promise<ChannelMember[]> {
    const rows: MemberRow[] = await this.knex(TABLE)
      .select('channel_name', 'agora_uid', 'chat_username', 'expires_at')
      .where('channel_name', channelName)
      .andWhere('expires_at', '>', toEpochMs(now))
      .orderBy([{ column: 'expires_at', order: 'desc' }, { column: 'agora_uid', order: 'asc' }])
      .limit(limit);
    return rows.map((r) => ({
      channelName: r.channel_name, agoraUid: Number(r.agora_uid), chatUsername: r.chat_username, expiresAt: new Date(Number(r.expires_at)),
    }));
  }
}

reportingOutages(KnexChannelMemberStore);
