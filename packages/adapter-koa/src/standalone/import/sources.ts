import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sqlite3 from 'sqlite3';
import { AGORA_UID_MAX, isValidAgoraUid } from '@chat-app-server/core';
import { readCsv, type CsvRecord } from './csv.js';

/** The kinds of file `import` reads. */
export type SourceKind = 'django-sqlite' | 'java-csv' | 'accounts';

/** One user read from a source file. */
export interface SourceRow {
  /** Where it is in the file: `line 12`, `id 7`. */
  readonly ref: string;
  readonly userAccount: string;
  /** Plain text (the sample servers stored it so); absent for `accounts`. */
  readonly password?: string;
  readonly chatUsername?: string;
  readonly chatUuid?: string;
  readonly agoraUid?: number;
  /** Something the report must say about an imported row (a uid that could not be kept). */
  readonly note?: { readonly reason: string; readonly message: string };
  /** The Java demo's `appkey` column, when the file has one. */
  readonly appKey?: string;
}

/** A row that cannot be imported as read, with the file position, column and reason. */
export interface RowProblem {
  readonly ref: string;
  readonly userAccount?: string;
  readonly reason: string;
  readonly message: string;
}

export interface Source {
  readonly kind: SourceKind;
  readonly file: string;
  readonly rows: SourceRow[];
  readonly problems: RowProblem[];
}

/** The file cannot be read as this kind of source at all (missing, wrong table, wrong header). */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

export async function readSource(kind: SourceKind, file: string): Promise<Source> {
  switch (kind) {
    case 'django-sqlite':
      return readDjangoSqlite(file);
    case 'java-csv':
      return readJavaCsv(file);
    case 'accounts':
      return readAccounts(file);
  }
}

const DJANGO_TABLE = 'users_appuserinfo';
const DJANGO_COLUMNS = ['id', 'user_account', 'user_password', 'agora_chat_user_name', 'agora_chat_user_uuid'] as const;

/** The Django sample's SQLite database (`users/models.py`: AppUserInfo), opened read-only. */
async function readDjangoSqlite(file: string): Promise<Source> {
  await readable(file);
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const opened: sqlite3.Database = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => (err ? reject(err) : resolve(opened)));
  }).catch((err: unknown) => {
    throw new SourceError(`${file}: cannot open it as a SQLite database (${(err as Error).message}).`);
  });
  const all = (sql: string) =>
    new Promise<Array<Record<string, unknown>>>((resolve, reject) => db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows as Array<Record<string, unknown>>))));
  try {
    let columns: string[];
    try {
      columns = (await all(`pragma table_info(${DJANGO_TABLE})`)).map((c) => String(c['name']));
    } catch (err) {
      throw new SourceError(`${file}: not a SQLite database (${(err as Error).message}).`);
    }
    if (columns.length === 0) {
      throw new SourceError(`${file}: no table ${DJANGO_TABLE}; is this the Django sample's db.sqlite3 (after \`manage.py migrate\`)?`);
    }
    const missing = DJANGO_COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0) throw new SourceError(`${file}: table ${DJANGO_TABLE} has no column ${missing.join(', ')}.`);
    const rows: SourceRow[] = [];
    const problems: RowProblem[] = [];
    for (const row of await all(`select ${DJANGO_COLUMNS.join(', ')} from ${DJANGO_TABLE} order by id`)) {
      const ref = `id ${String(row['id'])}`;
      const account = row['user_account'];
      const bad = (column: string, what: string) =>
        problems.push({ ref, ...(typeof account === 'string' ? { userAccount: account } : {}), reason: 'malformed_row', message: `column ${column}: ${what}` });
      if (typeof account !== 'string') {
        bad('user_account', `expected text, found ${describe(account)}`);
        continue;
      }
      const password = row['user_password'];
      const chatUsername = row['agora_chat_user_name'];
      const uuid = row['agora_chat_user_uuid'];
      if (password !== null && typeof password !== 'string') bad('user_password', `expected text, found ${describe(password)}`);
      else if (typeof chatUsername !== 'string') bad('agora_chat_user_name', `expected text, found ${describe(chatUsername)}`);
      else if (uuid !== null && typeof uuid !== 'string') bad('agora_chat_user_uuid', `expected text, found ${describe(uuid)}`);
      else if (!password) problems.push({ ref, userAccount: account, reason: 'no_password', message: 'column user_password is empty: the user could never log in' });
      else {
        rows.push({ ref, userAccount: account, password, chatUsername, ...(uuid ? { chatUuid: uuid } : {}) });
      }
    }
    return { kind: 'django-sqlite', file, rows, problems };
  } finally {
    db.close();
  }
}

const JAVA_COLUMNS = ['user_account', 'user_password', 'chat_user_name', 'agora_uid'] as const;

