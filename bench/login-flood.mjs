// `node bench/login-flood.mjs [repository root]`: goodput under overload (issue 16 item 3, issue 9 item 2),
// over real HTTP on loopback against the standalone server of the given checkout (default: this one,
// built), SQLite and the built-in emulator. Prints numbers; not a test.
//
// - raw scrypt: the hashing ceiling (bench/scrypt-throughput.mjs, the server's parameters, 2 at once);
// - login flood: 64 connections from 127.0.0.2 log in with correct passwords and resend at once; the
//   figure is successful logins per second, next to raw scrypt. Meanwhile GET /token from 127.0.0.4
//   (vs. its unloaded rate) and one user at 127.0.0.3 logging in one attempt after the other;
// - registration flood: 30 connections from 127.0.0.2 post /register for FLOOD_SECONDS; a correct
//   login from 127.0.0.3, 10 tries: how many succeed within 2 s.
// Settings: FLOOD_SECONDS (default 10), FLOOD_ROUNDS (default 1), FLOOD_ONLY=login|register,
// FLOOD_DIRECT=1 starts the server without the launcher (the hashing threads then keep the normal CPU
// priority), FLOOD_ENV='{"NAME":"value"}' adds server settings.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const PASSWORD = 'benchmark-password';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === '--load') {
  await runLoad();
} else {
  await main();
  process.exit(0);
}

async function main() {
  const root = resolve(process.argv[2] ?? join(here, '..'));
  const seconds = Number(process.env.FLOOD_SECONDS ?? 10);
  const rounds = Number(process.env.FLOOD_ROUNDS ?? 1);
  const only = process.env.FLOOD_ONLY;
  const direct = process.env.FLOOD_DIRECT === '1';
  const extraEnv = JSON.parse(process.env.FLOOD_ENV ?? '{}');
  const work = mkdtempSync(join(tmpdir(), 'chat-app-server-flood-'));
  const children = new Set();
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });
  console.log(`login flood: ${root}, ${cpus().length} cores, ${seconds}s per run, ${direct ? 'no launcher (normal priority)' : 'launcher'}, env ${JSON.stringify(extraEnv)}`);

  const scrypt = await childResult(join(here, 'scrypt-throughput.mjs'), [String(Math.min(seconds, 8)), '2']);
  console.log(`raw scrypt (2 at once): ${scrypt.perSecond.toFixed(2)} hashes/s`);

  for (let round = 1; round <= rounds; round++) {
    if (only !== 'register') {
      const server = await startServer(root, join(work, `login-${round}`), direct, extraEnv, children, {});
      const bearers = await seed(server.url, 32);
      await register(server.url, 'measured', '127.0.0.3');
      const unloaded = await load({ url: `${server.url}/token?channelName=room`, connections: 16, bearers, localAddress: '127.0.0.4', duration: seconds });
      const cpuBefore = server.cpuMs();
      const [flood, token, user] = await Promise.all([
        load({ url: `${server.url}/app/user/login`, connections: 64, accounts: { prefix: 'flood', count: 32 }, localAddress: '127.0.0.2', duration: seconds }),
        load({ url: `${server.url}/token?channelName=room`, connections: 16, bearers, localAddress: '127.0.0.4', duration: seconds }),
        loginsMeanwhile(server.url, seconds * 1000),
      ]);
      const cpu = (server.cpuMs() - cpuBefore) / seconds / 10;
      server.stop();
      console.log(`round ${round} login flood (64 conn. from 127.0.0.2): ${flood.ok2xx.toFixed(2)} ok/s = ${(flood.ok2xx / scrypt.perSecond).toFixed(2)} of raw scrypt (>= 0.60), ` +
        `${flood.count5xx} 503s (${(flood.count5xx / seconds).toFixed(0)}/s), other non-2xx ${flood.non2xx - flood.count5xx}, errors ${flood.errors + flood.timeouts}, server CPU ${cpu.toFixed(0)}%`);
      console.log(`round ${round}   GET /token from 127.0.0.4: ${token.rps.toFixed(0)} req/s vs ${unloaded.rps.toFixed(0)} unloaded = ${(token.rps / unloaded.rps).toFixed(2)} (>= 0.50), p99 ${token.p99} ms`);
      console.log(`round ${round}   one user logging in from 127.0.0.3: ${user.ok}/${user.tries} succeeded, ${user.within2s} within 2 s, latency ${user.latency}`);
    }
    if (only !== 'login') {
      const server = await startServer(root, join(work, `register-${round}`), direct, extraEnv, children, {});
      await register(server.url, 'measured', '127.0.0.3');
      const [flood, tries] = await Promise.all([
        load({ url: `${server.url}/app/user/register`, connections: 30, accounts: { prefix: `r${round}-` }, localAddress: '127.0.0.2', duration: seconds }),
        (async () => {
          await sleep(1000); // the flood is running
          const answers = [];
          for (let i = 0; i < 10; i++) {
            answers.push(await login(server.url, 'measured', '127.0.0.3', 10_000));
            await sleep(Math.max(0, (seconds - 2) * 100 - answers.at(-1).ms));
          }
          return answers;
        })(),
      ]);
      server.stop();
      const within = tries.filter((t) => t.status === 200 && t.ms <= 2000).length;
      const statuses = tries.map((t) => `${t.status}:${Math.round(t.ms)}ms`).join(' ');
      console.log(`round ${round} register flood (30 conn. from 127.0.0.2): ${flood.ok2xx.toFixed(1)} created/s, ${flood.count5xx} 503s, ${flood.non2xx - flood.count5xx} other non-2xx (${(flood.rps).toFixed(0)} req/s)`);
      console.log(`round ${round}   correct login from 127.0.0.3: ${within}/10 within 2 s (>= 9): ${statuses}`);
    }
  }
}

