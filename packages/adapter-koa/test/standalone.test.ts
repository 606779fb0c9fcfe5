import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ChatServiceMisconfiguredError, ChatUserExistsError, ERROR_CODES, OWASP_SCRYPT_PARAMETERS, PORT_ERROR_CODES, ScryptPasswordHasher,
  UnauthenticatedError, accountKeyOf,
} from '@chat-app-server/core';
import { AgoraTokenIssuer } from '@chat-app-server/adapter-agora';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import Koa from 'koa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, createRouter, DJANGO_ERRORS, type HttpCore } from '../src/index.js';
import { buildServer, ConfigError, loadConfig, SETTINGS, type Env } from '../src/standalone/index.js';
import { decodeAccessToken2 } from './support/access-token2.js';
import { cheapHasher, createTestDatabase, LogCapture, sleep, startTestEmulator, startTestServer, TEST_AGORA, testEnv } from './support/harness.js';
import { checkContractOf } from './support/contract.js';
import { client, request } from './support/http.js';

use(chaiAsPromised);

const PASSWORD = 'correct horse battery';
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// The package's own compiler (a devDependency; its bin is not an export of the typescript package).
const TSC = join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
// The CLI runs in a temporary directory (so no developer .env is read); tsx is loaded by absolute URL.
const TSX_LOADER = pathToFileURL(createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsx')).href;
const REAL_AGORA: Env = {
  AGORA_APP_ID: TEST_AGORA.appId,
  AGORA_APP_CERT: TEST_AGORA.appCertificate,
  AGORA_APP_KEY: 'org#app',
  AGORA_REST_API_URL: 'https://a61.chat.agora.io',
};

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).to.include({
      port: 8000, host: '127.0.0.1', databaseUrl: 'sqlite:./data/chat-app-server.sqlite', tokenExpireSeconds: 86_400,
      chatTokenSubject: 'username', tokenAuth: 'bearer', logLevel: 'info', passwordMinLength: 8, loginMaxFailures: 10,
      loginFailureWindowSeconds: 900, loginMaxFailuresPerAccount: 100, registerMaxPerAddress: 20, registerWindowSeconds: 3600,
      trustProxy: 0, headersTimeoutSeconds: 10, requestTimeoutSeconds: 30, maxConnections: 1000,
    });
    expect(config.corsOrigins).to.deep.equal([]);
    expect(config.agora).to.deep.equal({ mode: 'emulator' });
  });

  it('reads real Agora settings, AGORA_REST_API_DOMAIN as https, and CORS origins', () => {
    const { AGORA_REST_API_URL: _, ...rest } = REAL_AGORA;
    const config = loadConfig({ ...rest, AGORA_REST_API_DOMAIN: 'a61.chat.agora.io', CORS_ORIGINS: 'https://a.example, http://localhost:3000' });
    expect(config.agora).to.deep.equal({
      mode: 'agora', appId: TEST_AGORA.appId, appCertificate: TEST_AGORA.appCertificate, appKey: 'org#app', restApiUrl: 'https://a61.chat.agora.io',
    });
    expect(config.corsOrigins).to.deep.equal(['https://a.example', 'http://localhost:3000']);
  });

  it('reads TRUST_PROXY as a number of proxies (true = 1, false = 0)', () => {
    const hops = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
    expect([hops('false'), hops('0'), hops('true'), hops('TRUE'), hops('1'), hops('2'), hops('10')]).to.deep.equal([0, 0, 1, 1, 1, 2, 10]);
  });

  it('warns about http:// Agora URLs outside development and about legacy token auth', () => {
    const config = loadConfig({ ...REAL_AGORA, AGORA_REST_API_URL: 'http://10.0.0.5:8080', NODE_ENV: 'staging', TOKEN_AUTH: 'legacy' });
    expect(config.warnings.join('\n')).to.include('AGORA_REST_API_URL uses http://').and.include('TOKEN_AUTH=legacy');
  });

  const refusals: Array<[string, Env, string]> = [
    ['a non-numeric PORT', { PORT: 'http' }, 'PORT'],
    ['a PORT out of range', { PORT: '70000' }, 'PORT'],
    ['an unsupported DATABASE_URL', { DATABASE_URL: 'mysql://db/app' }, 'DATABASE_URL'],
    ['a sqlite: URL without a path', { DATABASE_URL: 'sqlite:' }, 'DATABASE_URL'],
    ['a malformed AGORA_APP_ID', { ...REAL_AGORA, AGORA_APP_ID: 'my-app' }, 'AGORA_APP_ID'],
    ['a malformed AGORA_APP_CERT', { ...REAL_AGORA, AGORA_APP_CERT: 'abc123' }, 'AGORA_APP_CERT'],
    ['a malformed AGORA_APP_KEY', { ...REAL_AGORA, AGORA_APP_KEY: 'org-app' }, 'AGORA_APP_KEY'],
    ['an ftp AGORA_REST_API_URL', { ...REAL_AGORA, AGORA_REST_API_URL: 'ftp://a61.chat.agora.io' }, 'AGORA_REST_API_URL'],
    ['an AGORA_REST_API_URL with a path', { ...REAL_AGORA, AGORA_REST_API_URL: 'https://a61.chat.agora.io/org/app' }, 'AGORA_REST_API_URL'],
    ['an AGORA_REST_API_DOMAIN with a scheme', { ...REAL_AGORA, AGORA_REST_API_URL: undefined, AGORA_REST_API_DOMAIN: 'https://a61.chat.agora.io' }, 'AGORA_REST_API_DOMAIN'],
    ['both REST API settings', { ...REAL_AGORA, AGORA_REST_API_DOMAIN: 'a61.chat.agora.io' }, 'AGORA_REST_API_DOMAIN'],
    ['a partial Agora configuration', { AGORA_APP_ID: TEST_AGORA.appId }, 'AGORA_APP_CERT'],
    ['a partial Agora configuration (key)', { AGORA_APP_ID: TEST_AGORA.appId }, 'AGORA_APP_KEY'],
    ['a partial Agora configuration (URL)', { AGORA_APP_ID: TEST_AGORA.appId }, 'AGORA_REST_API_URL'],
    ['a token lifetime above 86400', { AGORA_TOKEN_EXPIRE_SECONDS: '86401' }, 'AGORA_TOKEN_EXPIRE_SECONDS'],
    ['a zero token lifetime', { AGORA_TOKEN_EXPIRE_SECONDS: '0' }, 'AGORA_TOKEN_EXPIRE_SECONDS'],
    ['an unknown chat token subject', { AGORA_CHAT_TOKEN_SUBJECT: 'email' }, 'AGORA_CHAT_TOKEN_SUBJECT'],
    ['an unknown TOKEN_AUTH', { TOKEN_AUTH: 'none' }, 'TOKEN_AUTH'],
    ['a CORS origin that is not an origin', { CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS'],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['a negative PASSWORD_MIN_LENGTH', { PASSWORD_MIN_LENGTH: '-1' }, 'PASSWORD_MIN_LENGTH'],
    ['a zero LOGIN_MAX_FAILURES', { LOGIN_MAX_FAILURES: '0' }, 'LOGIN_MAX_FAILURES'],
    ['a zero LOGIN_MAX_FAILURES_PER_ACCOUNT', { LOGIN_MAX_FAILURES_PER_ACCOUNT: '0' }, 'LOGIN_MAX_FAILURES_PER_ACCOUNT'],
    ['a zero REGISTER_MAX_PER_ADDRESS', { REGISTER_MAX_PER_ADDRESS: '0' }, 'REGISTER_MAX_PER_ADDRESS'],
    ['a REGISTER_WINDOW_SECONDS above a week', { REGISTER_WINDOW_SECONDS: '604801' }, 'REGISTER_WINDOW_SECONDS'],
    ['a non-numeric LOGIN_FAILURE_WINDOW_SECONDS', { LOGIN_FAILURE_WINDOW_SECONDS: '15m' }, 'LOGIN_FAILURE_WINDOW_SECONDS'],
    ['a TRUST_PROXY that is neither a boolean nor a number', { TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
    ['a TRUST_PROXY above 10 proxies', { TRUST_PROXY: '11' }, 'TRUST_PROXY'],
    ['a zero HEADERS_TIMEOUT_SECONDS', { HEADERS_TIMEOUT_SECONDS: '0' }, 'HEADERS_TIMEOUT_SECONDS'],
    ['a REQUEST_TIMEOUT_SECONDS below HEADERS_TIMEOUT_SECONDS', { HEADERS_TIMEOUT_SECONDS: '20', REQUEST_TIMEOUT_SECONDS: '10' }, 'REQUEST_TIMEOUT_SECONDS'],
    ['a non-numeric MAX_CONNECTIONS', { MAX_CONNECTIONS: 'many' }, 'MAX_CONNECTIONS'],
    ['production without AGORA_* settings', { NODE_ENV: 'production' }, 'AGORA_APP_ID'],
    ['NODE_ENV=Production without AGORA_* settings', { NODE_ENV: 'Production' }, 'AGORA_APP_ID'],
    ['NODE_ENV=PRODUCTION without AGORA_* settings', { NODE_ENV: 'PRODUCTION' }, 'AGORA_APP_ID'],
    ['NODE_ENV=staging without AGORA_* settings', { NODE_ENV: 'staging' }, 'AGORA_APP_ID'],
    ['NODE_ENV=Development (not spelled exactly) without AGORA_* settings', { NODE_ENV: 'Development' }, 'AGORA_APP_ID'],
  ];
  for (const [name, env, variable] of refusals) {
    it(`refuses ${name}, naming ${variable}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, variable);
    });
  }

  it('documents every setting of the schema in the README, with the schema\'s default', () => {
    const readme = readFileSync(join(PACKAGE_ROOT, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## HTTP API'));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    for (const [name, schema] of Object.entries(SETTINGS.properties)) {
      const row = rows.find((r) => r.split('|')[1]!.includes(`\`${name}\``));
      expect(row, `${name} is missing from the README's configuration table`).to.not.equal(undefined);
      const fallback = (schema as { default?: unknown }).default;
      if (fallback !== undefined && fallback !== '') expect(row!.split('|').at(-2), name).to.include(`\`${String(fallback)}\``);
    }
  });

  it('reads each setting\'s type from the schema: blank is unset, bounds and choices are enforced', () => {
    expect(loadConfig({ PORT: ' ', TRUST_PROXY: 'TRUE', LOG_LEVEL: 'debug' })).to.include({ port: 8000, trustProxy: 1, logLevel: 'debug' });
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).to.equal(2);
    expect(() => loadConfig({ PRINCIPAL_CACHE_TTL_SECONDS: '3601' })).to.throw(ConfigError, 'PRINCIPAL_CACHE_TTL_SECONDS must be a whole number from 1 to 3600, got "3601"');
    expect(() => loadConfig({ METRICS_PORT: '8000' })).to.throw(ConfigError, 'METRICS_PORT must differ from PORT');
    expect(loadConfig({}).metricsPort).to.equal(undefined);
  });

  it('runs the built-in emulator only with NODE_ENV unset, development or test', () => {
    for (const NODE_ENV of [undefined, '', 'development', 'test']) {
      expect(loadConfig({ NODE_ENV }).agora, String(NODE_ENV)).to.deep.equal({ mode: 'emulator' });
    }
  });

  it('never echoes the App Certificate in its messages', () => {
    const secret = 'not-hex-but-secret-value-0123456';
    expect(() => loadConfig({ ...REAL_AGORA, AGORA_APP_CERT: secret })).to.throw(ConfigError).that.satisfies(
      (err: Error) => !err.message.includes(secret),
    );
  });
});

