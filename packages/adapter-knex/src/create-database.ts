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
   * SQLite runs each statement, and its wait for another connection's write lock, on Node's thread
   * pool (`UV_THREADPOOL_SIZE`, 4 unless set), which password hashes share: when waiting connections and
   * hashes hold every thread, the connection that has the lock cannot commit, and the waiters fail with
   * SQLITE_BUSY once the busy timeout is over. The default leaves one thread beyond two hashes (core's
   * default) and the connections that can wait.
   * @default 10 for PostgreSQL; for SQLite, 4, or the thread pool's size minus 2 when that is smaller (at least 1)
   */
  readonly poolMax?: number;
  /**
   * SQLite only: how long a statement waits for another connection's write lock before failing (ms).
   * @default `queryTimeoutMs` (5000 when that is 0)
   */
  readonly busyTimeoutMs?: number;
  /**
   * How long a query waits for a connection from the pool, connecting included, before it fails (ms):
   * Knex's `acquireConnectionTimeout`, and PostgreSQL's connect timeout. Knex's own default is a minute,
   * which turns a database that does not answer into requests that hang.
   * @default {@link DEFAULT_ACQUIRE_TIMEOUT_MS}
   */
  readonly acquireTimeoutMs?: number;
  /**
   * How long one statement may take (ms). PostgreSQL: the server's `statement_timeout`, and the same
   * client-side read timeout for a server that says nothing at all (stopped, frozen, cut off by the
   * network). SQLite: the busy timeout (unless `busyTimeoutMs` is given). `0`: no limit, e.g. for
   * migrations that build an index on a large table (a query parameter of a PostgreSQL URL wins).
   * @default {@link DEFAULT_QUERY_TIMEOUT_MS}
   */
  readonly queryTimeoutMs?: number;
  /**
   * Where Knex's own messages go (such as "Connection Error: ..." while the database is down), instead
   * of the console. Each receives Knex's message.
   */
  readonly log?: DatabaseLog;
}

/** Knex's logger: one function per level, each given Knex's message. */
export interface DatabaseLog {
  warn(message: string): void;
  error(message: string): void;
  deprecate(method: string, alternative: string): void;
  debug(message: string): void;
}

/** {@link CreateDatabaseOptions.acquireTimeoutMs}'s default: a few seconds, then 503 rather than a hanging request. */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 3000;
/** {@link CreateDatabaseOptions.queryTimeoutMs}'s default. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5000;

const CONNECT_TIMEOUT_MARGIN_MS = 100;

/** The URL forms {@link createDatabase} accepts, named in its error message. */
export const ACCEPTED_DATABASE_URLS = 'sqlite:<path>, sqlite::memory:, postgres://… or postgresql://…';

// With N connections, N - 1 may wait for the write lock, each on a thread, next to 2 hashes: N - 1 + 2
// must stay below the thread pool's size for the lock holder to get a thread to commit.
function defaultSqlitePoolMax(): number {
  const threads = Number.parseInt(process.env['UV_THREADPOOL_SIZE'] ?? '', 10);
  return Math.max(1, Math.min(4, (Number.isInteger(threads) && threads > 0 ? threads : 4) - 2));
}

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
 * Both are bounded by the acquisition and query timeouts: a database that is down, frozen or out of
 * connections fails the query within seconds (the adapters then raise `DatabaseUnavailableError`).
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
  const acquireTimeoutMs = Math.trunc(options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS);
  const logOption = options.log ? { log: options.log } : {};
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    if (!URL.canParse(url)) {
      throw new TypeError(
        `The PostgreSQL URL "${redact(url)}" is malformed; expected postgres://user:password@host:5432/database ` +
          '(percent-encode special characters in the password).',
      );
    }
    const queryTimeoutMs = Math.trunc(options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
    return knexFactory({
      client: 'pg',
      connection: {
        connectionString: url,
        // A little shorter than the acquisition timeout: a connection attempt that times out then fails
        // the query that waits for it, not the next one to come along (the pool hands it its error).
        connectionTimeoutMillis: Math.max(1, acquireTimeoutMs - CONNECT_TIMEOUT_MARGIN_MS),
        // statement_timeout cancels a long statement on the server; query_timeout gives up on a server
        // that does not answer at all (a frozen server never runs its own timer).
        ...(queryTimeoutMs > 0 ? { statement_timeout: queryTimeoutMs, query_timeout: queryTimeoutMs } : {}),
      },
      acquireConnectionTimeout: acquireTimeoutMs,
      ...(options.schema === undefined ? {} : { searchPath: [options.schema] }),
      ...logOption,
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        // A connection whose query timed out still waits for the server's answer: queries sent on it
        // would queue behind that answer, so it is replaced instead of reused.
        validate: (conn: { readyForQuery?: boolean }) => conn.readyForQuery !== false,
      },
    });
  }
  if (url.startsWith('sqlite:')) {
    const target = url.slice('sqlite:'.length);
    if (target === '') throw new TypeError(`The SQLite database URL has no path; use one of: ${ACCEPTED_DATABASE_URLS}.`);
    const filename = target === ':memory:' ? ':memory:' : resolve(target);
    if (filename !== ':memory:') createPrivateFile(filename);
    const busyTimeoutMs = options.busyTimeoutMs ?? (options.queryTimeoutMs || DEFAULT_QUERY_TIMEOUT_MS);
    return knexFactory({
      client: 'sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      acquireConnectionTimeout: acquireTimeoutMs,
      ...logOption,
      pool: {
        min: 1,
        max: filename === ':memory:' ? 1 : (options.poolMax ?? defaultSqlitePoolMax()),
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
