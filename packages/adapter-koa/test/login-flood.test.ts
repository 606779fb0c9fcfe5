import { connect } from 'node:net';
import { ScryptPasswordHasher, ServerBusyError, type PasswordHasher } from '@chat-app-server/core';
import { CHEAP_SCRYPT_PARAMETERS } from '@chat-app-server/core/testing';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { CountingHasher } from './support/counting-hasher.js';
import { startTestEmulator, startTestServer, type TestServer } from './support/harness.js';
import { request, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';
const FLOODER = '127.0.0.52';
// The emulator outlives each test's database: account names are fresh per run.
const run = Math.random().toString(36).slice(2, 8);
const fresh = (name: string) => `${name}-${run}`;

/** Refuses every hash of one address, as a saturated hasher refuses a flooding address, and counts the work done. */
class FloodedHasher extends CountingHasher {
  constructor() {
    super(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS, concurrency: 4, maxQueue: 100 }));
  }
  override checkCapacity(client?: string) {
    this.capacityChecks++;
    if (client === FLOODER) throw new ServerBusyError(2);
  }
}

const post = (server: TestServer, path: string, body: unknown, localAddress: string, headers: Record<string, string> = {}): Promise<HttpResponse> =>
  request(server.url, 'POST', path, { body, localAddress, headers });

/** Sends a request's head announcing a body that never comes; resolves with the status line of the answer. */
function headWithoutBody(server: TestServer, path: string, localAddress: string): Promise<string> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('no answer: the server waited for the body');
    }, 3000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"userAccount":`);
  });
}

describe('login and registration floods over real HTTP', function () {
  this.timeout(60_000);
  let emulator: AgoraEmulator;
  const servers: TestServer[] = [];
  before(async () => {
    emulator = await startTestEmulator();
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  after(async () => emulator?.close());

  async function serverWith(passwordHasher: PasswordHasher): Promise<TestServer> {
    const server = await startTestServer('sqlite', emulator, { overrides: { passwordHasher } });
    servers.push(server);
    return server;
  }

  for (const [profile, path] of [['Django', '/app/user'], ['Java', '/app/chat/user']] as const) {
    it(`refuses a flooding address's ${profile} login and registration before reading the body`, async () => {
      const hasher = new FloodedHasher();
      const server = await serverWith(hasher);
      // Malformed JSON would be a 400 if the body were read: the refusal comes first.
      for (const op of ['login', 'register']) {
        const refused = await post(server, `${path}/${op}`, '{"userAccount": not json', FLOODER);
        expect(refused.status, `${op}: ${refused.text}`).to.equal(503);
        if (profile === 'Django') expect(refused.text).to.contain('server_busy');
        expect(refused.headers['retry-after']).to.equal('2');
        // A body that has not arrived is not waited for.
        expect(await headWithoutBody(server, `${path}/${op}`, FLOODER)).to.match(/^HTTP\/1\.1 503 /);
      }
      expect(hasher.verifications, 'no password checked for the flooding address').to.equal(0);
      // Other addresses are read and served as usual.
      const registered = await post(server, `${path}/register`, { userAccount: fresh(`calm${profile}`), userPassword: PASSWORD }, '127.0.0.53');
      expect(registered.status, registered.text).to.equal(200);
      expect((await post(server, `${path}/login`, '{"userAccount": not json', '127.0.0.53')).status).to.equal(400);
      expect((await post(server, `${path}/login`, { userAccount: fresh(`calm${profile}`), userPassword: PASSWORD }, '127.0.0.53')).status).to.equal(200);
    });
  }

  it('holds a refusal at the door for the refusal pause before answering, so clients that resend at once slow down', async () => {
    const server = await serverWith(new FloodedHasher());
    const started = performance.now();
    const refused = await post(server, '/app/user/login', { userAccount: 'anyone', userPassword: PASSWORD }, FLOODER);
    const heldMs = performance.now() - started;
    expect(refused.status).to.equal(503);
    // A lower bound only (timers never fire early): the default pause is one second, within Retry-After (2 s here).
    expect(heldMs).to.be.at.least(950);
  });

  it('remembers an address past its registration limit and refuses it before the body and the database', async () => {
    const hasher = new FloodedHasher();
    const server = await startTestServer('sqlite', emulator, { env: { REGISTER_MAX_PER_ADDRESS: '1', REGISTER_WINDOW_SECONDS: '600' }, overrides: { passwordHasher: hasher } });
    servers.push(server);
    expect((await post(server, '/app/user/register', { userAccount: fresh('first'), userPassword: PASSWORD }, '127.0.0.54')).status).to.equal(200);
    const limited = await post(server, '/app/user/register', { userAccount: fresh('second'), userPassword: PASSWORD }, '127.0.0.54');
    expect(limited.status).to.equal(429);
    const remembered = await post(server, '/app/user/register', '{"userAccount": not json', '127.0.0.54');
    expect(remembered.status, remembered.text).to.equal(429);
    expect(Number(remembered.headers['retry-after'])).to.be.within(590, 600);
    expect(await headWithoutBody(server, '/app/user/register', '127.0.0.54')).to.match(/^HTTP\/1\.1 429 /);
  });

  it('serves a correct login from another address while one address floods logins beyond the hashing capacity', async () => {
    // The production admission with one hashing slot and a wait limit that any queued hash exceeds:
    // before fewest-running-first admission with one waiting job per slot, every login that found the
    // slot busy was refused, and under a flood the slot is always busy.
    const hasher = new ScryptPasswordHasher({ parameters: { logN: 12, r: 8, p: 1 }, concurrency: 1, maxQueue: 4, maxWaitMs: 1 });
    const server = await serverWith(hasher);
    const accounts = ['flood-a', 'flood-b', 'calm'].map(fresh);
    for (const [i, account] of accounts.entries()) {
      const registered = await post(server, '/app/user/register', { userAccount: account, userPassword: PASSWORD }, `127.0.0.${60 + i}`);
      expect(registered.status, registered.text).to.equal(200);
    }
    let flooding = true;
    const statuses: Record<number, number> = {};
    const flood = Array.from({ length: 16 }, async (_, i) => {
      while (flooding) {
        const res = await post(server, '/app/user/login', { userAccount: accounts[i % 2], userPassword: PASSWORD }, FLOODER).catch(() => undefined);
        if (res) statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    });
    const answers: string[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; i < 5; i++) {
        const res = await post(server, '/app/user/login', { userAccount: accounts[2], userPassword: PASSWORD }, '127.0.0.55');
        answers.push(`${res.status} ${res.body?.error ?? ''}`.trim());
      }
    } finally {
      flooding = false;
      await Promise.all(flood);
    }
    expect(statuses[503] ?? 0, `the flood was refused in part: ${JSON.stringify(statuses)}`).to.be.greaterThan(0);
    expect(answers).to.deep.equal(['200', '200', '200', '200', '200']);
  });
});
