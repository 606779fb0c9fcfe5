import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { createDatabase } from '../create-database.js';
import { migrateLatest } from '../migrate.js';
import { skipLoudly } from './loud-skip.js';

/** PostgreSQL of the test run; each database opened below lives in its own schema, dropped afterwards. */
export const PG_TEST_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export type DialectName = 'sqlite' | 'postgres';

/** A fresh database for one test suite: a SQLite file in a temporary folder, or a PostgreSQL schema. */
export interface TestDatabase {
  /** Its `DATABASE_URL`, for code that opens its own pool (a server under test). */
  readonly url: string;
  /** PostgreSQL only: the schema it lives in (`createDatabase`'s `schema` option, the server's `databaseSchema`). */
  readonly schema?: string;
  readonly knex: Knex;
  /** Another pool on the same database, as a second server instance would have; closed by teardown. */
  connectAgain(): Knex;
  /** Closes every pool opened here and deletes the database (its folder, or its schema). */
  teardown(): Promise<void>;
}

function closingExtraPools(open: () => Knex): { connectAgain(): Knex; closeAll(): Promise<void> } {
  const extra: Knex[] = [];
  return {
    connectAgain() {
      const knex = open();
      extra.push(knex);
      return knex;
    },
    async closeAll() {
      await Promise.all(extra.map((k) => k.destroy()));
    },
  };
}

export interface Dialect {
  readonly name: DialectName;
  /** A fresh, empty database (no migrations run). */
  open(): Promise<TestDatabase>;
  /** A fresh database with the package's migrations applied. */
  openMigrated(): Promise<TestDatabase>;
}

async function openSqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'adapter-knex-'));
  const url = `sqlite:${join(dir, 'test.sqlite')}`;
  const knex = createDatabase(url);
  const pools = closingExtraPools(() => createDatabase(url));
  return {
    url,
    knex,
    connectAgain: pools.connectAgain,
    async teardown() {
      await pools.closeAll();
      await knex.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(): Promise<TestDatabase> {
  const schema = `cas_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = createDatabase(PG_TEST_URL, { poolMax: 1 });
  await admin.raw('create schema ??', [schema]);
  const knex = createDatabase(PG_TEST_URL, { schema, poolMax: 20 });
  const pools = closingExtraPools(() => createDatabase(PG_TEST_URL, { schema, poolMax: 20 }));
  return {
    url: PG_TEST_URL,
    schema,
    knex,
    connectAgain: pools.connectAgain,
    async teardown() {
      await pools.closeAll();
      await knex.destroy();
      try {
        await admin.raw('drop schema ?? cascade', [schema]);
      } finally {
        await admin.destroy();
      }
    },
  };
}

function dialect(name: DialectName, open: () => Promise<TestDatabase>): Dialect {
  return {
    name,
    open,
    async openMigrated() {
      const db = await open();
      try {
        await migrateLatest(db.knex);
      } catch (err) {
        await db.teardown();
        throw err;
      }
      return db;
    },
  };
}

export const DIALECTS: readonly Dialect[] = [dialect('sqlite', openSqlite), dialect('postgres', openPostgres)];

/** The dialect called `name`. */
export function dialectNamed(name: DialectName): Dialect {
  const found = DIALECTS.find((d) => d.name === name);
  if (!found) throw new RangeError(`No test dialect "${String(name)}".`);
  return found;
}

// The URL without a password, for messages.
const SHOWN_PG_TEST_URL = PG_TEST_URL.replace(/\/\/[^@/]*@/, '//***@');

let pgReachable: Promise<unknown> | undefined;

/** Resolves when PostgreSQL answers; the reason when it does not. Probed once per run. */
function probePostgres(): Promise<unknown> {
  pgReachable ??= (async () => {
    const probe = createDatabase(PG_TEST_URL, { poolMax: 1 });
    try {
      // A black-holed host would otherwise hang until Knex's 60 s acquire timeout.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      });
      await Promise.race([probe.raw('select 1'), timeout]).finally(() => clearTimeout(timer));
      return undefined;
    } catch (err) {
      return err;
    } finally {
      await probe.destroy();
    }
  })();
  return pgReachable;
}

/**
 * Skips the PostgreSQL half (loudly) when the server is unreachable; under `CI=true` that is a failure.
 * Call inside a suite's `before` hook.
 */
export async function requireDialect(context: Mocha.Context, dialect: Dialect): Promise<void> {
  if (dialect.name !== 'postgres') return;
  const failure = await probePostgres();
  if (failure === undefined) return;
  const reason = failure instanceof Error ? failure.message : String(failure);
  skipLoudly(context, `PostgreSQL at ${SHOWN_PG_TEST_URL} is unreachable (${reason})`, 'PostgreSQL tests', 'Set PG_TEST_URL');
}

/**
 * Registers `body` once per dialect under "<title> [<dialect>]": one test body for SQLite and PostgreSQL.
 */
export function describeEachDialect(title: string, body: (dialect: Dialect) => void): void {
  for (const d of DIALECTS) {
    describe(`${title} [${d.name}]`, function () {
      before(async function () {
        await requireDialect(this, d);
      });
      body(d);
    });
  }
}

/**
 * Opens one migrated database for the enclosing suite and hands it to each test through the getter.
 * Tests use fresh account keys, so they can share it.
 */
export function useMigratedDatabase(dialect: Dialect): () => Knex {
  return useMigratedTestDatabase(dialect).knex;
}

/** {@link useMigratedDatabase}, with the whole {@link TestDatabase} (for a second pool). */
export function useMigratedTestDatabase(dialect: Dialect): { knex: () => Knex; db: () => TestDatabase } {
  let db: TestDatabase | undefined;
  before(async function () {
    db = await dialect.openMigrated();
  });
  after(async function () {
    await db?.teardown();
  });
  const current = () => {
    if (!db) throw new Error('The database is not open (before hook failed or was skipped).');
    return db;
  };
  return { knex: () => current().knex, db: current };
}
