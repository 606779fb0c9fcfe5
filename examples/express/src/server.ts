// Composition: the database, Agora (or the emulator in development), the core, the Express app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgoraAdapters, type AgoraAdapters } from '@chat-app-server/adapter-agora';
import { createDatabase, KnexUserRepository, migrateLatest } from '@chat-app-server/adapter-knex';
import { createCore, type Core } from '@chat-app-server/core';
import type { ErrorLogger } from '@chat-app-server/core/http';
import express from 'express';
import { chatRoutes } from './chat-routes.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ExampleServer {
  readonly url: string;
  readonly core: Core;
  /** Agora's side: in development, `agora.emulator` is the built-in emulator. */
  readonly agora: AgoraAdapters;
  readonly httpServer: Server;
  close(): Promise<void>;
}

const consoleLogger: ErrorLogger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

/** Starts the example backend with the standalone server's settings: PORT, HOST, DATABASE_URL, AGORA_*. */
export async function startExample(env: Env = process.env, logger: ErrorLogger = consoleLogger): Promise<ExampleServer> {
  const port = Number(env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a whole number from 0 to 65535, got "${env.PORT}".`);
  const agora = await createAgoraAdapters(env, { logger });
  const knex = createDatabase(env.DATABASE_URL ?? 'sqlite:./data/chat-app-server.sqlite');
  try {
    await migrateLatest(knex);
    const core = createCore({ users: new KnexUserRepository(knex), chatProvisioner: agora.chatProvisioner, tokens: agora.tokens, logger });

    const app = express();
    app.disable('x-powered-by');
    app.use('/api', chatRoutes(core, logger));

    const httpServer = createServer(app);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, env.HOST ?? '127.0.0.1', resolve);
    });
    const { address, port: bound } = httpServer.address() as AddressInfo;
    return {
      url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}`,
      core,
      agora,
      httpServer,
      async close() {
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await knex.destroy();
        await agora.close();
      },
    };
  } catch (err) {
    await knex.destroy();
    await agora.close();
    throw err;
  }
}
