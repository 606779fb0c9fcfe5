import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { createDatabase } from '@chat-app-server/adapter-knex';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig, startServer, type Env } from '../src/standalone/index.js';
import {
  cheapHasher, createTestDatabase, DIALECTS, requirePostgres, sleep, startTestEmulator, testEnv, type DialectName, type TestDatabase,
} from './support/harness.js';
import { client } from './support/http.js';
import { writeDjangoDatabase, writeJavaCsv } from './support/import-files.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// The built command line, as `pnpm cli` runs it (the workspace's `pnpm test` builds first).
const CLI = [join(PACKAGE_ROOT, 'bin/chat-app-server.cjs')];

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startCli(args: readonly string[], env: Env, cwd: string): Run {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd, env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

const runCli = (args: readonly string[], env: Env, cwd: string) => startCli(args, env, cwd).done;

/** The CLI reaches a PostgreSQL test schema through the URL's search_path option. */
function cliEnv(db: TestDatabase, emulator: AgoraEmulator, extra: Env = {}): Env {
  const url = db.schema ? `${db.url}${db.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${db.schema}`)}` : db.url;
  return { ...testEnv(db, emulator, extra), DATABASE_URL: url };
}

interface StoredUser {
  account: string;
  account_key: string;
  chat_username: string;
  chat_uuid: string | null;
  agora_uid: string;
  status: string;
  password_hash: string | null;
}

async function storedUsers(db: TestDatabase): Promise<StoredUser[]> {
  const knex = createDatabase(db.url, db.schema ? { schema: db.schema } : {});
  try {
    const rows = await knex('users').select('account', 'account_key', 'chat_username', 'chat_uuid', 'agora_uid', 'status', 'password_hash').orderBy('account_key');
    return rows.map((r: StoredUser) => ({ ...r, agora_uid: String(r.agora_uid) }));
  } finally {
    await knex.destroy();
  }
}

const reportOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, string>);
const byRef = (lines: Array<Record<string, string>>) => Object.fromEntries(lines.map((l) => [l['ref'], l['reason']]));

/** Logs in over HTTP with a server on the imported database. */
async function loginAll(db: TestDatabase, emulator: AgoraEmulator, credentials: ReadonlyArray<[string, string]>) {
  const server = await startServer(loadConfig(testEnv(db, emulator)), {
    passwordHasher: cheapHasher(), logger: pino({ level: 'silent' }), ...(db.schema ? { databaseSchema: db.schema } : {}),
  });
  try {
    const api = client(server.url);
    return await Promise.all(credentials.map(async ([account, password]) => {
      const res = await api.login(account, password);
      return { status: res.status, chatUserName: res.body.chatUserName as string | undefined, agoraUid: res.body.agoraUid as string | undefined };
    }));
  } finally {
    await server.close();
  }
}

for (const dialect of DIALECTS) {
  describe(`cli import on ${dialect}`, function () {
    this.timeout(120_000);
    let emulator: AgoraEmulator;
    let db: TestDatabase;
    let dir: string;

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
    });
    after(async () => emulator?.close());
    beforeEach(async () => {
      emulator.reset();
      db = await createTestDatabase(dialect as DialectName);
      dir = mkdtempSync(join(tmpdir(), 'chat-app-server-import-'));
    });
    afterEach(async () => {
      await db.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    it('django-sqlite: imports the sample\'s rows, keeps old passwords, reports the awkward ones, and changes nothing when run again', async function () {
      const alice = emulator.users.add('alice')!;
      const bob = emulator.users.add('bob')!;
      emulator.users.add('dave');
      emulator.users.add('frank');
      const file = join(dir, 'db.sqlite3');
      await writeDjangoDatabase(file, [
        { id: 1, user_account: 'alice', user_password: 'pw', agora_chat_user_name: 'alice', agora_chat_user_uuid: alice.uuid },
        // The sample kept the chat user name as typed; Agora matched it case-insensitively.
        { id: 2, user_account: 'Bob', user_password: 'pässwörd✓', agora_chat_user_name: 'Bob', agora_chat_user_uuid: bob.uuid },
        { id: 3, user_account: 'Carol', user_password: 'one', agora_chat_user_name: 'Carol', agora_chat_user_uuid: 'uuid-c1' },
        { id: 4, user_account: 'carol', user_password: 'two', agora_chat_user_name: 'carol', agora_chat_user_uuid: 'uuid-c2' },
        { id: 5, user_account: 'dave', user_password: 'dave-pw', agora_chat_user_name: 'dave', agora_chat_user_uuid: null },
        { id: 6, user_account: 'erin', user_password: 'erin-pw', agora_chat_user_name: 'erin', agora_chat_user_uuid: null },
        { id: 7, user_account: 'frank', user_password: 'f', agora_chat_user_name: 'frank', agora_chat_user_uuid: null },
        { id: 8, user_account: 'frank', user_password: 'f', agora_chat_user_name: 'frank', agora_chat_user_uuid: null },
        { id: 9, user_account: 'gina', user_password: null, agora_chat_user_name: 'gina', agora_chat_user_uuid: null },
        { id: 10, user_account: Buffer.from('blob'), user_password: 'x', agora_chat_user_name: 'num', agora_chat_user_uuid: null },
      ]);
      const env = cliEnv(db, emulator);
      const report = join(dir, 'report.jsonl');
      const first = await runCli(['import', 'django-sqlite', 'db.sqlite3', '--report', 'report.jsonl'], env, dir);
      expect(first.code, first.stderr).to.equal(1);
      expect(first.stdout).to.match(/imported\s+4 \(chat users adopted: 4, created: 0\)/);
      expect(first.stdout).to.match(/skipped\s+1 \(duplicate_row: 1\)/);
      expect(first.stdout).to.match(/failed\s+5 /).and.include('duplicate_account: 2').and.include('chat_user_missing: 1')
        .and.include('no_password: 1').and.include('malformed_row: 1');
      expect(byRef(reportOf(report))).to.deep.equal({
        'id 3': 'duplicate_account', 'id 4': 'duplicate_account', 'id 6': 'chat_user_missing', 'id 8': 'duplicate_row',
        'id 9': 'no_password', 'id 10': 'malformed_row',
      });
      expect(reportOf(report).find((l) => l['ref'] === 'id 10')?.['message']).to.include('user_account');

      const users = await storedUsers(db);
      expect(users.map((u) => [u.account, u.chat_username, u.status])).to.deep.equal([
        ['alice', 'alice', 'active'], ['Bob', 'bob', 'active'], ['dave', 'dave', 'active'], ['frank', 'frank', 'active'],
      ]);
      expect(users.find((u) => u.account === 'dave')?.chat_uuid).to.equal(emulator.users.get('dave')?.uuid);
      // Stored as scrypt-kdf keys (96 bytes in base64), never as text: a random key contains "pw" one time in ten.
      expect(users.every((u) => u.password_hash && Buffer.from(u.password_hash, 'base64').length === 96)).to.equal(true);
      expect(emulator.stats.requests['POST /users'] ?? 0, 'an import with passwords never creates chat users').to.equal(0);

      const logins = await loginAll(db, emulator, [['alice', 'pw'], ['BOB', 'pässwörd✓'], ['dave', 'dave-pw'], ['alice', 'wrong']]);
      expect(logins.map((l) => [l.status, l.chatUserName])).to.deep.equal([[200, 'alice'], [200, 'bob'], [200, 'dave'], [401, undefined]]);

      const lookups = emulator.stats.requests['GET /users/{username}'] ?? 0;
      const again = await runCli(['import', 'django-sqlite', 'db.sqlite3'], env, dir);
      expect(again.code).to.equal(1);
      expect(again.stdout).to.match(/imported\s+0 /).and.match(/already imported\s+4/);
      expect(await storedUsers(db)).to.deep.equal(users);
      expect(emulator.stats.requests['GET /users/{username}'] ?? 0, 'imported rows are not looked up again').to.equal(lookups + 1);
    });

    it('java-csv: keeps uids in 1..2^32-1 that are unique, draws the others, looks every chat user up, and reads past a malformed line', async function () {
      for (const name of ['alice', 'bob', 'carol', 'dan', 'eve']) emulator.users.add(name);
      const appkey = emulator.appKey;
      writeJavaCsv(join(dir, 'app_user_info.csv'), [
        { user_account: 'alice', user_password: 'pw', chat_user_name: 'alice', agora_uid: '4000000000', appkey },
        { user_account: 'bob', user_password: 'пароль', chat_user_name: 'bob', agora_uid: '0', appkey },
        { user_account: 'carol', user_password: 'pw-c', chat_user_name: 'carol', agora_uid: '99999999999', appkey },
        { raw: '4,broken,"unbalanced,line' },
        { user_account: 'ghost', user_password: 'pw-g', chat_user_name: 'ghost', agora_uid: '123', appkey },
        { user_account: 'dan', user_password: 'pw-d', chat_user_name: 'dan', agora_uid: '777', appkey },
        { user_account: 'eve', user_password: 'pw-e', chat_user_name: 'eve', agora_uid: '777', appkey },
        { user_account: 'zed', user_password: 'pw-z', chat_user_name: 'zed', agora_uid: '5', appkey: 'other#app' },
      ]);
      const env = cliEnv(db, emulator);
      const run = await runCli(['import', 'java-csv', 'app_user_info.csv', '--report', 'out.jsonl'], env, dir);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.match(/imported\s+5 /).and.match(/skipped\s+1 \(other_app_key: 1\)/).and.include('chat_user_missing: 1').and.include('malformed_row: 1');
      const report = reportOf(join(dir, 'out.jsonl'));
      expect(byRef(report)).to.deep.equal({
        'line 3': 'agora_uid_redrawn', 'line 4': 'agora_uid_redrawn', 'line 5': 'malformed_row', 'line 6': 'chat_user_missing',
        'line 7': 'agora_uid_redrawn', 'line 8': 'agora_uid_redrawn', 'line 9': 'other_app_key',
      });
      const users = await storedUsers(db);
      const uid = (account: string) => users.find((u) => u.account === account)?.agora_uid;
      expect(uid('alice')).to.equal('4000000000');
      for (const account of ['bob', 'carol', 'dan', 'eve']) expect(Number(uid(account))).to.be.within(1, 2 ** 32 - 1);
      expect(uid('dan')).to.not.equal('777');
      expect(report.find((l) => l['ref'] === 'line 3')?.['agoraUid']).to.equal(uid('bob'));
      expect(users.find((u) => u.account === 'carol')?.chat_uuid).to.equal(emulator.users.get('carol')?.uuid);
      const logins = await loginAll(db, emulator, [['alice', 'pw'], ['bob', 'пароль']]);
      expect(logins).to.deep.equal([
        { status: 200, chatUserName: 'alice', agoraUid: '4000000000' }, { status: 200, chatUserName: 'bob', agoraUid: uid('bob') },
      ]);

      const again = await runCli(['import', 'java-csv', 'app_user_info.csv'], env, dir);
      expect(again.stdout).to.match(/already imported\s+5/);
      expect(await storedUsers(db)).to.deep.equal(users);
    });

    it('accounts: creates chat users through the batch endpoint, survives Agora failing for a while, and finishes on the next run', async function () {
      emulator.users.add('stranger');
      const lines = ['userAccount,chatUserName', ...Array.from({ length: 150 }, (_, i) => `member${i},`), 'Stranger,', ' padded,', 'named,Not Valid', 'custom,custom.name', 'broken,a,b'];
      writeFileSync(join(dir, 'accounts.csv'), `${lines.join('\n')}\n`);
      const env = cliEnv(db, emulator);
      // Agora answers 503 to every request for a while: some batches fail after their retries.
      emulator.faults.failNext(8, { status: 503 });
      const first = await runCli(['import', 'accounts', 'accounts.csv', '--concurrency', '1', '--report', 'r.jsonl'], env, dir);
      expect(first.code, first.stderr).to.equal(1);
      expect(first.stdout).to.include('chat_service_unavailable').and.include('chat_username_taken: 1').and.include('invalid_request: 2')
        .and.include('malformed_row: 1');
      expect(emulator.stats.requests['POST /users']).to.be.at.least(2);

      const second = await runCli(['import', 'accounts', 'accounts.csv'], env, dir);
      expect(second.code).to.equal(1);
      expect(second.stdout).to.match(/imported\s+\d+ \(chat users adopted: \d+, created: \d+\)/);
      expect(second.stdout).to.not.include('chat_service_unavailable');
      const users = await storedUsers(db);
      expect(users.filter((u) => u.status === 'active')).to.have.length(151);
      expect(users.every((u) => u.password_hash === null && u.chat_uuid === emulator.users.get(u.chat_username)?.uuid)).to.equal(true);
      expect(users.find((u) => u.account === 'custom')?.chat_username).to.equal('custom.name');
      expect(emulator.users.list()).to.have.length(152);

      const jsonl = [...Array.from({ length: 150 }, (_, i) => JSON.stringify({ userAccount: `member${i}` })), '{not json'].join('\n');
      writeFileSync(join(dir, 'accounts.jsonl'), `${jsonl}\n`);
      const third = await runCli(['import', 'accounts', 'accounts.jsonl'], env, dir);
      expect(third.stdout).to.match(/already imported\s+150/).and.include('malformed_row: 1');
      expect(emulator.users.list()).to.have.length(152);
    });

    it('prepares accounts as the server does: fullwidth twins are one account, invisible characters are refused with a reason', async function () {
      const chat = ['pete', 'sam', 'sam2', 'fuzzuser'].map((name) => emulator.users.add(name)!);
      await writeDjangoDatabase(join(dir, 'db.sqlite3'), [
        { id: 1, user_account: 'ＰＥＴＥ', user_password: 'pete-pw', agora_chat_user_name: 'pete', agora_chat_user_uuid: chat[0]!.uuid },
        { id: 2, user_account: 'sam', user_password: 'one', agora_chat_user_name: 'sam', agora_chat_user_uuid: chat[1]!.uuid },
        { id: 3, user_account: 'ｓａｍ', user_password: 'two', agora_chat_user_name: 'sam2', agora_chat_user_uuid: chat[2]!.uuid },
        { id: 4, user_account: 'fuzz\u200Buser', user_password: 'f', agora_chat_user_name: 'fuzzuser', agora_chat_user_uuid: chat[3]!.uuid },
      ]);
      const env = cliEnv(db, emulator);
      const run = await runCli(['import', 'django-sqlite', 'db.sqlite3', '--report', 'r.jsonl'], env, dir);
      expect(run.code, run.stderr).to.equal(1);
      const report = reportOf(join(dir, 'r.jsonl'));
      expect(byRef(report)).to.deep.equal({ 'id 2': 'duplicate_account', 'id 3': 'duplicate_account', 'id 4': 'invalid_account' });
      expect(report.find((l) => l['ref'] === 'id 4')?.['message']).to.include('U+200B');
      expect((await storedUsers(db)).map((u) => [u.account, u.account_key])).to.deep.equal([['PETE', 'pete']]);
      const logins = await loginAll(db, emulator, [['pete', 'pete-pw'], ['ｐｅｔｅ', 'pete-pw']]);
      expect(logins.map((l) => [l.status, l.chatUserName])).to.deep.equal([[200, 'pete'], [200, 'pete']]);

      writeFileSync(join(dir, 'accounts.jsonl'), [JSON.stringify({ userAccount: 'zero\u200Bwidth' }), JSON.stringify({ userAccount: 'ｗｉｄｅ' })].join('\n'));
      const accounts = await runCli(['import', 'accounts', 'accounts.jsonl', '--report', 'a.jsonl'], env, dir);
      expect(accounts.code, accounts.stderr).to.equal(1);
      const refused = reportOf(join(dir, 'a.jsonl')).filter((l) => l['reason'] !== undefined && l['userAccount'] === 'zero\u200Bwidth');
      expect(refused.map((l) => l['reason'])).to.deep.equal(['invalid_request']);
      expect(refused[0]?.['message']).to.include('U+200B');
      expect((await storedUsers(db)).map((u) => u.account)).to.deep.equal(['PETE', 'wide']);
    });

    it('django-sqlite: an import killed half-way (SIGKILL) finishes on the next run, every row once', async function () {
      const rows = Array.from({ length: 24 }, (_, i) => {
        const chat = emulator.users.add(`user${i}`)!;
        return { user_account: `user${i}`, user_password: `pw${i}`, agora_chat_user_name: `user${i}`, agora_chat_user_uuid: chat.uuid };
      });
      await writeDjangoDatabase(join(dir, 'db.sqlite3'), rows);
      const env = cliEnv(db, emulator);
      const run = startCli(['import', 'django-sqlite', 'db.sqlite3', '--concurrency', '2'], env, dir);
      for (let i = 0; i < 600 && (await storedUsers(db).catch(() => [])).length < 3; i++) await sleep(50);
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal).to.equal('SIGKILL');
      const partial = (await storedUsers(db)).length;
      expect(partial).to.be.within(3, 23);

      const resumed = await runCli(['import', 'django-sqlite', 'db.sqlite3'], env, dir);
      expect(resumed.code, resumed.stderr).to.equal(0);
      const users = await storedUsers(db);
      expect(users).to.have.length(24);
      expect(users.every((u) => u.status === 'active' && u.chat_uuid === emulator.users.get(u.chat_username)?.uuid)).to.equal(true);
      expect(resumed.stdout).to.match(new RegExp(`imported\\s+${24 - partial} `)).and.match(new RegExp(`already imported\\s+${partial}`));
      const logins = await loginAll(db, emulator, [['user0', 'pw0'], ['user23', 'pw23']]);
      expect(logins.map((l) => l.status)).to.deep.equal([200, 200]);
    });

    it('accounts: an import stopped with Ctrl-C finishes its batches in flight, and the next run completes it', async function () {
      writeFileSync(join(dir, 'many.jsonl'), Array.from({ length: 1200 }, (_, i) => JSON.stringify({ userAccount: `bulk${i}` })).join('\n'));
      const env = cliEnv(db, emulator);
      // Slow Agora down so that the interrupt lands half-way.
      emulator.faults.add(60, { kind: 'delay', ms: 300 });
      const run = startCli(['import', 'accounts', 'many.jsonl', '--concurrency', '2'], env, dir);
      for (let i = 0; i < 600 && (await storedUsers(db).catch(() => [])).length < 120; i++) await sleep(100);
      run.child.kill('SIGINT');
      const stopped = await run.done;
      expect(stopped.code, stopped.stderr).to.equal(1);
      expect(stopped.stdout).to.match(/not processed\s+\d+ \(interrupted/);
      const partial = await storedUsers(db);
      expect(partial.every((u) => u.status === 'active'), 'no account is left half-done').to.equal(true);
      expect(partial.length).to.be.within(120, 1199);

      emulator.faults.clear();
      const resumed = await runCli(['import', 'accounts', 'many.jsonl'], env, dir);
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(resumed.stdout).to.match(new RegExp(`already imported\\s+${partial.length}`));
      expect(await storedUsers(db)).to.have.length(1200);
      expect(emulator.users.list()).to.have.length(1200);
    });
  });
}

describe('cli import: usage and bad input', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'chat-app-server-import-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const env = () => ({ NODE_ENV: 'development', DATABASE_URL: `sqlite:${join(dir, 'server.sqlite')}`, LOG_LEVEL: 'silent' });

  it('exits 2 with usage for bad arguments', async function () {
    for (const args of [['import'], ['import', 'mysql', 'x'], ['import', 'accounts'], ['import', 'accounts', 'a.csv', '--concurrency', '0'], ['import', 'accounts', 'a.csv', '--bogus']]) {
      const run = await runCli(args, env(), dir);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr).to.include('Usage: chat-app-server import');
    }
  });

  it('exits 2 naming the file for a missing file, a wrong table, a wrong header or extension', async function () {
    writeFileSync(join(dir, 'not-django.sqlite3'), '');
    writeFileSync(join(dir, 'wrong.csv'), 'name,password\njack,pw\n');
    writeFileSync(join(dir, 'accounts.txt'), 'jack\n');
    const cases: Array<[string[], RegExp]> = [
      [['import', 'django-sqlite', 'missing.sqlite3'], /missing\.sqlite3: no such file/],
      [['import', 'django-sqlite', 'not-django.sqlite3'], /not-django\.sqlite3: no table users_appuserinfo/],
      [['import', 'java-csv', 'wrong.csv'], /wrong\.csv: the header row has no column user_account, user_password, chat_user_name, agora_uid/],
      [['import', 'accounts', 'accounts.txt'], /accounts\.txt: an accounts file must end in \.csv or \.jsonl/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, env(), dir);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(message);
    }
    expect(existsSync(join(dir, 'server.sqlite')), 'nothing was created').to.equal(false);
  });

  it('exits 2 for an invalid configuration', async function () {
    writeFileSync(join(dir, 'a.csv'), 'userAccount\njack\n');
    const run = await runCli(['import', 'accounts', 'a.csv'], { ...env(), NODE_ENV: 'production' }, dir);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('AGORA_APP_ID');
  });

  it('changes nothing in a dry run, and prints progress lines when stderr is not a terminal', async function () {
    writeFileSync(join(dir, 'a.csv'), 'userAccount\njack\njill\n');
    const run = await runCli(['import', 'accounts', 'a.csv', '--dry-run'], env(), dir);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('dry run: nothing was changed').and.match(/would be imported\s+2/);
    expect(run.stderr).to.match(/import accounts: 2\/2 rows \(100%\)/);
    const knex = createDatabase(`sqlite:${join(dir, 'server.sqlite')}`);
    try {
      expect(await knex('users').count({ n: '*' }).first()).to.deep.equal({ n: 0 });
    } finally {
      await knex.destroy();
    }
  });
});
