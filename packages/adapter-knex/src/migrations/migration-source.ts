import type { Knex } from 'knex';
import * as createUsers from './0001-create-users.js';
import * as createLoginFailures from './0002-create-login-failures.js';
import * as createChannelMembers from './0003-create-channel-members.js';
import * as accountLifecycle from './0004-account-lifecycle.js';
import * as channelMembersByPrimaryKey from './0005-channel-members-by-primary-key.js';

interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Imported statically so they are compiled into dist and run without a knexfile or a directory scan.
const MIGRATIONS: readonly Migration[] = [
  { name: '0001-create-users', ...createUsers },
  { name: '0002-create-login-failures', ...createLoginFailures },
  { name: '0003-create-channel-members', ...createChannelMembers },
  { name: '0004-account-lifecycle', ...accountLifecycle },
  { name: '0005-channel-members-by-primary-key', ...channelMembersByPrimaryKey },
];

/** The package's migrations, in order, for `knex.migrate` (`migrationSource` option). */
export class ChatAppServerMigrationSource implements Knex.MigrationSource<Migration> {
  async getMigrations(): Promise<Migration[]> {
    return [...MIGRATIONS];
  }

  getMigrationName(migration: Migration): string {
    return migration.name;
  }

  async getMigration(migration: Migration): Promise<Knex.Migration> {
    return { up: migration.up, down: migration.down };
  }
}