describe('the standalone server', () => {
  let emulator: AgoraEmulator;
  before(async () => {
    emulator = await startTestEmulator();
  });
  after(async () => emulator?.close());

  it('derives the registration lease from the Agora client\'s deadline, takes a longer configured one, refuses a shorter one', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      const leaseOf = async (env: Env, provisioner?: { deadlineMs: number }) => {
        const server = await buildServer(loadConfig(testEnv(db, emulator, env)), {
          logger: new LogCapture().logger, passwordHasher: cheapHasher(), ...(provisioner ? { provisioner } : {}),
        });
        try {
          return server.core.registrationLeaseSeconds;
        } finally {
          await server.close();
        }
      };
      expect(await leaseOf({})).to.equal(15);
      expect(await leaseOf({}, { deadlineMs: 1500 })).to.equal(7);
      expect(await leaseOf({ REGISTRATION_LEASE_SECONDS: '2' }, { deadlineMs: 1500 })).to.equal(2);
      const refused = await leaseOf({ REGISTRATION_LEASE_SECONDS: '1' }, { deadlineMs: 1500 }).catch((err: Error) => err);
      expect(refused).to.be.instanceOf(ConfigError);
      expect((refused as Error).message).to.include('REGISTRATION_LEASE_SECONDS (1 s) must be longer than the chat service deadline (1500 ms');
    } finally {
      await db.teardown();
    }
  });

  it('hashes passwords with OWASP scrypt parameters by default', async () => {
    const db = await createTestDatabase('sqlite');
    const server = await buildServer(loadConfig(testEnv(db, emulator)), { logger: new LogCapture().logger });
    try {
      expect(server.passwordHasher).to.be.instanceOf(ScryptPasswordHasher);
      expect((server.passwordHasher as ScryptPasswordHasher).parameters).to.deep.equal({ logN: 15, r: 8, p: 3 });
      expect(OWASP_SCRYPT_PARAMETERS).to.deep.equal({ logN: 15, r: 8, p: 3 });
      const url = checkContractOf(await server.listen(0, '127.0.0.1'), server.httpServer);
      expect((await client(url).register('owasp', PASSWORD)).status).to.equal(200);
      const hash = Buffer.from((await server.users.findByAccountKey('owasp'))!.passwordHash!, 'base64');
      expect(hash.subarray(0, 6).toString()).to.equal('scrypt');
      expect({ logN: hash.readUInt8(7), r: hash.readUInt32BE(8), p: hash.readUInt32BE(12) }).to.deep.equal({ logN: 15, r: 8, p: 3 });
    } finally {
      await server.close();
      await db.teardown();
    }
  });

  it('runs in development mode on the built-in emulator, loudly, when no AGORA_* is set', async () => {
    const db = await createTestDatabase('sqlite');
    const logs = new LogCapture();
    const server = await buildServer(loadConfig({ NODE_ENV: 'development', DATABASE_URL: db.url }), { logger: logs.logger, passwordHasher: cheapHasher() });
    try {
      expect(server.emulator).to.not.equal(undefined);
      expect(logs.text).to.include('DEVELOPMENT MODE');
      const url = checkContractOf(await server.listen(0, '127.0.0.1'), server.httpServer);
      const api = client(url);
      expect((await api.register('devuser', PASSWORD)).status).to.equal(200);
      const login = await api.login('devuser', PASSWORD);
      expect(await server.tokens.verifyChatToken(login.body.accessToken)).to.have.property('subject', login.body.chatUserName);
      expect(server.emulator!.users.has(login.body.chatUserName)).to.equal(true);
    } finally {
      await server.close();
      await db.teardown();
    }
    expect(logs.text).to.include('chat-app-server stopped');
  });

  it('uses random development credentials: no published certificate and no other process signs its bearers', async () => {
    const FORMER_CONSTANT_CERT = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const dbs = [await createTestDatabase('sqlite'), await createTestDatabase('sqlite')];
    const [one, two] = await Promise.all(dbs.map((db) =>
      buildServer(loadConfig({ DATABASE_URL: db.url }), { logger: new LogCapture().logger, passwordHasher: cheapHasher() })));
    try {
      const api = client(await one!.listen(0, '127.0.0.1'));
      expect((await api.register('devuser', PASSWORD)).status).to.equal(200);
      const { accessToken } = (await api.login('devuser', PASSWORD)).body as { accessToken: string };
      expect(decodeAccessToken2(accessToken, FORMER_CONSTANT_CERT).signatureValid).to.equal(false);
      await expect(two!.tokens.verifyChatToken(accessToken)).to.be.rejectedWith(UnauthenticatedError);
      const forged = await new AgoraTokenIssuer({ appId: decodeAccessToken2(accessToken, FORMER_CONSTANT_CERT).appId, appCertificate: FORMER_CONSTANT_CERT })
        .issueChatToken({ chatUsername: 'devuser', chatUuid: null });
      expect((await api.token('channelName=room', forged.token)).status).to.equal(401);
    } finally {
      await Promise.all([one!.close(), two!.close()]);
      await Promise.all(dbs.map((db) => db.teardown()));
    }
  });

  it('creates the SQLite database private (0600), and warns at start when an existing one is readable by others', async () => {
    const db = await createTestDatabase('sqlite');
    const file = db.url.slice('sqlite:'.length);
    const start = async () => {
      const logs = new LogCapture();
      await (await buildServer(loadConfig(testEnv(db, emulator)), { logger: logs.logger, passwordHasher: cheapHasher() })).close();
      return logs.text;
    };
    try {
      expect(await start()).to.not.include('accessible to other local users');
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      chmodSync(file, 0o644);
      expect(await start()).to.include('accessible to other local users').and.include('chmod 600');
    } finally {
      await db.teardown();
    }
  });

  it('refuses the built-in emulator outside development even when handed a config that asks for it', async () => {
    const config = { ...loadConfig({}), nodeEnv: 'Production' };
    await expect(buildServer(config, { logger: new LogCapture().logger })).to.be.rejectedWith(/NODE_ENV=Production/);
  });

  it('finishes in-flight requests on shutdown, refuses new connections, then closes the database', async () => {
    const server = await startTestServer('sqlite', emulator, {
      overrides: { provisioner: { timeoutMs: 3000, deadlineMs: 6000, retries: 0 }, shutdownTimeoutMs: 5000 },
    });
    const api = client(server.url);
    emulator.faults.delayNext(5, 600);
    const inFlight = Array.from({ length: 5 }, (_, i) => api.register(`in-flight-${i}`, PASSWORD));
    await sleep(200);
    const closed = server.close();
    await sleep(50);
    await Promise.all([
      expect(api.request('GET', '/healthz')).to.be.rejected,
      (async () => {
        const results = await Promise.all(inFlight);
        expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      })(),
    ]);
    await closed;
    expect(server.httpServer.listening).to.equal(false);
    await expect(server.knex.raw('select 1')).to.be.rejected;
    await server.db.teardown();
  });

  it('answers CORS preflights for configured origins only', async () => {
    const server = await startTestServer('sqlite', emulator, { env: { CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const preflight = (origin: string) => request(server.url, 'OPTIONS', '/app/user/login', {
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' },
      });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.status).to.equal(204);
      expect(allowed.headers['access-control-allow-origin']).to.equal('https://app.example.com');
      expect(allowed.headers['access-control-allow-methods']).to.include('POST');
      expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).to.include('authorization');
      const refused = await preflight('https://evil.example');
      expect(refused.headers['access-control-allow-origin']).to.equal(undefined);
      const simple = await request(server.url, 'GET', '/healthz', { headers: { Origin: 'https://app.example.com' } });
      expect(simple.headers['access-control-allow-origin']).to.equal('https://app.example.com');
      expect(String(simple.headers['access-control-expose-headers'])).to.include('X-Request-Id');
    } finally {
      await server.stop();
    }
  });

  it('with TOKEN_AUTH=legacy issues /token for a userAccount without a bearer, and warns at start-up', async () => {
    const server = await startTestServer('sqlite', emulator, { env: { TOKEN_AUTH: 'legacy' } });
    try {
      const api = client(server.url);
      expect(server.logs.text).to.include('TOKEN_AUTH=legacy');
      expect((await api.register('oldclient', PASSWORD)).status).to.equal(200);
      const res = await api.token('userAccount=oldclient&channelName=lobby&publisherRole=true');
      expect(res.status, res.text).to.equal(200);
      const row = await server.users.findByAccountKey(accountKeyOf('oldclient'));
      expect(res.body.agoraUid).to.equal(String(row!.agoraUid));
      expect(decodeAccessToken2(res.body.accessToken, TEST_AGORA.appCertificate).signatureValid).to.equal(true);
      expect((await api.token('userAccount=nobody&channelName=lobby')).status).to.equal(401);
      expect((await api.token('channelName=lobby')).body.error).to.equal('invalid_request');
      // A bearer still works, and is still checked.
      const login = await api.login('oldclient', PASSWORD);
      expect((await api.token('channelName=lobby', login.body.accessToken)).status).to.equal(200);
      expect((await api.token('channelName=lobby', 'garbage')).status).to.equal(401);
    } finally {
      await server.stop();
    }
  });
});

