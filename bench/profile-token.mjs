// Per-request cost of GET /token, robust to a shared, noisy machine: CPU time the server process
// spends per request (utime + stime from /proc, over a fixed number of requests), its RSS at start and
// after the load, and the same for the bare-Koa token route. Alternates the two for ROUNDS rounds.
//   node bench/profile-token.mjs [requests=20000] [rounds=3] [target=both|server|reference|ab]
// `ab` alternates this checkout's server with the one built in the checkout named by PROFILE_BASE
// (e.g. a `git worktree` of main): the before/after of a change, measured in the same minutes.
// PROFILE_NODE_ARGS are node flags for the measured processes (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
// `variant` alternates the server with the same server under PROFILE_VARIANT: `metrics` (METRICS_PORT set,
// scraped every second) or `mapper` (every request a new channel among 1000: a new mapper entry each).
// PROFILE_ELD=1 preloads an event-loop delay / GC recorder into the server and prints its figures;
// PROFILE_PRELOAD=<module> preloads another one; PROFILE_STDOUT=1 shows the server's stdout (pino, --trace-gc).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const [requests = 20000, rounds = 3] = process.argv.slice(2, 4).map(Number);
const target = process.argv[4] ?? 'both';
const CONNECTIONS = 64;
const USERS = 32;
const PASSWORD = 'benchmark-password';
const here = fileURLToPath(new URL('.', import.meta.url));
const serverCli = join(here, '..', 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs');
const dataDir = mkdtempSync(join(tmpdir(), 'profile-token-'));
const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); rmSync(dataDir, { recursive: true, force: true }); });

const TICK_MS = 10; // USER_HZ is 100 on Linux
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}
function rssMb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}
const execArgv = [...(process.env.PROFILE_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(process.env.PROFILE_ELD ? [`--import=${join(here, 'profile-token-eld.mjs')}`] : []), ...(process.env.PROFILE_PRELOAD ? [`--import=${process.env.PROFILE_PRELOAD}`] : [])];
const nodeOptions = () => ({ ...process.env });
const launcher = { execArgv };

async function startServer(cli = serverCli, extraEnv = {}) {
  const port = await freePort();
  const env = {
    ...nodeOptions(), ...extraEnv, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dataDir, 'p.sqlite')}`, LOG_LEVEL: 'warn',
    NODE_ENV: 'development', REGISTER_MAX_PER_ADDRESS: '1000000',
  };
  const child = fork(cli, ['serve'], { env, ...launcher, stdio: ['ignore', process.env.PROFILE_STDOUT ? 'inherit' : 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const bearers = [];
  for (let i = 0; i < USERS; i++) {
    const body = JSON.stringify({ userAccount: `p${i}`, userPassword: PASSWORD });
    const headers = { 'content-type': 'application/json' };
    await fetch(`${url}/app/user/register`, { method: 'POST', headers, body });
    const login = await fetch(`${url}/app/user/login`, { method: 'POST', headers, body });
    bearers.push((await login.json()).accessToken);
  }
  return { child, url: `${url}/token?channelName=bench-room&publisherRole=true`, bearers };
}

async function startReference() {
  const port = await freePort();
  const child = fork(join(here, 'reference-server.mjs'), ['token', String(port)], { env: nodeOptions(), ...launcher, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  await new Promise((resolve) => child.once('message', resolve));
  return { child, url: `http://127.0.0.1:${port}/token?channelName=room`, bearers: undefined };
}

