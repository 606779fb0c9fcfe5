// `node bench/hardening.mjs [repository root]`: the hardening figures of issue 9 (token bombs, slow
// clients, connection cap, proxies, media types, development credentials, database file modes, upstream
// details, bearer lifetimes), measured over real HTTP on loopback against the standalone server of the
// given checkout (default: this one; it must be built). Run it on an older checkout for "before".
// Prints numbers; not a test. Takes one to two minutes (longer "before": a token bomb costs seconds).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = resolve(process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), '..'));
const serverCli = join(root, 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs');
const requireFromAgora = createRequire(join(root, 'packages', 'adapter-agora', 'package.json'));
const { AccessToken2, ServiceChat } = requireFromAgora('agora-token/src/AccessToken2.js');
const { startAgoraEmulator } = await import(pathToFileURL(join(root, 'packages', 'adapter-agora', 'dist', 'emulator', 'index.js')).href);

const APP_ID = '0123456789abcdef0123456789abcdef';
const APP_CERT = 'fedcba9876543210fedcba9876543210';
const PASSWORD = 'hardening-password';
const TICK_MS = 10; // /proc/<pid>/stat counts CPU in 1/100 s
const work = mkdtempSync(join(tmpdir(), 'chat-app-server-hardening-'));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
};
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return sorted.length === 0 ? 'none' : `p50 ${at(0.5).toFixed(1)} ms, max ${sorted.at(-1).toFixed(1)} ms (n=${sorted.length})`;
};

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Starts `serve`; resolves with its URL, or with its exit and output when it refuses to start. */
async function startServer(name, env) {
  const port = await freePort();
  const dir = join(work, name);
  const child = fork(serverCli, ['serve'], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'data', 'db.sqlite')}`, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) return { exited: child.exitCode, output };
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) {
      return { url, dir, pid: child.pid, output: () => output, stop: () => { child.kill('SIGKILL'); children.delete(child); } };
    }
    await sleep(100);
  }
  throw new Error(`${name} did not start:\n${output}`);
}

async function call(url, path, { method = 'GET', headers = {}, body, timeoutMs = 180_000 } = {}) {
  const started = performance.now();
  try {
    const res = await fetch(`${url}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { status: res.status, text, ms: performance.now() - started };
  } catch (err) {
    return { status: 0, text: String(err), ms: performance.now() - started };
  }
}
const json = (value) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });

function tokenBomb(targetLength = 2039) {
  const u16 = (v) => Buffer.from([v & 0xff, v >> 8]);
  const string = (s) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
  const head = Buffer.concat([string(Buffer.alloc(32)), string(APP_ID), Buffer.alloc(12, 1), u16(65_535)]);
  const services = Buffer.alloc(4 * 65_535).fill(Buffer.from([4, 0, 0, 0]));
  let token = '';
  for (let padding = 1_100_000; token.length < targetLength; padding += 1000) {
    token = `007${deflateSync(Buffer.concat([head, services, Buffer.alloc(padding)]), { level: 9 }).toString('base64')}`;
  }
  return token;
}

function userToken(user, { issueTs = Math.floor(Date.now() / 1000), expire = 3600 } = {}) {
  const token = new AccessToken2(APP_ID, APP_CERT, issueTs, expire);
  token.issueTs = issueTs;
  const chat = new ServiceChat(user);
  chat.add_privilege(ServiceChat.kPrivilegeUser, expire);
  token.add_service(chat);
  return token.build();
}

function slowSocket(url, localAddress, trickleText) {
  const { hostname, port } = new URL(url);
  return new Promise((resolveOpen) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      const openedAt = performance.now();
      let at = 0;
      const timer = trickleText && setInterval(() => (at < trickleText.length ? socket.write(trickleText[at++]) : undefined), 500);
      const closed = new Promise((done) => socket.once('close', () => { clearInterval(timer); done(performance.now() - openedAt); }));
      resolveOpen({ socket, closed });
    });
  });
}