describe('embedding', () => {
  let emulator: AgoraEmulator;
  before(async () => {
    emulator = await startTestEmulator();
  });
  after(async () => emulator?.close());

  it('mounts createRouter in an existing Koa app next to its own routes', async () => {
    const server = await startTestServer('sqlite', emulator);
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path === '/own') ctx.body = { mine: true };
      else await next();
    });
    const router = createRouter(server.core);
    app.use(router.routes()).use(router.allowedMethods());
    const http = createServer(app.callback());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const api = client(`http://127.0.0.1:${(http.address() as AddressInfo).port}`);
      expect((await api.request('GET', '/own')).body).to.deep.equal({ mine: true });
      expect((await api.register('embedded', PASSWORD)).status).to.equal(200);
      expect((await api.register('embedded', PASSWORD)).body).to.deep.include({ code: 409, error: 'account_exists' });
      expect((await api.request('POST', '/app/user/login', { body: '[]', headers: { 'Content-Type': 'application/json' } })).status).to.equal(400);
      expect((await api.login('embedded', PASSWORD)).status).to.equal(200);
    } finally {
      await new Promise((resolve) => http.close(resolve));
      await server.stop();
    }
  });

  it('maps every client-facing domain error code to a status, and no port code', () => {
    const clientCodes = ERROR_CODES.filter((code) => !(PORT_ERROR_CODES as readonly string[]).includes(code));
    expect(Object.keys(DJANGO_ERRORS.status).sort()).to.deep.equal([...clientCodes].sort());
    for (const code of clientCodes) expect(DJANGO_ERRORS.status[code as keyof typeof DJANGO_ERRORS.status], code).to.be.within(400, 599);
  });

  it('answers an unexpected error with a generic 500, logged once with the request id', async () => {
    const server = await startTestServer('sqlite', emulator);
    const logs = new LogCapture();
    const broken: HttpCore = { ...server.core, registerUser: { execute: async () => { throw new Error('connection string postgres://u:hunter2@db'); } } as never };
    const misconfigured: HttpCore = { ...server.core, registerUser: { execute: async () => { throw new ChatServiceMisconfiguredError('App Key rejected'); } } as never };
    const serve = async (core: HttpCore) => {
      const http = createServer(createApp(core, { logger: logs.logger }).callback());
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      return http;
    };
    // A port's own code is a bug if it gets this far: it must not become a client-facing answer.
    const leaky: HttpCore = { ...server.core, registerUser: { execute: async () => { throw new ChatUserExistsError('x'); } } as never };
    const a = await serve(broken);
    const b = await serve(misconfigured);
    const c = await serve(leaky);
    try {
      const res = await request(`http://127.0.0.1:${(a.address() as AddressInfo).port}`, 'POST', '/app/user/register', {
        body: { userAccount: 'x', userPassword: PASSWORD }, headers: { 'X-Request-Id': 'req-500' },
      });
      expect(res.status).to.equal(500);
      expect(res.body).to.deep.equal({ code: 500, error: 'internal_error', message: 'Internal server error.' });
      expect(res.text).to.not.include('hunter2');
      const errors = logs.lines.filter((l) => l.includes('unexpected error'));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include('"requestId":"req-500"');

      const mis = await request(`http://127.0.0.1:${(b.address() as AddressInfo).port}`, 'POST', '/app/user/register', {
        body: { userAccount: 'x', userPassword: PASSWORD },
      });
      expect(mis.status).to.equal(500);
      expect(mis.body.error).to.equal('chat_service_misconfigured');
      expect(mis.text).to.not.include('App Key rejected');
      expect(logs.text).to.include('CHAT SERVICE MISCONFIGURED');

      const leaked = await request(`http://127.0.0.1:${(c.address() as AddressInfo).port}`, 'POST', '/app/user/register', {
        body: { userAccount: 'x', userPassword: PASSWORD },
      });
      expect(leaked.body).to.deep.equal({ code: 500, error: 'internal_error', message: 'Internal server error.' });
    } finally {
      await new Promise((resolve) => a.close(resolve));
      await new Promise((resolve) => b.close(resolve));
      await new Promise((resolve) => c.close(resolve));
      await server.stop();
    }
  });
});

