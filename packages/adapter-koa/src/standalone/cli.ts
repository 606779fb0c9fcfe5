#!/usr/bin/env node
import { createDatabase, migrateLatest } from '@chat-app-server/adapter-knex';
import { ConfigError, loadConfig, loadDatabaseConfig, readEnvironment } from './config.js';
import { startServer } from './server.js';

const USAGE = `Usage: chat-app-server [serve|migrate]

  serve    (default) migrate the database, then serve the HTTP API
  migrate  apply database migrations and exit

Configuration comes from the environment and a .env file in the working directory; see README.md.`;

async function main(argv: readonly string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const env = readEnvironment();
  if (command === 'migrate') return migrate(env);
  if (command === 'serve') return serve(env);
  console.error(`Unknown command "${command}".\n\n${USAGE}`);
  return 2;
}

async function migrate(env: NodeJS.ProcessEnv): Promise<number> {
  const { databaseUrl } = loadDatabaseConfig(env);
  const knex = createDatabase(databaseUrl);
  try {
    const applied = await migrateLatest(knex);
    console.log(applied.length === 0 ? 'The database is up to date.' : `Applied: ${applied.join(', ')}`);
    return 0;
  } finally {
    await knex.destroy();
  }
}

async function serve(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(env);
  const server = await startServer(config);
  return new Promise<number>((resolve) => {
    let signalled = false;
    const stop = (signal: NodeJS.Signals) => {
      if (signalled) {
        server.logger.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      signalled = true;
      server.logger.info({ signal }, 'shutting down');
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          server.logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else console.error('chat-app-server failed to start:', err);
    process.exit(1);
  },
);
