import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';

/** Options of {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /**
   * PostgreSQL only: the schema used for unqualified names (Knex `searchPath`), such as a per-tenant or
   * per-test schema. It must exist before tables are created in it.
   * @default the server's search_path (normally `public`)
   */
  readonly schema?: string;
  /**
   * The most connections in the pool. SQLite has one writer at a time, but WAL lets reads overlap, and
   * each query costs a turn of the event loop: under HTTP load one connection caps the database at one
   * query per turn (a login flood next to busy token traffic measured 503 answers of 2.7 s at p50 with
   * 1 connection, 0.9 s with 4). Writers wait for each other up to the busy timeout.
   * Ignored for `sqlite::memory:`, which exists on one connection only.
   * @default 10 for PostgreSQL, 4 for SQLite
   */
  readonly poolMax?: number;
  /**
   * SQLite only: how long a statement waits for another connection's write lock before failing (ms).
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
}

/** The URL forms {@link createDatabase} accepts, named in its error message. */
export const ACCEPTED_DATABASE_URLS = 'sqlite:<path>, sqlite::memory:, postgres://… or postgresql://…';

type SqliteConnection = { run(sql: string, callback: (err: Error | null) => void): void };

/**
 * Builds the Knex instance for a database URL. The caller owns it: run {@link migrateLatest}, pass it to
 * the adapters, and `destroy()` it on shutdown.
 *
 * - `sqlite:<path>` (relative to the working directory) or `sqlite::memory:`: driver sqlite3, WAL
 *   journal, foreign keys on, a busy timeout. A missing folder is created 0700 and a missing file 0600
 *   (SQLite gives its -wal and -shm files the file's mode): password hashes are for this user only. Writers (other connections, the
 *   migrate command, another instance) wait for each other up to the busy timeout.
 * - `postgres://…` / `postgresql://…`: driver pg.
 *
 * @throws TypeError naming the problem (missing, malformed, unsupported) and the accepted forms
 * @example
 * const knex = createDatabase(process.env.DATABASE_URL ?? 'sqlite:./data/chat-app-server.sqlite');
 * await migrateLatest(knex);
 * const users = new KnexUserRepository(knex);
 */
export function createDatabase(url: string, options: CreateDatabaseOptions = {}): Knex {
  // Embedders often pass process.env.DATABASE_URL straight through: name the problem, not a bare TypeError.
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TypeError(`The database URL is missing (is DATABASE_URL set?); use one of: ${ACCEPTED_DATABASE_URLS}.`);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (!URL.canParse(url)) {
      throw new TypeError(
        `The PostgreSQL URL "${redact(url)}" is malformed; expected postgres://user:password@host:5432/database ` +
          '(percent-encode special characters in the password).',
      );
    }
    return knexFactory({
      client: 'pg',
      connection: url,
      ...(options.schema === undefined ? {} : { searchPath: [options.schema] }),
      pool: { min: 0, max: options.poolMax ?? 10 },
    });
  }
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length);
    if (target === '') throw new TypeError(`The SQLite database URL has no path; use one of: ${ACCEPTED_DATABASE_URLS}.`);
    const filename = target === ':memory:' ? ':memory:' : resolve(target);
    if (filename !== ':memory:') createPrivateFile(filename);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    return knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: filename === ':memory:' ? 1 : (options.poolMax ?? 4),
        // The pool never reaps below `min`, so an in-memory database lives as long as the Knex instance.
        afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
          const pragmas = [`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`, 'PRAGMA foreign_keys = ON'];
          if (filename !== ':memory:') pragmas.push('PRAGMA journal_mode = WAL');
          runAll(conn, pragmas, (err) => done(err, conn));
        },
      },
    });
  }
  throw new TypeError(`Unsupported database URL "${redact(url)}"; use one of: ${ACCEPTED_DATABASE_URLS}.`);
}

// Existing folders and files keep their modes: they are the operator's (see insecureDatabaseFileWarning).
function createPrivateFile(filename: string): void {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(filename, 'wx', 0o600)); // an empty file is an empty SQLite database
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * A warning when the SQLite database of `url` is a file that other local users may read or write
 * (it holds the password hashes); `undefined` for a private file, a missing one, memory or PostgreSQL.
 */
export function insecureDatabaseFileWarning(url: string): string | undefined {
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return undefined;
  const filename = resolve(url.slice('sqlite:'.length));
  let mode: number;
  try {
    mode = statSync(filename).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  return `The SQLite database ${filename} is accessible to other local users (mode ${mode.toString(8).padStart(4, '0')}); ` +
    `it holds the password hashes. Restrict it: chmod 600 '${filename}'.`;
}

function runAll(conn: SqliteConnection, statements: readonly string[], done: (err: Error | null) => void): void {
  const [first, ...rest] = statements;
  if (first === undefined) return done(null);
  conn.run(first, (err) => (err ? done(err) : runAll(conn, rest, done)));
}

// Keeps a password that may sit in a mistyped URL out of error messages and logs.
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
