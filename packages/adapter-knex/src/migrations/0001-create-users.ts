import type { Knex } from 'knex';
import { USERS_UNIQUE_CONSTRAINTS } from '../db-errors.js';

/**
 * The `users` table. The database itself enforces the domain's guarantees: unique account key, chat
 * username, agoraUid and chat uuid; a known status; an active row always has its chat uuid and no lease.
 * Timestamps are epoch milliseconds in bigint columns: exact on both drivers, no time-zone surprises.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.increments('id').primary();
    table.text('account').notNullable();
    table.text('account_key').notNullable().unique({ indexName: USERS_UNIQUE_CONSTRAINTS.account_key });
    table.text('password_hash').nullable();
    table.text('chat_username').notNullable().unique({ indexName: USERS_UNIQUE_CONSTRAINTS.chat_username });
    table.text('chat_uuid').nullable().unique({ indexName: USERS_UNIQUE_CONSTRAINTS.chat_uuid });
    table.bigInteger('agora_uid').notNullable().unique({ indexName: USERS_UNIQUE_CONSTRAINTS.agora_uid });
    table.text('status').notNullable();
    table.text('lease_id').nullable();
    table.bigInteger('lease_expires_at').nullable();
    table.bigInteger('creation_attempted_at').nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    // A migration is history: these literals stay; a new status in core's USER_STATUSES needs a new migration.
    table.check("?? in ('pending', 'active')", ['status'], 'users_status_check');
    table.check('?? between 1 and 4294967295', ['agora_uid'], 'users_agora_uid_range_check');
    table.check(
      "(?? = 'pending' and ?? is not null) or (?? = 'active' and ?? is not null and ?? is null)",
      ['status', 'lease_id', 'status', 'chat_uuid', 'lease_id'],
      'users_status_fields_check',
    );
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
