import type { Knex } from 'knex';
import { USERS_UNIQUE_CONSTRAINTS } from '../db-errors.js';

/**
 * Account lifecycle: the `disabled` and `deleting` statuses and the per-user revocation boundary
 * `tokens_not_before` (whole seconds; chat tokens issued before it are refused). A `disabled` row
 * keeps its chat uuid; a `deleting` row may come from an abandoned registration, so it may have none.
 * SQLite cannot change a check constraint in place, so there the table is rebuilt (in the migration's
 * transaction); PostgreSQL swaps the constraints.
 */
const BEFORE = {
  statuses: "?? in ('pending', 'active')",
  statusBindings: ['status'],
  fields: "(?? = 'pending' and ?? is not null) or (?? = 'active' and ?? is not null and ?? is null)",
  fieldBindings: ['status', 'lease_id', 'status', 'chat_uuid', 'lease_id'],
};
const AFTER = {
  statuses: "?? in ('pending', 'active', 'disabled', 'deleting')",
  statusBindings: ['status'],
  fields:
    "(?? = 'pending' and ?? is not null) or (?? in ('active', 'disabled') and ?? is not null and ?? is null) or (?? = 'deleting' and ?? is null)",
  fieldBindings: ['status', 'lease_id', 'status', 'chat_uuid', 'lease_id', 'status', 'lease_id'],
};
type Checks = typeof BEFORE;

const COMMON_COLUMNS = [
  'id', 'account', 'account_key', 'password_hash', 'chat_username', 'chat_uuid', 'agora_uid', 'status', 'lease_id',
  'lease_expires_at', 'creation_attempted_at', 'created_at', 'updated_at',
];

export async function up(knex: Knex): Promise<void> {
  if (isSqlite(knex)) {
    await rebuildSqlite(knex, AFTER, true);
  } else {
    await knex.schema.alterTable('users', (table) => {
      table.bigInteger('tokens_not_before').notNullable().defaultTo(0);
      table.dropChecks(['users_status_check', 'users_status_fields_check']);
    });
    await addChecks(knex, AFTER);
  }
  // The server's periodic job looks for unfinished deletions.
  await knex.schema.alterTable('users', (table) => table.index(['status', 'account_key'], 'users_status_account_key_index'));
}

/** Refuses to go back while accounts are disabled or being deleted: the old schema cannot hold them. */
export async function down(knex: Knex): Promise<void> {
  const blocking = await knex('users').whereIn('status', ['disabled', 'deleting']).count({ n: '*' }).first();
  if (Number(blocking?.n ?? 0) > 0) {
    throw new Error('Cannot roll back the account lifecycle migration: enable or finish deleting the disabled and deleting accounts first.');
  }
  await knex.schema.alterTable('users', (table) => table.dropIndex(['status', 'account_key'], 'users_status_account_key_index'));
  if (isSqlite(knex)) {
    await rebuildSqlite(knex, BEFORE, false);
  } else {
    await knex.schema.alterTable('users', (table) => {
      table.dropChecks(['users_status_check', 'users_status_fields_check']);
      table.dropColumn('tokens_not_before');
    });
    await addChecks(knex, BEFORE);
  }
}

function isSqlite(knex: Knex): boolean {
  return knex.client.config.client === 'sqlite3';
}

// Raw, because Knex leaves the bindings of checks added by alterTable unresolved on PostgreSQL.
async function addChecks(knex: Knex, checks: Checks): Promise<void> {
  await knex.raw(`alter table users add constraint users_status_check check (${checks.statuses})`, checks.statusBindings);
  await knex.raw(`alter table users add constraint users_status_fields_check check (${checks.fields})`, checks.fieldBindings);
}

// The users table of 0001 with other checks (and, going up, the revocation boundary), rows copied over.
async function rebuildSqlite(knex: Knex, checks: Checks, withTokensNotBefore: boolean): Promise<void> {
  await knex.schema.renameTable('users', 'users_old');
  for (const name of Object.values(USERS_UNIQUE_CONSTRAINTS)) await knex.raw('drop index if exists ??', [name]);
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
    if (withTokensNotBefore) table.bigInteger('tokens_not_before').notNullable().defaultTo(0);
    table.check(checks.statuses, checks.statusBindings, 'users_status_check');
    table.check('?? between 1 and 4294967295', ['agora_uid'], 'users_agora_uid_range_check');
    table.check(checks.fields, checks.fieldBindings, 'users_status_fields_check');
  });
  await knex.raw(`insert into users (${COMMON_COLUMNS.map(() => '??').join(', ')}) select ${COMMON_COLUMNS.map(() => '??').join(', ')} from users_old`, [
    ...COMMON_COLUMNS, ...COMMON_COLUMNS,
  ]);
  await knex.schema.dropTable('users_old');
}
