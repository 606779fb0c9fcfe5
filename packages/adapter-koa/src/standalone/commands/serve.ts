import { isClusterWorker, runPrimary, runWorker } from '../cluster.js';
import { loadConfig } from '../config.js';
import { startServer } from '../server.js';
import { EXIT, type Command } from './command.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: '(default) migrate the database, then serve the HTTP API',
  usage:
    'Usage: chat-app-server serve\n\nMigrates the database, then serves the HTTP API until SIGTERM or SIGINT\n' +
    '(in WORKERS processes sharing the port).',
  async run(_args, { env }) {
    const config = loadConfig(env);
    if (isClusterWorker()) return runWorker(config, env);
    if (config.workers > 1) return runPrimary(config);
    const server = await startServer(config);
    return new Promise<number>((resolve) => {
      let signalled = false;
      const stop = (signal: NodeJS.Signals) => {
        if (signalled) {
          server.logger.warn({ signal }, 'second signal: exiting now');
          resolve(EXIT.failed);
          return;
        }
        signalled = true;
        server.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => resolve(EXIT.ok),
          (err: unknown) => {
            server.logger.error({ err }, 'shutdown failed');
            resolve(EXIT.failed);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
  },
};