async function healthzWhile(url, during) {
  const latencies = [];
  let running = true;
  const probe = (async () => {
    while (running) {
      const r = await call(url, '/healthz', { timeoutMs: 60_000 });
      latencies.push(r.status === 200 ? r.ms : Infinity);
      await sleep(100);
    }
  })();
  const result = await during();
  running = false;
  await probe;
  return { result, latencies };
}

const emulator = await startAgoraEmulator({ appId: APP_ID, appCertificate: APP_CERT, orgName: 'bench', appName: 'hardening', port: 0 });
const agoraEnv = { NODE_ENV: 'test', AGORA_APP_ID: APP_ID, AGORA_APP_CERT: APP_CERT, AGORA_APP_KEY: emulator.appKey, AGORA_REST_API_URL: emulator.restApiUrl };
console.log(`chat-app-server hardening figures: ${root}\n`);

// 1. Token bombs.
{
  const server = await startServer('bombs', agoraEnv);
  const bomb = tokenBomb();
  const bombs = Number(process.env.BOMBS ?? 200);
  const { result, latencies } = await healthzWhile(server.url, async () => {
    const before = cpuMs(server.pid);
    const answers = [];
    for (let i = 0; i < bombs; i++) {
      answers.push(await call(server.url, '/token?channelName=room', { headers: { authorization: `Bearer ${bomb}` } }));
      if (answers.at(-1).ms > 10_000) break; // one is enough to see the cost
    }
    return { answers, cpu: (cpuMs(server.pid) - before) / answers.length };
  });
  const statuses = [...new Set(result.answers.map((a) => a.status))].join(',');
  console.log(`1. token bomb (${bomb.length} characters): ${result.answers.length} sent, status ${statuses}, server CPU ${result.cpu.toFixed(1)} ms per bomb, answer ${stats(result.answers.map((a) => a.ms))}`);
  console.log(`   /healthz meanwhile: ${stats(latencies.filter(Number.isFinite))}, ${latencies.filter((l) => !Number.isFinite(l)).length} failed`);

  // 13. Bearers that this server never issues, signed with its certificate.
  await call(server.url, '/app/user/register', json({ userAccount: 'lifetimes', userPassword: PASSWORD }));
  const login = JSON.parse((await call(server.url, '/app/user/login', json({ userAccount: 'lifetimes', userPassword: PASSWORD }))).text);
  const bearerStatus = async (token) => (await call(server.url, '/token?channelName=room', { headers: { authorization: `Bearer ${token}` } })).status;
  const now = Math.floor(Date.now() / 1000);
  console.log(`13. bearer issued 10 years ahead: ${await bearerStatus(userToken(login.chatUserName, { issueTs: now + 10 * 365 * 86_400 }))}; ` +
    `lifetime 2^32-1 s: ${await bearerStatus(userToken(login.chatUserName, { expire: 2 ** 32 - 1 }))}; ` +
    `a normal one: ${await bearerStatus(login.accessToken)}`);

  // 9. Media types.
  const spellings = ['application/json; charset=UTF-8', 'Application/JSON', 'application/json ; charset=utf-8', undefined, 'text/plain'];
  const answers = [];
  for (const [i, type] of spellings.entries()) {
    // A Buffer, because fetch labels a string body text/plain.
    const body = Buffer.from(JSON.stringify({ userAccount: `media${i}`, userPassword: PASSWORD }));
    answers.push(`${type ?? '(none)'} -> ${(await call(server.url, '/app/user/register', { method: 'POST', headers: type ? { 'content-type': type } : {}, body })).status}`);
  }
  console.log(`9. register with Content-Type: ${answers.join('; ')}`);

  // 10. Slow clients and the connection cap (defaults: headers 10 s, request 30 s, 1000 connections).
  const slowCount = 150;
  const { result: closes, latencies: slowHealth } = await healthzWhile(server.url, async () => {
    const sockets = await Promise.all(Array.from({ length: slowCount }, (_, i) =>
      slowSocket(server.url, '127.0.0.31', i % 2 ? `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}` : undefined)));
    const times = await Promise.race([Promise.all(sockets.map((s) => s.closed)), sleep(45_000).then(() => undefined)]);
    const open = sockets.filter((s) => !s.socket.destroyed).length;
    for (const s of sockets) s.socket.destroy();
    return { times, open };
  });
  console.log(`10. ${slowCount} slow-header sockets: ${closes.times ? `closed after ${stats(closes.times)}` : `${closes.open} still open after 45 s`}`);
  console.log(`    /healthz meanwhile: ${stats(slowHealth.filter(Number.isFinite))}, ${slowHealth.filter((l) => !Number.isFinite(l)).length} failed`);
  const held = await Promise.all(Array.from({ length: 1100 }, () => slowSocket(server.url, '127.0.0.32')));
  await sleep(1000);
  console.log(`    1100 idle connections opened: ${held.filter((s) => !s.socket.destroyed).length} held open after 1 s`);
  for (const s of held) s.socket.destroy();
  server.stop();
}

