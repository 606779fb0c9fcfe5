import { createDatabase, migrateLatest, migrateRollback } from '@chat-app-server/adapter-knex';
import { loadDatabaseConfig } from '../config.js';
import { EXIT, UsageError, type Command } from './command.js';

/** The one migrate command: the server's own configuration (environment, `.env`), the server's messages. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply database migrations (or roll back the last batch) and exit',
  usage: 'Usage: chat-app-server migrate [--rollback]\n\nApplies the database migrations to DATABASE_URL and exits;\n--rollback reverts the last batch instead.',
  async run(args, { env, stdout }) {
    const unknown = args.filter((arg) => arg !== '--rollback');
    if (unknown.length > 0) throw new UsageError(`Unknown argument ${unknown.join(' ')}.`);
    const { databaseUrl } = loadDatabaseConfig(env);
    // No query timeout: a migration may build an index on a large table.
    const knex = createDatabase(databaseUrl, { queryTimeoutMs: 0 });
    try {
      if (args.includes('--rollback')) {
        const reverted = await migrateRollback(knex);
        stdout.write(reverted.length === 0 ? 'Nothing to roll back.\n' : `Rolled back: ${reverted.join(', ')}\n`);
      } else {
        const applied = await migrateLatest(knex);
        stdout.write(applied.length === 0 ? 'The database is up to date.\n' : `Applied: ${applied.join(', ')}\n`);
      }
      return EXIT.ok;
    } finally {
      await knex.destroy();
    }
  },
};
