import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScryptPasswordHasher } from '@chat-app-server/core';
import { CHEAP_SCRYPT_PARAMETERS } from '@chat-app-server/core/testing';
import { startAgoraEmulator, type AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { createDatabase } from '@chat-app-server/adapter-knex';
import { pino, type Logger } from 'pino';
import { CONTRACT_CHECKED } from './contract.js';
import { loadConfig, startServer, type ChatAppServer, type Env, type ServerOverrides } from '../../src/standalone/index.js';

export const TEST_AGORA = Object.freeze({
  appId: '0123456789abcdef0123456789abcdef',
  appCertificate: 'fedcba9876543210fedcba9876543210',
  orgName: 'testorg',
  appName: 'testapp',
});

export const PG_TEST_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Faults are retried twice, each try gets 300 ms, the whole call 1.5 s: fault tests stay fast. */
export const FAST_PROVISIONER = Object.freeze({ timeoutMs: 300, deadlineMs: 1500, retries: 2, retryBaseDelayMs: 10 });

export type DialectName = 'sqlite' | 'postgres';

/** A fresh database for one server: a SQLite temp file, or a PostgreSQL schema dropped afterwards. */
export interface TestDatabase {
  readonly url: string;
  readonly schema?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'chat-app-server-koa-'));
    return { url: `sqlite:${join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `koa_test_${randomBytes(6).toString('hex')}`;
  const admin = createDatabase(PG_TEST_URL);
  try {
    await admin.raw('create schema ??', [schema]);
  } finally {
    await admin.destroy();
  }
  return {
    url: PG_TEST_URL,
    schema,
    drop: async () => {
      const knex = createDatabase(PG_TEST_URL);
      try {
        await knex.raw('drop schema if exists ?? cascade', [schema]);
      } finally {
        await knex.destroy();
      }
    },
  };
}

/** True when PostgreSQL answers within 3 s. */
export async function postgresReachable(): Promise<boolean> {
  const knex = createDatabase(PG_TEST_URL);
  try {
    await Promise.race([knex.raw('select 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref())]);
    return true;
  } catch {
    return false;
  } finally {
    await knex.destroy().catch(() => undefined);
  }
}

/**
 * For a `before` hook of a PostgreSQL suite: skip loudly when PostgreSQL is unreachable, but fail under CI=true.
 */
export async function requirePostgres(ctx: Mocha.Context): Promise<void> {
  if (await postgresReachable()) return;
  const message = `PostgreSQL at ${PG_TEST_URL.replace(/\/\/[^@/]*@/, '//***@')} is unreachable`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it (set PG_TEST_URL).`);
  console.warn(`\n  !!! SKIPPING the PostgreSQL HTTP suite: ${message}. Set PG_TEST_URL or start PostgreSQL; CI=true fails instead. !!!\n`);
  ctx.skip();
}

export const DIALECTS: readonly DialectName[] = ['sqlite', 'postgres'];

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
        await db.drop();
      },
    });
  } catch (err) {
    await db.drop();
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
  const origin = new URL(server.url).origin;
  CONTRACT_CHECKED.add(origin);
  return Object.assign(server, {
    db,
    logs,
    stop: async () => {
      CONTRACT_CHECKED.delete(origin);
      await server.close();
    },
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
