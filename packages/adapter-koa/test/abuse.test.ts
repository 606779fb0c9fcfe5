import { ScryptPasswordHasher, type PasswordHasher } from '@chat-app-server/core';
import { CHEAP_SCRYPT_PARAMETERS } from '@chat-app-server/core/testing';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { CountingHasher } from './support/counting-hasher.js';
import {
  cheapHasher, DIALECTS, requirePostgres, startServerOn, startTestEmulator, startTestServer, type TestServer,
} from './support/harness.js';
import { request, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';

/** Posts from one loopback address, so each test's per-address limits are its own. */
function post(server: { url: string }, path: string, body: unknown, localAddress: string): Promise<HttpResponse> {
  return request(server.url, 'POST', path, { body, localAddress });
}
const register = (server: { url: string }, userAccount: string, userPassword: string, from: string) =>
  post(server, '/app/user/register', { userAccount, userPassword }, from);
const login = (server: { url: string }, userAccount: string, userPassword: string, from: string) =>
  post(server, '/app/user/login', { userAccount, userPassword }, from);

function tally(responses: readonly HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const key = r.status === 200 ? '200' : `${r.status} ${r.body?.error}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

for (const dialect of DIALECTS) {
  describe(`abuse resistance over real HTTP on ${dialect}`, function () {
    this.timeout(60_000);
    let emulator: AgoraEmulator;
    const servers: TestServer[] = [];

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
    });
    afterEach(async () => {
      // Instances sharing a database first, then the one that owns (and drops) it.
      for (const server of servers.splice(0).reverse()) await server.stop();
    });
    after(async () => emulator?.close());

    /** One server, or `instances` servers sharing one database, all with `hasher` behind the default admission. */
    async function cluster(instances: number, hasher: PasswordHasher, env: Record<string, string> = {}): Promise<TestServer[]> {
      const first = await startTestServer(dialect, emulator, { env, overrides: { passwordHasher: hasher } });
      servers.push(first);
      for (let i = 1; i < instances; i++) {
        servers.push(await startServerOn(first.db, emulator, { env, overrides: { passwordHasher: hasher } }));
      }
      return servers.slice(-instances);
    }

    describe('registration floods', () => {
      it('limits registrations per client address with REGISTER_MAX_PER_ADDRESS, across instances, 409 answers included', async () => {
        const nodes = await cluster(dialect === 'postgres' ? 2 : 1, cheapHasher(), { REGISTER_MAX_PER_ADDRESS: '3', REGISTER_WINDOW_SECONDS: '600' });
        const at = (i: number) => nodes[i % nodes.length]!;
        expect((await register(at(0), 'limited-1', PASSWORD, '127.0.0.41')).status).to.equal(200);
        expect((await register(at(1), 'limited-1', PASSWORD, '127.0.0.41')).status).to.equal(409);
        expect((await register(at(2), 'limited-2', PASSWORD, '127.0.0.41')).status).to.equal(200);
        const refused = await register(at(3), 'limited-3', PASSWORD, '127.0.0.41');
        expect(refused.status, refused.text).to.equal(429);
        expect(refused.body.error).to.equal('too_many_attempts');
        expect(Number(refused.headers['retry-after'])).to.be.within(590, 600);
        expect((await register(at(0), 'limited-3', PASSWORD, '127.0.0.42')).status, 'another address').to.equal(200);
      });

      // The issue asks for 2 s on a quiet machine (the closing note measures that); the shared test machine
      // gets a generous margin. Before fair admission the logins got 503 server_busy, however long one waited.
      const IN_TIME_MS = 5000;
      // Hashing of realistic cost behind the production admission (4 waiting, 1 s expected wait), one at a time
      // so that a core is left for the event loop on a small test machine.
      const costlyHasher = () => new ScryptPasswordHasher({ parameters: { logN: 12, r: 8, p: 1 }, concurrency: 1 });
      const layouts: Array<[string, Record<string, string>]> = [
        ['fair hashing alone (no registration limit)', { REGISTER_MAX_PER_ADDRESS: '1000000' }],
        ['the default registration limit', { REGISTER_MAX_PER_ADDRESS: '' }],
      ];
      // Fairness lives in the process (core's hashing admission): one dialect is enough.
      for (const [n, [name, env]] of dialect === 'sqlite' ? layouts.entries() : []) {
        it(`lets a correct login from another address through a registration flood from one address: ${name}`, async () => {
          const [node] = await cluster(1, costlyHasher(), env);
          const account = `steady-${n}`;
          expect((await register(node!, account, PASSWORD, '127.0.0.44')).status).to.equal(200);
          let flooding = true;
          let sent = 0;
          const flood = Array.from({ length: 30 }, async () => {
            while (flooding) await register(node!, `flood-${n}-${sent++}`, PASSWORD, '127.0.0.43').catch(() => undefined);
          });
          const took: string[] = [];
          let inTime = 0;
          try {
            await new Promise((resolve) => setTimeout(resolve, 500));
            for (let i = 0; i < 10; i++) {
              const started = Date.now();
              const res = await login(node!, account, PASSWORD, '127.0.0.44');
              const ms = Date.now() - started;
              took.push(`${res.status} in ${ms} ms`);
              if (res.status === 200 && ms <= IN_TIME_MS) inTime++;
            }
          } finally {
            flooding = false;
            await Promise.all(flood);
          }
          expect(inTime, `logins: ${took.join(', ')}; ${sent} flood requests`).to.be.at.least(9);
        });
      }
    });

    describe('registration races (reserve before hashing)', () => {
      const layouts = dialect === 'postgres' ? [1, 2] : [1];
      for (const instances of layouts) {
        it(`answers 50 concurrent registrations of one account with 1 x 200 and 49 x 409, no 503 and one hash (${instances} instance(s))`, async () => {
          // The production admission (2 hashes at once, 8 waiting): racers that all hashed first got 503 server_busy.
          const hasher = new CountingHasher(new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }));
          const nodes = await cluster(instances, hasher, { REGISTER_MAX_PER_ADDRESS: '1000' });
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => register(nodes[i % nodes.length]!, `Racer${instances}`, PASSWORD, '127.0.0.31')),
          );
          expect(tally(results)).to.deep.equal({ '200': 1, '409 account_exists': 49 });
          expect(hasher.hashes, 'passwords hashed').to.equal(1);
          expect(emulator.users.list().filter((u) => u.username === `racer${instances}`)).to.have.length(1);
          expect((await login(nodes[0]!, `racer${instances}`, PASSWORD, '127.0.0.31')).status).to.equal(200);
        });
      }
    });

    describe('login throttle (claim before hashing)', () => {
      const layouts = dialect === 'postgres' ? [1, 2] : [1];
      for (const instances of layouts) {
        it(`checks at most LOGIN_MAX_FAILURES passwords per window, however parallel the guesses (${instances} instance(s))`, async () => {
          const hasher = new CountingHasher(cheapHasher());
          const nodes = await cluster(instances, hasher, { LOGIN_MAX_FAILURES: '5' });
          const account = `guessed-${instances}`;
          expect((await register(nodes[0]!, account, PASSWORD, '127.0.0.32')).status).to.equal(200);
          for (let i = 0; i < 4; i++) expect((await login(nodes[0]!, account, `wrong password ${i}`, '127.0.0.33')).status).to.equal(401);
          const before = hasher.verifications;
          const burst = await Promise.all(
            Array.from({ length: 40 }, (_, i) => login(nodes[i % nodes.length]!, account, `burst guess ${i}`, '127.0.0.33')),
          );
          expect(hasher.verifications - before, 'passwords checked in the burst').to.equal(1);
          expect(tally(burst)).to.deep.equal({ '401 invalid_credentials': 1, '429 too_many_attempts': 39 });
        });
      }

      it('throttles an attacking address for that account, not the owner from another address', async () => {
        const [node] = await cluster(1, cheapHasher(), { LOGIN_MAX_FAILURES: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '12' });
        expect((await register(node!, 'Owner', PASSWORD, '127.0.0.34')).status).to.equal(200);
        for (let i = 0; i < 5; i++) expect((await login(node!, 'owner', `guess ${i}`, '127.0.0.35')).status).to.equal(401);
        const attacker = await login(node!, 'owner', PASSWORD, '127.0.0.35');
        expect(attacker.status, 'the attacking address is blocked for this account').to.equal(429);
        expect(Number(attacker.headers['retry-after'])).to.be.at.least(1);
        expect((await login(node!, 'owner', PASSWORD, '127.0.0.36')).status, 'the owner from elsewhere').to.equal(200);
        expect((await register(node!, 'bystander', PASSWORD, '127.0.0.34')).status).to.equal(200);
        expect((await login(node!, 'bystander', PASSWORD, '127.0.0.35')).status, 'the attacking address on another account').to.equal(200);
      });

      it('caps guesses at one account across addresses with LOGIN_MAX_FAILURES_PER_ACCOUNT', async () => {
        const [node] = await cluster(1, cheapHasher(), { LOGIN_MAX_FAILURES: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '12' });
        expect((await register(node!, 'target', PASSWORD, '127.0.0.37')).status).to.equal(200);
        // 4 addresses x 3 guesses = 12 failures, none of them reaching the per-address limit of 5.
        for (let a = 0; a < 4; a++) {
          for (let i = 0; i < 3; i++) expect((await login(node!, 'target', `guess ${a}.${i}`, `127.0.1.${a + 1}`)).status).to.equal(401);
        }
        const owner = await login(node!, 'target', PASSWORD, '127.0.0.38');
        expect(owner.status, owner.text).to.equal(429);
        expect(owner.body.error).to.equal('too_many_attempts');
      });
    });
  });
}