let channelRun = 0;
async function load(url, bearers, amount, channels = 0) {
  let next = 0;
  const options = { url, connections: CONNECTIONS, amount, timeout: 10 };
  if (bearers) options.setupClient = (c) => c.setHeaders({ authorization: `Bearer ${bearers[next++ % bearers.length]}` });
  if (channels) {
    let n = 0;
    const prefix = `c${channelRun++}-`;
    const path = new URL(url).pathname;
    options.requests = [{ setupRequest: (req) => ({ ...req, path: `${path}?channelName=${prefix}${n++ % channels}&publisherRole=true` }) }];
  }
  const r = await autocannon(options);
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`errors: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  return r;
}

async function measure(kind) {
  const variant = kind === 'variant' ? process.env.PROFILE_VARIANT : undefined;
  const metricsPort = variant === 'metrics' ? await freePort() : undefined;
  const proc = kind === 'reference' ? await startReference()
    : await startServer(kind === 'base' ? join(process.env.PROFILE_BASE, 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs') : serverCli,
      metricsPort ? { METRICS_PORT: String(metricsPort) } : {});
  const channels = variant === 'mapper' ? 1000 : 0;
  const scraper = metricsPort ? setInterval(() => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => undefined), 1000) : undefined;
  const pid = proc.child.pid;
  const rssStart = rssMb(pid);
  await load(proc.url, proc.bearers, Math.min(requests, 5000), channels); // warm up the JIT
  const eldReport = () => new Promise((resolve) => { proc.child.once('message', resolve); proc.child.send('eld'); });
  if (process.env.PROFILE_ELD) await eldReport(); // forget start-up and warm-up
  const before = cpuMs(pid);
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 50);
  const r = await load(proc.url, proc.bearers, requests, channels);
  clearInterval(sampler);
  clearInterval(scraper);
  const cpu = cpuMs(pid) - before;
  peak = Math.max(peak, rssMb(pid));
  const eld = process.env.PROFILE_ELD ? await eldReport() : undefined;
  proc.child.kill('SIGTERM');
  await new Promise((resolve) => proc.child.once('exit', resolve));
  children.delete(proc.child);
  return { kind, usPerReq: (cpu * 1000) / requests, rps: r.requests.average, p99: r.latency.p99, rssStart, peak, eld };
}

const kinds = target === 'both' ? ['reference', 'server'] : target === 'ab' ? ['base', 'server'] : target === 'variant' ? ['server', 'variant'] : [target];
if (target === 'ab' && !process.env.PROFILE_BASE) throw new Error('ab needs PROFILE_BASE, the checkout to compare with');
if (target === 'variant' && !['metrics', 'mapper'].includes(process.env.PROFILE_VARIANT)) throw new Error('variant needs PROFILE_VARIANT=metrics or mapper');
const rows = [];
for (let i = 0; i < rounds; i++) {
  for (const kind of (i % 2 ? [...kinds].reverse() : kinds)) {
    const row = await measure(kind);
    rows.push(row);
    console.log(`${kind.padEnd(9)} ${row.usPerReq.toFixed(0).padStart(5)} µs CPU/req  ${Math.round(row.rps).toString().padStart(6)} req/s  p99 ${row.p99} ms  RSS start ${row.rssStart.toFixed(0)} MB peak ${row.peak.toFixed(0)} MB${row.eld ? `  ${JSON.stringify(row.eld)}` : ''}`);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cost = Object.fromEntries(kinds.map((k) => [k, median(rows.filter((r) => r.kind === k).map((r) => r.usPerReq))]));
if (cost.server && cost.variant) console.log(`median CPU/req: ${process.env.PROFILE_VARIANT} ${cost.variant.toFixed(0)} µs, server ${cost.server.toFixed(0)} µs: ${(100 * (cost.variant / cost.server - 1)).toFixed(1)}%`);
if (cost.server && cost.base) console.log(`median CPU/req: server ${cost.server.toFixed(0)} µs, base ${cost.base.toFixed(0)} µs: ${(100 * (cost.server / cost.base - 1)).toFixed(1)}%`);
if (cost.server && cost.reference) console.log(`median CPU/req: server ${cost.server.toFixed(0)} µs, reference ${cost.reference.toFixed(0)} µs: ratio (reference/server) ${(cost.reference / cost.server).toFixed(2)}`);
process.exit(0);
