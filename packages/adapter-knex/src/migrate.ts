import type { Knex } from 'knex';
import { ChatAppServerMigrationSource } from './migrations/migration-source.js';

/**
 * Name of the table where Knex records this package's migrations. Its own name (not `knex_migrations`)
 * so that an embedding application can keep its own Knex migrations in the same database.
 */
export const MIGRATIONS_TABLE = 'chat_app_server_migrations';

function config(): Knex.MigratorConfig {
  return { migrationSource: new ChatAppServerMigrationSource(), tableName: MIGRATIONS_TABLE };
}

/**
 * Runs every migration not yet applied.
 * @returns the names of the migrations that ran (empty when the schema was up to date)
 */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, names] = (await knex.migrate.latest(config())) as [number, string[]];
  return names;
}

/**
 * Reverts the last batch of migrations (`all: true` reverts every batch).
 * @returns the names of the migrations that were reverted
 */
export async function migrateRollback(knex: Knex, options: { all?: boolean } = {}): Promise<string[]> {
  const [, names] = (await knex.migrate.rollback(config(), options.all ?? false)) as [number, string[]];
  return names;
}