/** The Java demo's `app_user_info` table (`doc/create_tables.sql`) exported as CSV with a header row. */
async function readJavaCsv(file: string): Promise<Source> {
  const csv = readCsv(await readable(file));
  const column = columnsOf(file, csv.header, JAVA_COLUMNS, ['appkey']);
  const rows: SourceRow[] = [];
  const problems: RowProblem[] = csv.malformed.map(({ line, message }) => ({ ref: `line ${line}`, reason: 'malformed_row', message }));
  for (const record of csv.records) {
    const ref = `line ${record.line}`;
    const get = (name: string) => valueOf(record, column(name));
    const userAccount = get('user_account') ?? '';
    const password = get('user_password');
    if (!password) {
      problems.push({ ref, userAccount, reason: 'no_password', message: 'column user_password is empty: the user could never log in' });
      continue;
    }
    const rawUid = get('agora_uid') ?? '';
    const uid = /^\d{1,10}$/.test(rawUid.trim()) ? Number(rawUid.trim()) : NaN;
    const keep = isValidAgoraUid(uid);
    const appKey = get('appkey');
    rows.push({
      ref, userAccount, password, chatUsername: get('chat_user_name') ?? '',
      ...(keep ? { agoraUid: uid } : { note: { reason: 'agora_uid_redrawn', message: `column agora_uid: "${rawUid}" is not in 1..${AGORA_UID_MAX}; a new uid was drawn` } }),
      ...(appKey ? { appKey } : {}),
    });
  }
  return { kind: 'java-csv', file, rows, problems };
}

/** Accounts of an existing backend: CSV with a `userAccount` header (and optional `chatUserName`), or JSON Lines. */
async function readAccounts(file: string): Promise<Source> {
  const extension = extname(file).toLowerCase();
  const text = await readable(file);
  const rows: SourceRow[] = [];
  const problems: RowProblem[] = [];
  if (extension === '.csv') {
    const csv = readCsv(text);
    const column = columnsOf(file, csv.header, ['userAccount'], ['chatUserName']);
    problems.push(...csv.malformed.map(({ line, message }) => ({ ref: `line ${line}`, reason: 'malformed_row', message })));
    for (const record of csv.records) {
      const chatUsername = valueOf(record, column('chatUserName'));
      rows.push({ ref: `line ${record.line}`, userAccount: valueOf(record, column('userAccount')) ?? '', ...(chatUsername ? { chatUsername } : {}) });
    }
  } else if (extension === '.jsonl' || extension === '.ndjson') {
    text.replace(/^\ufeff/, '').split(/\r?\n/).forEach((line, i) => {
      const ref = `line ${i + 1}`;
      if (line.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        return problems.push({ ref, reason: 'malformed_row', message: `not JSON: ${(err as Error).message}` });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return problems.push({ ref, reason: 'malformed_row', message: 'expected a JSON object such as {"userAccount":"jack"}' });
      }
      const { userAccount, chatUserName } = value as Record<string, unknown>;
      if (typeof userAccount !== 'string') return problems.push({ ref, reason: 'malformed_row', message: 'key userAccount: expected a string' });
      if (chatUserName !== undefined && chatUserName !== null && typeof chatUserName !== 'string') {
        return problems.push({ ref, userAccount, reason: 'malformed_row', message: 'key chatUserName: expected a string' });
      }
      rows.push({ ref, userAccount, ...(chatUserName ? { chatUsername: chatUserName } : {}) });
    });
  } else {
    throw new SourceError(`${file}: an accounts file must end in .csv or .jsonl (JSON Lines).`);
  }
  return { kind: 'accounts', file, rows, problems };
}

async function readable(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SourceError(code === 'ENOENT' ? `${file}: no such file.` : `${file}: cannot read it (${(err as Error).message}).`);
  }
}

/** Maps wanted column names to the header's own spelling (case and spaces ignored); names what is missing. */
function columnsOf(file: string, header: readonly string[], required: readonly string[], optional: readonly string[]): (name: string) => string | undefined {
  const byKey = new Map(header.map((name) => [name.trim().toLowerCase(), name]));
  const missing = required.filter((name) => !byKey.has(name.toLowerCase()));
  if (missing.length > 0) {
    throw new SourceError(
      `${file}: the header row has no column ${missing.join(', ')} (found: ${header.join(', ') || 'nothing'}; expected ${[...required, ...optional.map((o) => `optional ${o}`)].join(', ')}).`,
    );
  }
  return (name) => byKey.get(name.toLowerCase());
}

function valueOf(record: CsvRecord, column: string | undefined): string | undefined {
  return column === undefined ? undefined : record.values[column];
}

function describe(value: unknown): string {
  return value === null ? 'NULL' : typeof value === 'number' ? `the number ${value}` : Buffer.isBuffer(value) ? 'a BLOB' : typeof value;
}