async function loginsMeanwhile(url, durationMs) {
  const end = performance.now() + durationMs;
  const answers = [];
  await sleep(500);
  while (performance.now() < end) {
    answers.push(await login(url, 'measured', '127.0.0.3', 10_000));
    await sleep(200);
  }
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const ok = answers.filter((a) => a.status === 200);
  return {
    tries: answers.length,
    ok: ok.length,
    within2s: ok.filter((a) => a.ms <= 2000).length,
    latency: ms.length ? `p50 ${ms[Math.floor(ms.length / 2)].toFixed(0)} ms, max ${ms.at(-1).toFixed(0)} ms` : 'none',
  };
}


async function post(url, path, body, localAddress, timeoutMs) {
  const { request } = await import('node:http');
  const started = performance.now();
  return new Promise((done) => {
    const req = request(`${url}${path}`, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => done({ status: res.statusCode, text, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => done({ status: 0, text: String(err), ms: performance.now() - started }));
    req.end(JSON.stringify(body));
  });
}

function login(url, account, localAddress, timeoutMs) {
  return post(url, '/app/user/login', { userAccount: account, userPassword: PASSWORD }, localAddress, timeoutMs);
}

async function register(url, account, localAddress) {
  const r = await post(url, '/app/user/register', { userAccount: account, userPassword: PASSWORD }, localAddress, 60_000);
  if (r.status !== 200) throw new Error(`register ${account}: ${r.status} ${r.text}`);
}

async function seed(url, count) {
  const bearers = [];
  for (let i = 0; i < count; i++) {
    await register(url, `flood${i}`, `127.0.1.${i + 1}`);
    const r = await login(url, `flood${i}`, '127.0.0.5', 60_000);
    if (r.status !== 200) throw new Error(`login flood${i}: ${r.status} ${r.text}`);
    bearers.push(JSON.parse(r.text).accessToken);
  }
  return bearers;
}

async function startServer(root, dir, direct, extraEnv, children) {
  const port = await new Promise((done) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => done(port)); });
  });
  const entry = direct ? join(root, 'packages', 'adapter-koa', 'dist', 'standalone', 'cli.js') : join(root, 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs');
  const env = {
    PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
    LOG_LEVEL: 'warn', NODE_ENV: 'development', ...(direct ? { UV_THREADPOOL_SIZE: '8' } : {}), ...extraEnv,
  };
  const child = fork(entry, ["serve"], { env, stdio: ["ignore", "ignore", "inherit", "ipc"] });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) {
      const { readFileSync } = await import('node:fs');
      const cpuMs = () => {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) * 10;
      };
      return { url, cpuMs, stop: () => { child.kill('SIGKILL'); children.delete(child); } };
    }
    await sleep(100);
  }
  throw new Error('the server did not become ready');
}

function childResult(file, args, message) {
  return new Promise((done, fail) => {
    const child = fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (message) child.send(message);
    child.once('message', (result) => { child.disconnect(); done(result); });
    child.once('exit', (code) => (code ? fail(new Error(`${file} exited with ${code}`)) : undefined));
  });
}

function load(spec) {
  return childResult(fileURLToPath(import.meta.url), ['--load'], spec);
}

// One autocannon run in its own process, its sockets bound to `localAddress` (autocannon has no such
// option: net.connect is wrapped before autocannon loads).
async function runLoad() {
  const spec = await new Promise((done) => process.once('message', done));
  const original = net.connect;
  net.connect = (...args) => (typeof args[0] !== 'object' ? original({ port: Number(args[0]), host: args[1], localAddress: spec.localAddress }) : original(...args));
  const autocannon = createRequire(import.meta.url)('autocannon');
  const options = { url: spec.url, connections: spec.connections, duration: spec.duration, timeout: 10 };
  if (spec.bearers) {
    let next = 0;
    options.setupClient = (client) => client.setHeaders({ authorization: `Bearer ${spec.bearers[next++ % spec.bearers.length]}` });
  }
  if (spec.accounts) {
    let n = 0;
    const { prefix, count } = spec.accounts;
    options.method = 'POST';
    options.headers = { 'content-type': 'application/json' };
    options.requests = [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ userAccount: `${prefix}${count ? n++ % count : n++}`, userPassword: PASSWORD }) }) }];
  }
  const r = await autocannon(options);
  process.send({ rps: r.requests.average, ok2xx: r['2xx'] / r.duration, count5xx: r['5xx'], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, p99: r.latency.p99 });
}
