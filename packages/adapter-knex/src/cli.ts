#!/usr/bin/env node
import { createDatabase } from './create-database.js';
import { migrateLatest, migrateRollback } from './migrate.js';

// chat-app-server-migrate [--rollback]: applies (or reverts the last batch of) the schema on DATABASE_URL.
async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--rollback');
  if (unknown.length > 0) {
    console.error(`Unknown argument ${unknown.join(' ')}. Usage: chat-app-server-migrate [--rollback]`);
    return 2;
  }
  const url = process.env['DATABASE_URL'];
  if (!url) {
    console.error('DATABASE_URL is not set (for example sqlite:./data/chat-app-server.sqlite or postgres://…).');
    return 2;
  }
  const knex = createDatabase(url);
  try {
    if (argv.includes('--rollback')) {
      const names = await migrateRollback(knex);
      console.log(names.length === 0 ? 'Nothing to roll back.' : `Rolled back: ${names.join(', ')}`);
    } else {
      const names = await migrateLatest(knex);
      console.log(names.length === 0 ? 'Already up to date.' : `Migrated: ${names.join(', ')}`);
    }
    return 0;
  } finally {
    await knex.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
