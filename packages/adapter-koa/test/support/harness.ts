import { ScryptPasswordHasher } from '@chat-app-server/core';
import { CHEAP_SCRYPT_PARAMETERS } from '@chat-app-server/core/testing';
import { startAgoraEmulator, type AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { DIALECTS as KNEX_DIALECTS, dialectNamed, requireDialect, type DialectName, type TestDatabase } from '@chat-app-server/adapter-knex/testing';

export type { DialectName, TestDatabase };
import { pino, type Logger } from 'pino';
import { checkContractOf } from './contract.js';
import { loadConfig, startServer, type ChatAppServer, type Env, type ServerOverrides } from '../../src/standalone/index.js';

export const TEST_AGORA = Object.freeze({
  appId: '0123456789abcdef0123456789abcdef',
  appCertificate: 'fedcba9876543210fedcba9876543210',
  orgName: 'testorg',
  appName: 'testapp',
});

/** Faults are retried twice, each try gets 300 ms, the whole call 1.5 s: fault tests stay fast. */
export const FAST_PROVISIONER = Object.freeze({ timeoutMs: 300, deadlineMs: 1500, retries: 2, retryBaseDelayMs: 10 });

/** A fresh database for one server (adapter-knex's test harness: a SQLite file, or a PostgreSQL schema). */
export function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  return dialectNamed(dialect).open();
}

/** For a `before` hook of a PostgreSQL suite: skip loudly when PostgreSQL is unreachable, but fail under CI=true. */
export function requirePostgres(ctx: Mocha.Context): Promise<void> {
  return requireDialect(ctx, dialectNamed('postgres'));
}

export const DIALECTS: readonly DialectName[] = KNEX_DIALECTS.map((d) => d.name);

export function startTestEmulator(): Promise<AgoraEmulator> {
  return startAgoraEmulator({ ...TEST_AGORA, port: 0, host: '127.0.0.1' });
}

/** The environment of a test server: the emulator as "real" Agora (the production code path). */
export function testEnv(db: TestDatabase, emulator: AgoraEmulator, extra: Env = {}): Env {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    AGORA_APP_ID: TEST_AGORA.appId,
    AGORA_APP_CERT: TEST_AGORA.appCertificate,
    AGORA_APP_KEY: emulator.appKey,
    AGORA_REST_API_URL: emulator.restApiUrl,
    LOG_LEVEL: 'silent',
    // Suites register many accounts from 127.0.0.1; the tests of this limit set their own.
    REGISTER_MAX_PER_ADDRESS: '100000',
    ...extra,
  };
}

/** Collects every log line of a server, to check what it logs (and what it never logs). */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger = pino({ level: 'debug' }, { write: (line: string) => void this.lines.push(line) });
  get text(): string {
    return this.lines.join('');
  }
}

export function cheapHasher(): ScryptPasswordHasher {
  return new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS, concurrency: 4, maxQueue: 1000 });
}

export interface TestServer extends ChatAppServer {
  readonly url: string;
  readonly db: TestDatabase;
  readonly logs: LogCapture;
  /** Closes the server and drops its database. */
  stop(): Promise<void>;
}

/** A server built by the standalone composition (buildServer), on a fresh database, listening on 127.0.0.1:0. */
export async function startTestServer(
  dialect: DialectName,
  emulator: AgoraEmulator,
  options: { env?: Env; overrides?: ServerOverrides } = {},
): Promise<TestServer> {
  const db = await createTestDatabase(dialect);
  try {
    const server = await startServerOn(db, emulator, options);
    const stopServer = server.stop;
    return Object.assign(server, {
      stop: async () => {
        await stopServer();
        await db.teardown();
      },
    });
  } catch (err) {
    await db.teardown();
    throw err;
  }
}

/** Another server instance on an existing test database (several instances sharing one database); `stop` leaves the database. */
export async function startServerOn(
  db: TestDatabase,
  emulator: AgoraEmulator,
  options: { env?: Env; overrides?: ServerOverrides } = {},
): Promise<TestServer> {
  const logs = new LogCapture();
  const config = loadConfig(testEnv(db, emulator, options.env));
  const server = await startServer(config, {
    passwordHasher: cheapHasher(),
    logger: logs.logger,
    provisioner: FAST_PROVISIONER,
    shutdownTimeoutMs: 3000,
    ...(db.schema ? { databaseSchema: db.schema } : {}),
    ...options.overrides,
  });
  // Every response of a test server is checked against the OpenAPI document (support/http.ts).
  checkContractOf(server.url, server.httpServer);
  return Object.assign(server, { db, logs, stop: () => server.close() });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
