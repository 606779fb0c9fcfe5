/**
 * The one place that reads driver errors. SQLite (node-sqlite3) and PostgreSQL (node-postgres) report
 * unique violations and outages differently; everything else about a driver error is passed through untouched.
 */
import { DatabaseUnavailableError, hasCode } from '@chat-app-server/core';

/** A unique column of the `users` table. */
export type UsersUniqueColumn = 'account_key' | 'chat_username' | 'agora_uid' | 'chat_uuid';

const USERS_UNIQUE_COLUMNS: readonly UsersUniqueColumn[] = ['account_key', 'chat_username', 'agora_uid', 'chat_uuid'];

/** Constraint names given by the migrations; PostgreSQL reports them in `err.constraint`. */
export const USERS_UNIQUE_CONSTRAINTS: Readonly<Record<UsersUniqueColumn, string>> = Object.freeze({
  account_key: 'users_account_key_unique',
  chat_username: 'users_chat_username_unique',
  agora_uid: 'users_agora_uid_unique',
  chat_uuid: 'users_chat_uuid_unique',
});

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
  name?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/**
 * The `users` column whose unique constraint `err` violates, or `undefined` when `err` is anything else.
 * SQLite: `SQLITE_CONSTRAINT` with "UNIQUE constraint failed: users.<column>".
 * PostgreSQL: SQLSTATE 23505 with the constraint name.
 */
export function usersUniqueViolation(err: unknown): UsersUniqueColumn | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, constraint, message } = err as DriverError;
  if (code === '23505' && typeof constraint === 'string') {
    return USERS_UNIQUE_COLUMNS.find((column) => USERS_UNIQUE_CONSTRAINTS[column] === constraint);
  }
  if (code === 'SQLITE_CONSTRAINT' && typeof message === 'string') {
    const match = /UNIQUE constraint failed: users\.(\w+)/.exec(message);
    return USERS_UNIQUE_COLUMNS.find((column) => column === match?.[1]);
  }
  return undefined;
}

// The socket to the database failed: refused, reset, unreachable, or its name does not resolve (now).
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN',
]);

// PostgreSQL SQLSTATEs of a server that is going away, starting, out of resources, or that cancelled a
// statement at `statement_timeout` (57014). Class 08 is "connection exception" as a whole.
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '57014', '53000', '53100', '53200', '53300', '58030']);

// node-sqlite3: the write lock stayed taken past the busy timeout, the disk failed or is full, the file
// cannot be opened (its volume went away). Constraint and syntax errors are the caller's, not outages.
const SQLITE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL']);

// node-postgres and Knex say these in words only, without a code: a connection that ended or timed
// out. Knex puts the statement in front of a query's message (with placeholders, never values).
const OUTAGE_MESSAGES = [
  /Connection terminated/, // "... unexpectedly", "... due to connection timeout"
  /Query read timeout$/, // the client-side query_timeout: the server said nothing in time
  /is not queryable$/, // a client whose connection failed or ended
  /^timeout expired$/, // the connect timeout
  /Connection ended unexpectedly$/,
];

/**
 * True when `err` says the database is unreachable, failing or too slow (refused or dropped connection,
 * shutdown, pool acquisition or query timeout, SQLite's lock wait or I/O failure), as opposed to an
 * error of the statement itself (a constraint, bad input, a bug). Looks through `cause` and AggregateError.
 */
export function isDatabaseOutage(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const { code, name, message, errors, cause } = err as DriverError;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code) || SQLITE_CODES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  // Knex's pool acquisition timeout, and a query's own `.timeout()`.
  if (name === 'KnexTimeoutError') return true;
  // A database's own error always has a code: the words are looked at only without one.
  if (code === undefined && typeof message === 'string' && OUTAGE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseOutage(inner, depth + 1))) return true;
  return cause !== undefined && isDatabaseOutage(cause, depth + 1);
}

/** `err` as the adapters' callers should see it: a {@link DatabaseUnavailableError} for an outage, else itself. */
export function toDatabaseError(err: unknown): unknown {
  if (hasCode(err, 'database_unavailable') || !isDatabaseOutage(err)) return err;
  return new DatabaseUnavailableError({ cause: err });
}

const AsyncFunction = (async () => undefined).constructor;

/**
 * Makes every async method of `target` (a class) report database outages as {@link DatabaseUnavailableError},
 * so each method of a port is covered, new ones included, without a try/catch of its own. Errors that
 * are not outages pass through as they are.
 */
export function reportingOutages<T extends abstract new (...args: never[]) => object>(target: T): T {
  const prototype = target.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)!;
    const method = descriptor.value;
    if (name === 'constructor' || !(method instanceof AsyncFunction)) continue;
    const run = method as (...args: unknown[]) => Promise<unknown>;
    const guarded = {
      async [name](this: unknown, ...args: unknown[]): Promise<unknown> {
        try {
          return await run.apply(this, args);
        } catch (err) {
          throw toDatabaseError(err);
        }
      },
    }[name]!;
    Object.defineProperty(prototype, name, { ...descriptor, value: guarded });
  }
  return target;
}