describe('the CLI', function () {
  // Each case spawns node with tsx (several, some of them): seconds each on a busy machine.
  this.timeout(120_000);
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chat-app-server-cli-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  type OnStdout = (line: string, kill: (signal: NodeJS.Signals) => void, pid: number) => void;
  const fromSource = ['--import', TSX_LOADER, join(PACKAGE_ROOT, 'src/standalone/cli.ts')];

  function run(args: string[], env: Env, onStdout?: OnStdout, entry: string[] = fromSource) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [...entry, ...args], {
        cwd, env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        for (const line of chunk.toString().split('\n')) if (line) onStdout?.(line, (signal) => child.kill(signal), child.pid ?? 0);
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('refuses to start with a bad setting, naming the variable', async () => {
    const { code, stderr } = await run(['serve'], { PORT: 'eighty', AGORA_TOKEN_EXPIRE_SECONDS: '999999' });
    expect(code).to.equal(1);
    expect(stderr).to.include('PORT').and.include('AGORA_TOKEN_EXPIRE_SECONDS');
  });

  it('refuses to start with a REGISTRATION_LEASE_SECONDS not longer than the Agora deadline, naming it', async () => {
    const { code, stderr } = await run(['serve'], { PORT: '0', DATABASE_URL: 'sqlite:./lease.sqlite', NODE_ENV: 'development', REGISTRATION_LEASE_SECONDS: '10' });
    expect(code).to.equal(1);
    expect(stderr).to.include('REGISTRATION_LEASE_SECONDS (10 s) must be longer than the chat service deadline (10000 ms');
  });

  it('refuses to start in production without AGORA_* settings', async () => {
    const { code, stderr } = await run([], { NODE_ENV: 'production' });
    expect(code).to.equal(1);
    expect(stderr).to.include('AGORA_APP_ID').and.include('production');
  });

  it('lists its commands with `help`, and answers an unknown command with usage and status 2', async () => {
    const help = await run(['help'], {});
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('serve').and.include('migrate');
    const one = await run(['help', 'migrate'], {});
    expect(one.stdout).to.include('Usage: chat-app-server migrate');
    const unknown = await run(['frobnicate'], {});
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('Unknown command "frobnicate"').and.include('Usage:');
  }).timeout(60_000);

  it('migrates the database with `migrate`', async () => {
    const env = { DATABASE_URL: 'sqlite:./cli.sqlite' };
    const first = await run(['migrate'], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.include('Applied');
    const second = await run(['migrate'], env);
    expect(second.stdout).to.include('up to date');
    const back = await run(['migrate', '--rollback'], env);
    expect(back.code, back.stderr).to.equal(0);
    expect(back.stdout).to.match(/^Rolled back: /);
    const bad = await run(['migrate', '--all'], env);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('--all');
  });

  it('serves until SIGTERM, then shuts down cleanly', async () => {
    let healthz: Promise<number> | undefined;
    const { code, stdout } = await run(['serve'], { PORT: '0', DATABASE_URL: 'sqlite:./serve.sqlite', NODE_ENV: 'development' }, (line, kill) => {
      const url = /"url":"(http:[^"]+)"/.exec(line)?.[1];
      if (url && line.includes('listening')) {
        healthz = request(url, 'GET', '/healthz').then((r) => r.status).finally(() => kill('SIGTERM'));
      }
    });
    expect(await healthz).to.equal(200);
    expect(code).to.equal(0);
    expect(stdout).to.include('DEVELOPMENT MODE').and.include('chat-app-server stopped');
  });

  describe('the package bin (bin/chat-app-server.cjs)', () => {
    // The launcher runs dist/, not the sources: build this package so it runs the code under test.
    before(function () {
      this.timeout(180_000);
      execFileSync(process.execPath, [TSC, '-p', join(PACKAGE_ROOT, 'tsconfig.json')], { stdio: 'inherit' });
    });

    const launcher = [join(PACKAGE_ROOT, 'bin/chat-app-server.cjs')];
    /** Starts the server from the bin, reads what `inspect` sees once it listens, and stops it. */
    async function launch<T>(inspect: (pid: number) => T, env: Env = {}, ready = 'listening'): Promise<{ code: number | null; status: number; seen: T }> {
      let observed: Promise<{ status: number; seen: T }> | undefined;
      const { code } = await run(['serve'], { PORT: '0', DATABASE_URL: 'sqlite:./bin.sqlite', NODE_ENV: 'development', ...env }, (line, kill, pid) => {
        const url = /"url":"(http:[^"]+)"/.exec(line)?.[1];
        if (url && line.includes(ready) && !observed) {
          observed = request(url, 'GET', '/healthz')
            .then((r) => ({ status: r.status, seen: inspect(pid) }))
            .finally(() => kill('SIGTERM'));
        }
      }, launcher);
      if (!observed) throw new Error('the server launched from the bin never said it was listening');
      return { code, ...(await observed) };
    }

    it('serves and shuts down cleanly', async () => {
      const { code, status } = await launch(() => undefined);
      expect(status).to.equal(200);
      expect(code).to.equal(0);
    });

    const skipWithoutProc = (test: Mocha.Context) => {
      if (existsSync('/proc/self/task')) return;
      console.warn('    (skipped: thread priorities are read from /proc, which this system does not have)');
      test.skip();
    };
    // Relative to the event loop: the test may itself run at some nice value.
    const ownNice = getPriority();
    const defaultPoolNice = SETTINGS.properties.THREAD_POOL_NICE.default;

    it(`creates an 8-thread pool ${defaultPoolNice} nice level(s) below the event loop by default (Linux)`, async function () {
      skipWithoutProc(this);
      const { seen: nice } = await launch(threadNiceValues);
      expect(nice.filter((n) => n === ownNice + defaultPoolNice)).to.have.length(8);
      expect(nice[0], 'the main thread keeps its priority').to.equal(ownNice);
    });

    it('creates the pool THREAD_POOL_NICE levels below the event loop (Linux)', async function () {
      skipWithoutProc(this);
      const { seen: nice } = await launch(threadNiceValues, { THREAD_POOL_NICE: '7' });
      expect(nice.filter((n) => n === Math.min(19, ownNice + 7))).to.have.length(8);
      expect(nice[0], 'the main thread keeps its priority').to.equal(ownNice);
    });

    it('gives every worker of WORKERS=2 the same pool at lower priority, and stops them all (Linux)', async function () {
      skipWithoutProc(this);
      // The workers run the launcher again (node:cluster starts them with the primary's command line).
      const { code, status, seen: workers } = await launch(
        (pid) => childrenOf(pid).map(threadNiceValues), { WORKERS: '2' }, '"msg":"all workers listening"',
      );
      expect(status).to.equal(200);
      expect(workers).to.have.length(2);
      for (const nice of workers) {
        expect(nice.filter((n) => n === ownNice + defaultPoolNice)).to.have.length(8);
        expect(nice[0], 'the main thread keeps its priority').to.equal(ownNice);
      }
      expect(code).to.equal(0);
    });

    it('refuses to start on a THREAD_POOL_NICE out of bounds, naming it', async () => {
      const { code, stderr } = await run(['serve'], { PORT: '0', DATABASE_URL: 'sqlite:./bin.sqlite', NODE_ENV: 'development', THREAD_POOL_NICE: '20' }, undefined, launcher);
      expect(code).to.equal(1);
      expect(stderr).to.include('THREAD_POOL_NICE must be a whole number from 0 to 19, got "20"');
    });

    it('turns V8\'s allocation-site pretenuring off before loading the server, unless node was given a pretenuring flag', async () => {
      // The launcher sets the flag at run time; a preload records what it asks V8 for.
      const recorder = join(cwd, 'record-v8-flags.cjs');
      writeFileSync(recorder, `const v8 = require('node:v8'); const set = v8.setFlagsFromString.bind(v8); const asked = [];
        v8.setFlagsFromString = (flags) => { asked.push(flags); set(flags); };
        process.on('exit', () => process.stderr.write('V8 FLAGS ' + JSON.stringify(asked) + '\\n'));`);
      const flagsAsked = (stderr: string) => JSON.parse(/V8 FLAGS (.*)/.exec(stderr)?.[1] ?? 'null') as string[] | null;
      const byDefault = await run(['help'], { NODE_OPTIONS: `--require ${recorder}` }, undefined, launcher);
      expect(byDefault.code, byDefault.stderr).to.equal(0);
      expect(flagsAsked(byDefault.stderr)).to.deep.equal(['--no-allocation-site-pretenuring']);
      const chosen = await run(['help'], { NODE_OPTIONS: `--require ${recorder}` }, undefined, ['--allocation-site-pretenuring', ...launcher]);
      expect(chosen.code, chosen.stderr).to.equal(0);
      expect(flagsAsked(chosen.stderr)).to.deep.equal([]);
    });

    it('says how to build when dist/ is missing, instead of failing with a stack trace', async () => {
      const copy = mkdtempSync(join(tmpdir(), 'chat-app-server-bin-'));
      try {
        mkdirSync(join(copy, 'bin'));
        copyFileSync(join(PACKAGE_ROOT, 'bin/chat-app-server.cjs'), join(copy, 'bin/chat-app-server.cjs'));
        const { code, stderr } = await run(['help'], {}, undefined, [join(copy, 'bin/chat-app-server.cjs')]);
        expect(code).to.equal(1);
        expect(stderr).to.match(/pnpm(@[\d.]+)? build/).and.not.include('    at ');
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });
});

/** The child processes of a process (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** The nice value of each thread of a process (Linux /proc; empty elsewhere), main thread first. */
function threadNiceValues(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  return readdirSync(tasks)
    .sort((a, b) => Number(a) - Number(b))
    .map((tid) => Number(readFileSync(join(tasks, tid, 'stat'), 'utf8').split(') ')[1]?.split(' ')[16]));
}
