import type { Knex } from 'knex';
import * as createChannelMembers from './0003-create-channel-members.js';

/**
 * `channel_members` by its primary key, so each upsert of the channel mapper maintains fewer B-trees:
 * - Drops the (channel_name, expires_at) index: listing one channel and ranking one channel for the trim
 *   both find its rows by the primary key's channel_name prefix (a channel holds at most `maxPerChannel`
 *   rows, cheap to sort), so the index only cost every upsert one more B-tree to maintain.
 * - SQLite only: rebuilds the table `WITHOUT ROWID` (same columns, NOT NULLs and primary key), stored in
 *   its primary key's B-tree rather than in a rowid table beside a primary-key index; rows are copied over
 *   in the migration's transaction. PostgreSQL has no rowid table: there only the index goes.
 * The (expires_at) index stays for the sweep of expired rows. On SQLite each upsert then maintains two
 * B-trees (the table and that index) instead of four; on PostgreSQL the heap and two indexes instead of
 * three. No foreign key, trigger or view refers to the table, so the rebuild needs no `PRAGMA foreign_keys`
 * care.
 */
const CHANNEL_EXPIRES_AT_INDEX = 'channel_members_channel_expires_at_index';
const EXPIRES_AT_INDEX = 'channel_members_expires_at_index';
const COLUMNS = ['channel_name', 'agora_uid', 'chat_username', 'expires_at'];

export async function up(knex: Knex): Promise<void> {
  if (!isSqlite(knex)) {
    await knex.schema.alterTable('channel_members', (table) => {
      table.dropIndex(['channel_name', 'expires_at'], CHANNEL_EXPIRES_AT_INDEX);
    });
    return;
  }
  // The columns of 0003; Knex's schema builder cannot say WITHOUT ROWID.
  await rebuildSqlite(knex, async () => {
    await knex.raw(
      'create table `channel_members` (`channel_name` text not null, `agora_uid` bigint not null, `chat_username` text not null, ' +
        '`expires_at` bigint not null, constraint `channel_members_pkey` primary key (`channel_name`, `agora_uid`)) without rowid',
    );
    await knex.schema.alterTable('channel_members', (table) => table.index(['expires_at'], EXPIRES_AT_INDEX));
  });
}

/** Back to the schema after 0004: on SQLite the rowid table of 0003, with both its indexes. */
export async function down(knex: Knex): Promise<void> {
  if (!isSqlite(knex)) {
    await knex.schema.alterTable('channel_members', (table) => {
      table.index(['channel_name', 'expires_at'], CHANNEL_EXPIRES_AT_INDEX);
    });
    return;
  }
  await rebuildSqlite(knex, () => createChannelMembers.up(knex));
}

function isSqlite(knex: Knex): boolean {
  return knex.client.config.client === 'sqlite3';
}

// As 0004 rebuilds `users`: the old table moves aside (its indexes go, so their names are free), the new
// one is created under the table's name, the rows are copied and the old table dropped.
async function rebuildSqlite(knex: Knex, createTable: () => Promise<void>): Promise<void> {
  await knex.schema.renameTable('channel_members', 'channel_members_old');
  for (const name of [CHANNEL_EXPIRES_AT_INDEX, EXPIRES_AT_INDEX]) await knex.raw('drop index if exists ??', [name]);
  await createTable();
  const columns = COLUMNS.map(() => '??').join(', ');
  await knex.raw(`insert into channel_members (${columns}) select ${columns} from channel_members_old`, [...COLUMNS, ...COLUMNS]);
  await knex.schema.dropTable('channel_members_old');
}
