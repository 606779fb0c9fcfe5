/**
 * The one place that reads driver errors. SQLite (node-sqlite3) and PostgreSQL (node-postgres) report
 * unique violations differently; everything else about a driver error is passed through untouched.
 */

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