// 6. A client rotating the leftmost X-Forwarded-For entry behind one appending proxy.
{
  // Guesses at many accounts from one address: the per-address limit (LOGIN_MAX_FAILURES before the
  // per-account split, LOGIN_MAX_FAILURES_PER_ACCOUNT after it) is 5 either way.
  const server = await startServer('proxy', { ...agoraEnv, TRUST_PROXY: 'true', LOGIN_MAX_FAILURES: '5', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5' });
  const statuses = [];
  for (let i = 0; i < 20; i++) {
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}, 203.0.113.7` };
    statuses.push((await call(server.url, '/app/user/login', { method: 'POST', headers, body: JSON.stringify({ userAccount: `guess${i}`, userPassword: 'wrong password' }) })).status);
  }
  console.log(`6. 20 wrong logins at 20 accounts, rotating the leftmost X-Forwarded-For entry (per-address limit 5): ${statuses.filter((s) => s === 429).length} x 429, ${statuses.filter((s) => s === 401).length} x 401`);
  server.stop();
}

// 7. NODE_ENV spellings, development credentials.
{
  const refused = [];
  for (const NODE_ENV of ['Production', 'PRODUCTION', 'staging']) {
    const started = await startServer(`env-${NODE_ENV}`, { NODE_ENV });
    refused.push(`${NODE_ENV}: ${started.exited === undefined ? 'started (development mode)' : `refused (exit ${started.exited})`}`);
    started.stop?.();
  }
  console.log(`7. without AGORA_*: ${refused.join('; ')}`);
  const dev = await startServer('development', { NODE_ENV: 'development' });
  await call(dev.url, '/app/user/register', json({ userAccount: 'devuser', userPassword: PASSWORD }));
  const forged = new AccessToken2('de7e1000de7e1000de7e1000de7e1000', 'c0ffee00c0ffee00c0ffee00c0ffee00', Math.floor(Date.now() / 1000), 3600);
  const chat = new ServiceChat('devuser');
  chat.add_privilege(ServiceChat.kPrivilegeUser, 3600);
  forged.add_service(chat);
  const status = (await call(dev.url, '/token?channelName=room', { headers: { authorization: `Bearer ${forged.build()}` } })).status;
  console.log(`   development mode, bearer forged with the formerly published certificate: ${status}`);

  // 8. Database file modes of a fresh data directory.
  const mode = (path) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
  console.log(`8. fresh SQLite database: folder ${mode(join(dev.dir, 'data'))}, file ${mode(join(dev.dir, 'data', 'db.sqlite'))}`);
  dev.stop();
}

// 12. What a client learns when Agora is unreachable.
{
  const server = await startServer('unreachable', { ...agoraEnv, AGORA_REST_API_URL: 'http://127.0.0.1:1' });
  const answer = await call(server.url, '/app/user/register', json({ userAccount: 'unreachable', userPassword: PASSWORD }));
  console.log(`12. register with Agora unreachable: ${answer.status} ${answer.text}`);
  server.stop();
}

await emulator.close();
process.exit(0);
