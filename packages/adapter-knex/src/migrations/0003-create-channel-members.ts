import type { Knex } from 'knex';

/**
 * Who holds an RTC token for which channel (the channel mapper), shared by every server instance.
 * One row per channel and uid; `expires_at` (epoch ms) is the newest token's expiry.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('channel_members', (table) => {
    table.text('channel_name').notNullable();
    table.bigInteger('agora_uid').notNullable();
    table.text('chat_username').notNullable();
    table.bigInteger('expires_at').notNullable();
    table.primary(['channel_name', 'agora_uid'], 'channel_members_pkey');
    // Listing and trimming one channel by expiry; deleting expired rows everywhere.
    table.index(['channel_name', 'expires_at'], 'channel_members_channel_expires_at_index');
    table.index(['expires_at'], 'channel_members_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('channel_members');
}
