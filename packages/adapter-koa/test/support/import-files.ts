import { writeFileSync } from 'node:fs';
import sqlite3 from 'sqlite3';

/** A row of the Django sample's `users_appuserinfo` (users/models.py: AppUserInfo). */
export interface DjangoRow {
  readonly id?: number;
  readonly user_account: unknown;
  readonly user_password: unknown;
  readonly agora_chat_user_name: unknown;
  readonly agora_chat_user_uuid: unknown;
}

/**
 * Writes a SQLite database with the table Django 4.1 creates for the sample's AppUserInfo model
 * (migrations 0001 and 0002: no unique account, only the unique (id, user_account) pair).
 */
export async function writeDjangoDatabase(file: string, rows: readonly DjangoRow[]): Promise<void> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(opened)));
  });
  const run = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())));
  try {
    await run(`CREATE TABLE "users_appuserinfo" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_account" varchar(32) NOT NULL,
      "user_password" varchar(32) NULL, "agora_chat_user_name" varchar(32) NOT NULL, "agora_chat_user_uuid" varchar(36) NULL,
      CONSTRAINT "id_user_account_unique_constraint" UNIQUE ("id", "user_account"))`);
    for (const row of rows) {
      await run(
        'insert into users_appuserinfo (id, user_account, user_password, agora_chat_user_name, agora_chat_user_uuid) values (?, ?, ?, ?, ?)',
        [row.id ?? null, row.user_account, row.user_password, row.agora_chat_user_name, row.agora_chat_user_uuid],
      );
    }
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/** The Java demo's `app_user_info` columns (doc/create_tables.sql), in its order. */
export const JAVA_COLUMNS = ['id', 'user_account', 'user_nickname', 'user_password', 'avatar_url', 'chat_user_name', 'agora_uid', 'appkey', 'created_at'] as const;

/** Writes a CSV export of `app_user_info` with a header row; `raw` lines are written as they are (malformed rows). */
export function writeJavaCsv(file: string, rows: ReadonlyArray<Partial<Record<(typeof JAVA_COLUMNS)[number], string>> | { raw: string }>): void {
  const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
  const lines = [JAVA_COLUMNS.join(',')];
  rows.forEach((row, i) => {
    if ('raw' in row) lines.push(row.raw as string);
    else lines.push(JAVA_COLUMNS.map((c) => quote(c === 'id' ? (row.id ?? String(i + 1)) : c === 'created_at' ? (row.created_at ?? '2024-05-01 10:00:00.000000') : (row[c] ?? ''))).join(','));
  });
  writeFileSync(file, `${lines.join('\n')}\n`);
}
