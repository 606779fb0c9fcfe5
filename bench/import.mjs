// The import command's throughput, run as users run it (the built command line, its own process):
// - passwords: a Django sample database of `rows` users (uuids known, so no Agora lookups): the rate
//   is bound by scrypt, and is compared with raw scrypt measured in the same run;
// - accounts: `rows` accounts created through the built-in emulator's batch endpoint.
// Prints nothing; sends { rows, seconds, perSecond, wallSeconds } to the parent.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '@chat-app-server/adapter-knex';

const [kind, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '..', 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs');
const dir = mkdtempSync(join(tmpdir(), 'chat-app-server-bench-import-'));

try {
  const file = kind === 'passwords' ? await djangoDatabase(rows) : accountsFile(rows);
  const started = Date.now();
  const { code, stdout, stderr } = await run(['import', kind === 'passwords' ? 'django-sqlite' : 'accounts', file]);
  const wallSeconds = (Date.now() - started) / 1000;
  const took = /took\s+([\d.]+) s for (\d+) rows/.exec(stdout);
  const imported = /imported\s+(\d+)/.exec(stdout);
  if (code !== 0 || !took || Number(imported?.[1]) !== rows) throw new Error(`import ${kind} failed (exit ${code}):\n${stdout}\n${stderr}`);
  const seconds = Number(took[1]);
  process.send({ rows, seconds, perSecond: rows / seconds, wallSeconds });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function djangoDatabase(n) {
  const file = join(dir, 'db.sqlite3');
  const knex = createDatabase(`sqlite:${file}`);
  try {
    await knex.raw(`CREATE TABLE "users_appuserinfo" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_account" varchar(32) NOT NULL,
      "user_password" varchar(32) NULL, "agora_chat_user_name" varchar(32) NOT NULL, "agora_chat_user_uuid" varchar(36) NULL)`);
    const users = Array.from({ length: n }, (_, i) => ({
      user_account: `user${i}`, user_password: `password${i}`, agora_chat_user_name: `user${i}`, agora_chat_user_uuid: randomUUID(),
    }));
    for (let i = 0; i < users.length; i += 100) await knex('users_appuserinfo').insert(users.slice(i, i + 100));
  } finally {
    await knex.destroy();
  }
  return file;
}

function accountsFile(n) {
  const file = join(dir, 'accounts.jsonl');
  writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ userAccount: `member${i}` })).join('\n'));
  return file;
}

function run(args) {
  return new Promise((resolve, reject) => {
    const { AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY, AGORA_REST_API_URL, AGORA_REST_API_DOMAIN, METRICS_PORT, ...inherited } = process.env;
    // Development mode: a fresh SQLite database and the built-in emulator.
    const env = { ...inherited, NODE_ENV: 'development', DATABASE_URL: `sqlite:${join(dir, 'server.sqlite')}`, LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
