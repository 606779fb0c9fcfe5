import { createDatabase, migrateLatest } from '@chat-app-server/adapter-knex';
import { loadDatabaseConfig } from '../config.js';
import { EXIT, type Command } from './command.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply database migrations and exit',
  usage: 'Usage: chat-app-server migrate\n\nApplies the database migrations to DATABASE_URL and exits.',
  async run(_args, { env, stdout }) {
    const { databaseUrl } = loadDatabaseConfig(env);
    const knex = createDatabase(databaseUrl);
    try {
      const applied = await migrateLatest(knex);
      stdout.write(applied.length === 0 ? 'The database is up to date.\n' : `Applied: ${applied.join(', ')}\n`);
      return EXIT.ok;
    } finally {
      await knex.destroy();
    }
  },
};
