import type { Knex } from 'knex';

/**
 * Drops the (channel_name, expires_at) index of `channel_members`: listing one channel and ranking one
 * channel for the trim both find its rows by the primary key's channel_name prefix (a channel holds at
 * most `maxPerChannel` rows, cheap to sort), so the index only cost every upsert one more B-tree to
 * maintain. The (expires_at) index stays for the sweep of expired rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('channel_members', (table) => {
    table.dropIndex(['channel_name', 'expires_at'], 'channel_members_channel_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('channel_members', (table) => {
    table.index(['channel_name', 'expires_at'], 'channel_members_channel_expires_at_index');
  });
}
