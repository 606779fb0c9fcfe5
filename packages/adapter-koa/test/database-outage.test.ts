import { requireThrowawayPostgres, type ThrowawayPostgres, type TestDatabase } from '@chat-app-server/adapter-knex/testing';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { loadConfig, startServer } from '../src/standalone/index.js';
import { checkContractOf } from './support/contract.js';
import { cheapHasher, FAST_PROVISIONER, LogCapture, sleep, startTestEmulator, testEnv } from './support/harness.js';
import { client, request, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';
const ACQUIRE_SECONDS = 1;
const QUERY_SECONDS = 1;
// The longest a request may wait for a database that does not answer: a connection, a statement and,
// for a transaction, its rollback; plus a second for a loaded machine.
const BOUND_MS = (ACQUIRE_SECONDS + 2 * QUERY_SECONDS + 1) * 1000;

interface Timed extends HttpResponse {
  readonly ms: number;
}

async function timed(call: () => Promise<HttpResponse>): Promise<Timed> {
  const started = Date.now();
  const res = await call();
  return Object.assign(res, { ms: Date.now() - started });
}

function expectUnavailable(res: Timed, what: string): void {
  expect(res.status, `${what}: ${res.text}`).to.equal(503);
  expect(res.ms, `${what} answered after`).to.be.below(BOUND_MS);
  expect(Number(res.headers['retry-after']), `${what}: Retry-After`).to.be.at.least(1);
  // The driver's words stay in the log: no address, port, error code or SQL for the client.
  expect(res.text, what).to.not.match(/ECONN|127\.0\.0\.1|timeout expired|select|Connection terminated|users/i);
}

// The first 200 within 10 s: connections broken by the outage are replaced as requests find them.
async function eventuallyOk(call: () => Promise<HttpResponse>): Promise<HttpResponse> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await call();
    if (res.status === 200 || Date.now() > deadline) return res;
    await sleep(200);
  }
}

describe('a database outage (PostgreSQL stopped, then frozen)', function () {
  this.timeout(60_000);
  let pg: ThrowawayPostgres;
  let emulator: AgoraEmulator;
  let server: Awaited<ReturnType<typeof startServer>>;
  let logs: LogCapture;
  let api: ReturnType<typeof client>;
  let token: string;

  before(async function () {
    pg = await requireThrowawayPostgres(this);
    emulator = await startTestEmulator();
    logs = new LogCapture();
    const config = loadConfig(testEnv({ url: pg.url } as TestDatabase, emulator, {
      DATABASE_ACQUIRE_TIMEOUT_SECONDS: String(ACQUIRE_SECONDS),
      DATABASE_QUERY_TIMEOUT_SECONDS: String(QUERY_SECONDS),
    }));
    server = await startServer(config, { passwordHasher: cheapHasher(), logger: logs.logger, provisioner: FAST_PROVISIONER, shutdownTimeoutMs: 3000 });
    // Every answer, 503s included, must be one the OpenAPI document lists for its route.
    checkContractOf(server.url, server.httpServer);
    api = client(server.url);
    expect((await api.register('jack', PASSWORD)).status).to.equal(200);
    const login = await api.login('jack', PASSWORD);
    expect(login.status).to.equal(200);
    token = login.body.accessToken as string;
  });

  after(async function () {
    await server?.close();
    await emulator?.close();
    await pg?.destroy();
  });

  // What needs the database answers 503 database_unavailable in time; what does not keeps working.
  async function expectOutageAnswers(): Promise<void> {
    const [login, register, renew, javaLogin, ready, health] = await Promise.all([
      timed(() => api.login('jack', PASSWORD)),
      timed(() => api.register('jill', PASSWORD)),
      timed(() => api.renew(token)),
      timed(() => api.login('jack', PASSWORD, { path: '/app/chat/user/login' })),
      timed(() => request(server.url, 'GET', '/readyz')),
      timed(() => request(server.url, 'GET', '/healthz')),
    ]);
    for (const [what, res] of [['login', login], ['register', register], ['renew', renew]] as const) {
      expectUnavailable(res, what);
      expect(res.body, what).to.include({ code: 503, error: 'database_unavailable' });
    }
    expectUnavailable(javaLogin, 'Java login');
    expect(javaLogin.body).to.include({ code: 'RES_UNKNOWN', statusCode: 503 });
    expectUnavailable(ready, 'readyz');
    expect(ready.body).to.include({ error: 'not_ready' });
    expect(health.status).to.equal(200);
    expect(health.ms).to.be.below(1000);
  }

  it('answers 503 database_unavailable with Retry-After at once while PostgreSQL is stopped, and 200 again once it is back', async function () {
    await pg.stop();
    try {
      await expectOutageAnswers();
      // The details are in the log, under the request id of the answer.
      const res = await api.login('jack', PASSWORD);
      const line = logs.lines.map((l) => JSON.parse(l) as Record<string, any>)
        .find((l) => l['requestId'] === res.headers['x-request-id'] && l['msg'] === 'request failed: database unavailable');
      expect(line, 'the log line of the failed login').to.not.equal(undefined);
      expect(JSON.stringify(line!['err'])).to.match(/ECONNREFUSED/);
      // Knex's own complaints ("Acquire connection error: ...") go to the server's log, not the console.
      expect(logs.lines.some((l) => l.includes('"component":"knex"') && l.includes('ECONNREFUSED')), 'Knex in the server log').to.equal(true);
    } finally {
      await pg.start();
    }
    expect((await eventuallyOk(() => api.login('jack', PASSWORD))).status).to.equal(200);
    expect((await api.renew(token)).status).to.equal(200);
    expect((await api.register('jill', PASSWORD)).status).to.equal(200);
    expect((await request(server.url, 'GET', '/readyz')).status).to.equal(200);
  });

  it('answers 503 database_unavailable within the timeouts while PostgreSQL is frozen, and 200 again once it thaws', async function () {
    // Pooled connections that worked a moment ago are the ones a frozen server leaves hanging.
    expect((await api.login('jack', PASSWORD)).status).to.equal(200);
    pg.freeze();
    try {
      await expectOutageAnswers();
    } finally {
      pg.thaw();
    }
    expect((await eventuallyOk(() => api.login('jack', PASSWORD))).status).to.equal(200);
    expect((await api.renew(token)).status).to.equal(200);
    expect((await api.register('joe', PASSWORD)).status).to.equal(200);
    expect((await request(server.url, 'GET', '/readyz')).status).to.equal(200);
  });
});
