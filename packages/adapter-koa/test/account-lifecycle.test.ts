import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '@chat-app-server/core';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { loadConfig, startServer } from '../src/standalone/index.js';
import { decodeAccessToken2 } from './support/access-token2.js';
import {
  cheapHasher, DIALECTS, FAST_PROVISIONER, LogCapture, requirePostgres, sleep, startTestEmulator, startTestServer, TEST_AGORA, testEnv,
  type DialectName, type TestDatabase, type TestServer,
} from './support/harness.js';
import { client, request, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The system clock, which a test can hold still to put several requests in one second. */
class HoldableClock implements Clock {
  private held: number | undefined;
  now(): number {
    return this.held ?? Date.now();
  }
  /** Holds the clock at the start of the current second plus 100 ms. */
  hold(): number {
    this.held = Math.floor(Date.now() / 1000) * 1000 + 100;
    return this.held;
  }
  release(): void {
    this.held = undefined;
  }
}

function expectError(res: HttpResponse, status: number, error: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(res.body).to.deep.include({ code: status, error });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The account lifecycle endpoints of the Django profile, bound to one server. */
function lifecycle(baseUrl: string) {
  return {
    ...client(baseUrl),
    changePassword: (token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
      request(baseUrl, 'POST', '/app/user/password', { body, headers: { ...headers, ...(token === undefined ? {} : bearer(token)) } }),
    logout: (token?: string) => request(baseUrl, 'POST', '/app/user/logout', token === undefined ? {} : { headers: bearer(token) }),
    remove: (token: string | undefined, body: unknown) =>
      request(baseUrl, 'DELETE', '/app/user', { body, ...(token === undefined ? {} : { headers: bearer(token) }) }),
  };
}

for (const dialect of DIALECTS) {
  describe(`account lifecycle over real HTTP on ${dialect}`, function () {
    let emulator: AgoraEmulator;
    let server: TestServer;
    let api: ReturnType<typeof lifecycle>;
    const clock = new HoldableClock();
    let n = 0;

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
      // TRUST_PROXY: the throttle test fails from its own address, so the other tests' logins are not throttled.
      server = await startTestServer(dialect, emulator, { env: { TRUST_PROXY: 'true' }, overrides: { clock, deletionRetryMs: 2000 } });
      api = lifecycle(server.url);
    });
    after(async () => {
      await server?.stop();
      await emulator?.close();
    });
    afterEach(() => {
      emulator?.faults.clear();
      clock.release();
    });

    async function newUser(): Promise<{ account: string; token: string; chatUserName: string }> {
      const account = `Life-${dialect}-${++n}`;
      expect((await api.register(account, PASSWORD)).status).to.equal(200);
      const login = await api.login(account, PASSWORD);
      expect(login.status, login.text).to.equal(200);
      return { account, token: login.body.accessToken, chatUserName: login.body.chatUserName };
    }

    const tokenStatus = async (token: string) => (await api.token('channelName=room', token)).status;

    it('checks revocation on /token without a database read once the user is cached', async () => {
      const { account, token, chatUserName } = await newUser();
      expect(await tokenStatus(token)).to.equal(200);
      // Only queries about this user count: the roster's write-behind and the deletion sweep run on their own schedules.
      const aboutUser = (value: unknown) => value === chatUserName || value === account.toLowerCase();
      let queries = 0;
      const count = (query: { bindings?: unknown[] }) => { if (query.bindings?.some(aboutUser)) queries++; };
      server.knex.on('query', count);
      try {
        for (let i = 0; i < 20; i++) expect(await tokenStatus(token)).to.equal(200);
      } finally {
        server.knex.off('query', count);
      }
      expect(queries).to.equal(0);
    });

    describe('POST /app/user/password', () => {
      it('answers like login with a fresh token issued in the same second, which works while the older one does not', async () => {
        const held = clock.hold();
        const { account, token, chatUserName } = await newUser();
        const res = await api.changePassword(token, { userPassword: PASSWORD, newPassword: 'a new horse battery' });
        expect(res.status, res.text).to.equal(200);
        expect(Object.keys(res.body).sort()).to.deep.equal(['accessToken', 'agoraUid', 'chatUserName', 'code', 'expireTimestamp']);
        const [older, fresh] = [decodeAccessToken2(token, TEST_AGORA.appCertificate), decodeAccessToken2(res.body.accessToken, TEST_AGORA.appCertificate)];
        // Both were issued "at" the held second: the revocation boundary is the next second, where the fresh token is dated.
        expect(older.issueTs).to.equal(Math.floor(held / 1000));
        expect(fresh.issueTs).to.equal(older.issueTs + 1);
        expect(fresh.signatureValid).to.equal(true);
        expect(res.body.expireTimestamp).to.equal((fresh.issueTs + fresh.expire) * 1000);
        clock.release();

        expect(await tokenStatus(res.body.accessToken)).to.equal(200);
        expect(await tokenStatus(token)).to.equal(401);
        expectError(await api.renew(token), 401, 'unauthenticated');
        expect((await api.renew(res.body.accessToken)).status).to.equal(200);
        expectError(await api.login(account, PASSWORD), 401, 'invalid_credentials');
        expect((await api.login(account, 'a new horse battery')).status).to.equal(200);
        expect(emulator.users.disconnects).to.include(chatUserName);
      });

      it('refuses a wrong current password as a failed login, bad new passwords naming the field, and a missing bearer', async () => {
        const { account, token } = await newUser();
        expectError(await api.changePassword(token, { userPassword: 'not the password', newPassword: 'a new horse battery' }), 401, 'invalid_credentials');
        const short = await api.changePassword(token, { userPassword: PASSWORD, newPassword: 'short' });
        expectError(short, 400, 'invalid_request');
        expect(short.body.message).to.include('newPassword');
        expectError(await api.changePassword(token, { userPassword: PASSWORD }), 400, 'invalid_request');
        expectError(await api.changePassword(token, '{"userPassword":', { 'Content-Type': 'application/json' }), 400, 'invalid_request');
        expectError(await api.changePassword(token, 'userPassword=x', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
        expectError(await api.changePassword(undefined, { userPassword: PASSWORD, newPassword: 'a new horse battery' }), 401, 'unauthenticated');
        // Nothing changed: the old password and token still work.
        expect(await tokenStatus(token)).to.equal(200);
        expect((await api.login(account, PASSWORD)).status).to.equal(200);
      });

      it('counts wrong current passwords in the login throttle', async () => {
        const { account, token } = await newUser();
        let last: HttpResponse | undefined;
        const from = { 'X-Forwarded-For': `10.13.0.${dialect === 'sqlite' ? 1 : 2}` };
        for (let i = 0; i < 11; i++) last = await api.changePassword(token, { userPassword: 'not the password', newPassword: 'a new horse battery' }, from);
        expectError(last!, 429, 'too_many_attempts');
        expect(last!.headers['retry-after']).to.match(/^\d+$/);
        // The login throttle's own counter for this address at this account: a login from there is refused too.
        expectError(await api.login(account, PASSWORD, { headers: from }), 429, 'too_many_attempts');
      });
    });

    describe('POST /app/user/logout', () => {
      it('revokes every bearer so far, ends the chat sessions, and a new login works', async () => {
        const { account, token, chatUserName } = await newUser();
        const rtc = await api.token('channelName=room', token);
        expect(rtc.status).to.equal(200);
        const res = await api.logout(token);
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.deep.equal({ code: 200 });
        for (const t of [token, rtc.body.accessToken]) expect(await tokenStatus(t)).to.equal(401);
        expectError(await api.logout(token), 401, 'unauthenticated');
        expectError(await api.logout(), 401, 'unauthenticated');
        expect(emulator.users.disconnects).to.include(chatUserName);
        const again = await api.login(account, PASSWORD);
        expect(await tokenStatus(again.body.accessToken)).to.equal(200);
      });
    });

    describe('DELETE /app/user', () => {
      it('deletes the chat user and then the account; the name can be registered again', async () => {
        const { account, token, chatUserName } = await newUser();
        expectError(await api.remove(token, { userPassword: 'not the password' }), 401, 'invalid_credentials');
        expect(emulator.users.has(chatUserName)).to.equal(true);
        const res = await api.remove(token, { userPassword: PASSWORD });
        expect(res.status, res.text).to.equal(200);
        expect(res.body).to.deep.equal({ code: 200 });
        expect(emulator.users.has(chatUserName)).to.equal(false);
        expect(await tokenStatus(token)).to.equal(401);
        expectError(await api.login(account, PASSWORD), 401, 'invalid_credentials');
        expect((await api.register(account, 'another password')).status).to.equal(200);
        expect(emulator.users.has(chatUserName)).to.equal(true);
      });

      const steps: Array<[string, (e: AgoraEmulator) => void]> = [
        ['ending the sessions', (e) => e.faults.failNext(3, { status: 503 })],
        ['deleting the chat user', (e) => { e.faults.delayNext(1, 0); e.faults.failNext(3, { status: 503 }); }],
      ];
      for (const [step, fail] of steps) {
        it(`answers 503 with Retry-After when Agora fails at ${step}, keeps the account unusable, and the next attempt finishes`, async () => {
          const { account, token, chatUserName } = await newUser();
          fail(emulator);
          const res = await api.remove(token, { userPassword: PASSWORD });
          expectError(res, 503, 'chat_service_unavailable');
          expect(res.headers['retry-after']).to.match(/^\d+$/);
          expect(emulator.users.has(chatUserName)).to.equal(true);
          expect(await tokenStatus(token)).to.equal(401);
          expectError(await api.renew(token), 401, 'unauthenticated');
          expectError(await api.login(account, PASSWORD), 401, 'invalid_credentials');
          expectError(await api.register(account, PASSWORD), 409, 'account_exists');
          emulator.faults.clear();
          const again = await api.remove(token, { userPassword: PASSWORD });
          expect(again.status, again.text).to.equal(200);
          expect(emulator.users.has(chatUserName)).to.equal(false);
          expect((await api.register(account, PASSWORD)).status).to.equal(200);
        });
      }

      it('is finished by the server itself when the client never comes back', async () => {
        const { account, token, chatUserName } = await newUser();
        emulator.faults.failNext(3, { status: 503 });
        expectError(await api.remove(token, { userPassword: PASSWORD }), 503, 'chat_service_unavailable');
        const deadline = Date.now() + 10_000;
        while (emulator.users.has(chatUserName) && Date.now() < deadline) await sleep(100);
        expect(emulator.users.has(chatUserName)).to.equal(false);
        while ((await api.register(account, PASSWORD)).status !== 200 && Date.now() < deadline) await sleep(100);
        expect((await api.login(account, PASSWORD)).status).to.equal(200);
      });

      it('refuses a missing bearer or password without deleting anything', async () => {
        const { token, chatUserName } = await newUser();
        expectError(await api.remove(undefined, { userPassword: PASSWORD }), 401, 'unauthenticated');
        expectError(await api.remove(token, {}), 400, 'invalid_request');
        expectError(await api.remove(token, undefined), 400, 'invalid_request');
        expect(emulator.users.has(chatUserName)).to.equal(true);
        expect(await tokenStatus(token)).to.equal(200);
      });
    });
  });
}

/** A second server on the same database (its own process state: principal cache, throttle memory). */
async function startSecondServer(db: TestDatabase, emulator: AgoraEmulator, env: Record<string, string>) {
  return startServer(loadConfig(testEnv(db, emulator, env)), {
    passwordHasher: cheapHasher(), logger: new LogCapture().logger, provisioner: FAST_PROVISIONER, shutdownTimeoutMs: 3000,
    ...(db.schema ? { databaseSchema: db.schema } : {}),
  });
}

describe('revocation across two server instances on one PostgreSQL database', function () {
  let emulator: AgoraEmulator;
  let a: TestServer;
  let b: Awaited<ReturnType<typeof startSecondServer>>;

  before(async function () {
    await requirePostgres(this);
    emulator = await startTestEmulator();
    a = await startTestServer('postgres', emulator);
    b = await startSecondServer(a.db, emulator, { PRINCIPAL_CACHE_TTL_SECONDS: '2' });
  });
  after(async () => {
    await b?.close();
    await a?.stop();
    await emulator?.close();
  });

  it('refuses a revoked bearer at once where it was revoked, and on the other instance within its cache lifetime', async () => {
    const apiA = lifecycle(a.url);
    const apiB = lifecycle(b.url);
    await apiA.register('Two', PASSWORD);
    const token = (await apiB.login('two', PASSWORD)).body.accessToken as string;
    expect((await apiB.token('channelName=room', token)).status).to.equal(200); // B caches the user
    expect((await apiA.logout(token)).status).to.equal(200);
    expect((await apiA.token('channelName=room', token)).status).to.equal(401);
    // Renewal always reads the database: refused at once on B too.
    expect((await apiB.renew(token)).status).to.equal(401);
    await sleep(2100);
    expect((await apiB.token('channelName=room', token)).status).to.equal(401);
    const fresh = (await apiB.login('two', PASSWORD)).body.accessToken as string;
    expect((await apiA.token('channelName=room', fresh)).status).to.equal(200);
    expect((await apiB.token('channelName=room', fresh)).status).to.equal(200);
  });

  it('accepts on both instances the fresh token of a password change made on one', async () => {
    const apiA = lifecycle(a.url);
    const apiB = lifecycle(b.url);
    await apiA.register('Three', PASSWORD);
    const token = (await apiA.login('three', PASSWORD)).body.accessToken as string;
    expect((await apiB.token('channelName=room', token)).status).to.equal(200);
    const changed = await apiB.changePassword(token, { userPassword: PASSWORD, newPassword: 'a new horse battery' });
    expect(changed.status, changed.text).to.equal(200);
    await sleep(2100);
    for (const api of [apiA, apiB]) {
      expect((await api.token('channelName=room', changed.body.accessToken)).status).to.equal(200);
      expect((await api.token('channelName=room', token)).status).to.equal(401);
    }
  });

  it('keeps a disabled user out of both instances once their caches expire', async () => {
    const apiA = lifecycle(a.url);
    const apiB = lifecycle(b.url);
    await apiA.register('Four', PASSWORD);
    const token = (await apiA.login('four', PASSWORD)).body.accessToken as string;
    expect((await apiB.token('channelName=room', token)).status).to.equal(200);
    await b.core.administerAccounts.disable('four');
    await sleep(2100);
    expect((await apiB.token('channelName=room', token)).status).to.equal(401);
    expectError(await apiB.login('four', PASSWORD), 403, 'forbidden');
    expect(emulator.users.get('four')?.activated).to.equal(false);
  });
});

/** `chat-app-server users ...` in its own process, on the database of a test server. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PACKAGE_ROOT, 'src/standalone/cli.ts'), ...args], {
      cwd: PACKAGE_ROOT, env: { PATH: process.env.PATH, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const dialect of DIALECTS) {
  describe(`users command on ${dialect}`, function () {
    this.timeout(120_000);
    let emulator: AgoraEmulator;
    let server: TestServer;
    let env: Record<string, string>;

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
      server = await startTestServer(dialect as DialectName, emulator);
      const db = server.db;
      const url = db.schema ? `${db.url}?options=${encodeURIComponent(`-c search_path=${db.schema}`)}` : db.url;
      env = testEnv({ ...db, url }, emulator) as Record<string, string>;
      const api = client(server.url);
      for (const account of ['Jack', 'amy']) await api.register(account, PASSWORD);
    });
    after(async () => {
      await server?.stop();
      await emulator?.close();
    });

    it('lists, shows, disables, enables, revokes and deletes, in plain text and JSON, with exit statuses 0, 1 and 2', async () => {
      const api = client(server.url);
      const token = (await api.login('jack', PASSWORD)).body.accessToken as string;

      const list = await runCli(['users', 'list'], env);
      expect(list.code, list.stderr).to.equal(0);
      expect(list.stdout).to.match(/^ACCOUNT\s+STATUS\s+CHAT USER\s+AGORA UID\s+CREATED\n/);
      expect(list.stdout).to.match(/\nJack\s+active\s+jack\s+\d+\s+\d{4}-/).and.include('2 accounts');

      const disabled = await runCli(['users', 'disable', 'JACK'], env);
      expect(disabled.code, disabled.stderr).to.equal(0);
      expect(disabled.stdout).to.include('Disabled "Jack"').and.match(/status:\s+disabled/);
      expect(emulator.users.get('jack')?.activated).to.equal(false);
      expect(emulator.users.disconnects).to.include('jack');

      const json = await runCli(['users', 'list', '--status', 'disabled', '--json'], env);
      expect(json.code, json.stderr).to.equal(0);
      const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
      expect(listed.map((u) => u.account)).to.deep.equal(['Jack']);
      expect(listed[0]).to.include({ status: 'disabled', chatUserName: 'jack' }).and.not.have.property('passwordHash');
      expect(listed[0]!.tokensRevokedBefore).to.be.a('string');

      const enabled = await runCli(['users', 'enable', 'jack', '--json'], env);
      expect(enabled.code, enabled.stderr).to.equal(0);
      expect(JSON.parse(enabled.stdout)).to.include({ account: 'Jack', status: 'active' });
      expect(emulator.users.get('jack')?.activated).to.equal(true);
      // Tokens issued before the disable stay revoked; a new login works.
      expect((await api.token('channelName=room', token)).status).to.equal(401);
      const fresh = (await api.login('jack', PASSWORD)).body.accessToken as string;

      const revoked = await runCli(['users', 'revoke', 'jack'], env);
      expect(revoked.code, revoked.stderr).to.equal(0);
      expect(revoked.stdout).to.include('Logged "Jack" out everywhere');
      const shown = await runCli(['users', 'show', 'jack', '--json'], env);
      expect(JSON.parse(shown.stdout)).to.include({ account: 'Jack', status: 'active', chatUserName: 'jack' });
      // The server learns the revocation within its principal cache lifetime; renewal reads afresh at once.
      expect((await api.renew(fresh)).status).to.equal(401);

      const deleted = await runCli(['users', 'delete', 'amy'], env);
      expect(deleted.code, deleted.stderr).to.equal(0);
      expect(deleted.stdout).to.include('Deleted "amy"');
      expect(emulator.users.has('amy')).to.equal(false);

      const missing = await runCli(['users', 'show', 'amy', '--json'], env);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include('No account "amy"');
      expect(JSON.parse(missing.stdout)).to.deep.equal({ error: 'account_not_found', message: 'No account "amy".' });

      for (const bad of [['users'], ['users', 'frob', 'x'], ['users', 'show'], ['users', 'list', '--status', 'gone'], ['users', 'disable', 'a', 'b']]) {
        const usage = await runCli(bad, env);
        expect(usage.code, bad.join(' ')).to.equal(2);
        expect(usage.stderr).to.include('Usage: chat-app-server users');
      }
    });

    it('disables locally and exits 1 naming what is left when Agora is unavailable; running it again finishes', async () => {
      emulator.faults.failNext(50, { status: 503 });
      const failed = await runCli(['users', 'disable', 'jack'], env);
      emulator.faults.clear();
      expect(failed.code).to.equal(1);
      expect(failed.stderr).to.include('disabled here').and.include('Run the command again');
      expect(emulator.users.get('jack')?.activated).to.equal(true);
      expect((await client(server.url).login('jack', PASSWORD)).status).to.equal(403);
      const again = await runCli(['users', 'disable', 'jack'], env);
      expect(again.code, again.stderr).to.equal(0);
      expect(emulator.users.get('jack')?.activated).to.equal(false);
    });
  });
}
