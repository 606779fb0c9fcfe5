import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { createDatabase } from '@chat-app-server/adapter-knex';
import { expect } from 'chai';
import type { Env } from '../src/standalone/index.js';
import { createTestDatabase, DIALECTS, requirePostgres, sleep, startTestEmulator, testEnv, type DialectName, type TestDatabase } from './support/harness.js';
import { request, type HttpResponse } from './support/http.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSX_LOADER = pathToFileURL(createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsx')).href;
const PASSWORD = 'correct horse battery';

interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: Promise<string>;
  /** The `chat-app-server listening` line. */
  readonly listening: Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** `chat-app-server serve` in its own process, with the server's defaults (no test tuning of the Agora client). */
function serve(env: Env, cwd: string): ServerProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(PACKAGE_ROOT, 'src/standalone/cli.ts'), 'serve'], {
    cwd, env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (line.includes('chat-app-server listening')) resolve(JSON.parse(line) as Record<string, unknown>);
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    void exited.then(({ code, signal }) => reject(new Error(`the server exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { child, url: listening.then((line) => line['url'] as string), listening, exited };
}

/** A spawned server reaches a PostgreSQL test schema through the URL's search_path option. */
function processEnv(db: TestDatabase, emulator: AgoraEmulator): Env {
  const url = db.schema ? `${db.url}${db.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${db.schema}`)}` : db.url;
  return { ...testEnv(db, emulator, { LOG_LEVEL: 'info' }), DATABASE_URL: url };
}

async function storedRows(db: TestDatabase): Promise<Array<{ status: string; chat_username: string; chat_uuid: string | null }>> {
  const knex = createDatabase(db.url, db.schema ? { schema: db.schema } : {});
  try {
    return await knex('users').select('status', 'chat_username', 'chat_uuid');
  } finally {
    await knex.destroy();
  }
}

for (const dialect of DIALECTS) {
  // The server is killed while Agora is creating the chat user (the request took effect, its answer
  // never came back). Then the account must be usable again within about 20 s, with one chat user.
  const retryWith = dialect === 'sqlite' ? 'register' : 'login';
  describe(`a server killed mid-registration on ${dialect}`, function () {
    this.timeout(120_000);
    let emulator: AgoraEmulator;
    let db: TestDatabase;
    let cwd: string;
    const servers: ServerProcess[] = [];

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
    });
    after(async () => emulator?.close());
    beforeEach(async () => {
      db = await createTestDatabase(dialect as DialectName);
      cwd = mkdtempSync(join(tmpdir(), 'chat-app-server-crash-'));
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
      await db.teardown();
      rmSync(cwd, { recursive: true, force: true });
    });

    it(`lets the account be used again within 20 s (the lease follows the Agora deadline): a ${retryWith} finishes it with the one chat user`, async function () {
      const env = processEnv(db, emulator);
      const first = serve(env, cwd);
      servers.push(first);
      const listening = await first.listening;
      // The server's defaults: Agora calls end within 10 s, so a registration holds its account 15 s.
      expect(listening).to.include({ chatServiceDeadlineMs: 10_000, registrationLeaseSeconds: 15 });

      // Agora takes the creation in and answers only after the server is gone.
      emulator.faults.delayNext(1, 2000);
      const posts = () => emulator.stats.requests['POST /users'] ?? 0;
      const before = posts();
      const inFlight = request(await first.url, 'POST', '/app/user/register', { body: { userAccount: 'Crashy', userPassword: PASSWORD } })
        .catch((err: Error) => err);
      for (let i = 0; i < 400 && posts() === before; i++) await sleep(25);
      expect(posts(), 'the chat-user creation reached Agora').to.equal(before + 1);
      first.child.kill('SIGKILL');
      const killedAt = performance.now();
      expect((await first.exited).signal).to.equal('SIGKILL');
      expect(await inFlight, 'the client never got an answer').to.be.instanceOf(Error);
      expect((await storedRows(db)).map((r) => r.status)).to.deep.equal(['pending']);

      const second = serve(env, cwd);
      servers.push(second);
      const url = await second.url;
      const attempt = (): Promise<HttpResponse> => retryWith === 'register'
        ? request(url, 'POST', '/app/user/register', { body: { userAccount: 'crashy', userPassword: PASSWORD } })
        : request(url, 'POST', '/app/user/login', { body: { userAccount: 'CRASHY', userPassword: PASSWORD } });
      const refusals: number[] = [];
      let done: HttpResponse | undefined;
      // Long enough to measure a 60 s lease too, so the assertion below reports the real figure.
      while (performance.now() - killedAt < 75_000) {
        const res = await attempt();
        if (res.status === 200) {
          done = res;
          break;
        }
        refusals.push(res.status);
        await sleep(250);
      }
      const seconds = (performance.now() - killedAt) / 1000;
      expect(done, `no ${retryWith} succeeded within 75 s of the kill`).to.not.equal(undefined);
      expect(seconds, `the account was usable again ${seconds.toFixed(1)} s after the kill`).to.be.below(20);
      // While the dead attempt's lease lasted, the account was held: never taken over early.
      expect(refusals.length, 'attempts refused while the lease lasted').to.be.above(0);
      expect([...new Set(refusals)]).to.deep.equal([retryWith === 'register' ? 409 : 503]);

      const chatUsers = emulator.users.list().filter((u) => u.username === 'crashy');
      expect(chatUsers, 'exactly one chat user').to.have.length(1);
      const rows = await storedRows(db);
      expect(rows).to.deep.equal([{ status: 'active', chat_username: 'crashy', chat_uuid: chatUsers[0]!.uuid }]);
      const login = await request(url, 'POST', '/app/user/login', { body: { userAccount: 'crashy', userPassword: PASSWORD } });
      expect(login.status, login.text).to.equal(200);
      expect(login.body.chatUserName).to.equal('crashy');
      expect(emulator.users.list().filter((u) => u.username === 'crashy')).to.have.length(1);
    });
  });
}
