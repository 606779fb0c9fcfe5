// `pnpm bench`: drives the standalone server (SQLite + built-in emulator, or DATABASE_URL) and two
// bare-Koa references with wrk or autocannon (see load.mjs) in one run, and prints every figure with its target and the
// machine it ran on.
// - BENCH_SECONDS (default 10): length of each measured run.
// - BENCH_ROUNDS (default 5): rounds of the /token comparisons. Each round runs the bare-Koa token
//   route, /token (metrics off), /token again (A/A: the machine's own noise), /token with metrics on,
//   /token over 1000 channels and /token with WORKERS=2 once each, every run in a fresh, warmed-up
//   process, in an order rotated from round to round (and reversed every other round), so that drift,
//   run order and one process's luck bias no figure; a figure is the median of its rounds, and the
//   variants are compared with the mean of the round's two plain runs.
// - BENCH_ONLY=token: only those rounds; BENCH_ONLY=login: only raw scrypt, login, register and the
//   login flood; BENCH_ONLY=import: only the import command's figures.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, freemem, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { loaderName } from './load.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'token', 'login', 'import'].includes(ONLY)) throw new Error(`BENCH_ONLY must be token, login or import, got "${ONLY}"`);
if (!(SECONDS >= 1) || !Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('BENCH_SECONDS must be at least 1 and BENCH_ROUNDS a whole number of at least 1');
const IMPORT_ACCOUNTS = 10_000;
const here = fileURLToPath(new URL('.', import.meta.url));
const serverCli = join(here, '..', 'packages', 'adapter-koa', 'bin', 'chat-app-server.cjs');
const eldProbe = join(here, 'eld-probe.cjs');
const TOKEN_CONNECTIONS = 64;
// Unmeasured load on each fresh process before its measured run.
const WARM_UP_SECONDS = Math.min(3, SECONDS);
const FLOOD_CONNECTIONS = 64;
const SEED_USERS = 32;
// Channels of the mapper run: every (channel, user) pair is a new mapper entry once.
const MAPPER_CHANNELS = 1000;
const PASSWORD = 'benchmark-password';
// Hashes at once in one server process (ScryptPasswordHasher's default) and clients per hash slot in
// the login and register runs: two per slot keep every slot fed while the other waits in the queue.
const HASH_SLOTS = 2;
const CLIENTS_PER_SLOT = 2;
const MULTI_WORKERS = 2;
// The flood starts this long before /token is measured next to it, and ends after it.
const FLOOD_LEAD_SECONDS = 2;
// A flood attempt not answered within this counts as hung (a timeout).
const FLOOD_ANSWER_SECONDS = 5;
// Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const CLOCK_TICKS_PER_SECOND = 100;
// The /token ratio before the revocation check (issue 13) and the channel recording (issue 10)
// landed: the README's run of 2026-11-26.
const RATIO_BEFORE_REVOCATION_AND_RECORDING = { ratio: 0.72, source: "the README's run of 2026-11-26, before issues 13 and 10" };

// A figure this bench does not measure: printed as a cited reference, never judged as a target.
const DJANGO_SAMPLE_TOKEN = {
  rps: 1400,
  source: "Agora's Django sample server (gunicorn, 2 workers) on a 2-core machine, measured outside this bench; see the README",
};

const results = [];
const targets = [];
const cited = [];
const dataDir = mkdtempSync(join(tmpdir(), 'chat-app-server-bench-'));
const eldDir = join(dataDir, 'eld');
mkdirSync(eldDir);
const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); rmSync(dataDir, { recursive: true, force: true }); });
const runId = Date.now().toString(36);
// One Agora Chat emulator and one set of credentials for every server the bench starts, so a bearer
// minted by one server process is accepted by the next. Test credentials, for this emulator only.
const AGORA = { appId: '0123456789abcdef0123456789abcdef', appCertificate: 'fedcba9876543210fedcba9876543210', orgName: 'bench', appName: 'chat-app-server' };
let emulator;
let bearers;

async function main() {
  printMachine();
  emulator = await startAgoraEmulator({ ...AGORA, host: '127.0.0.1', port: 0 });
  if (ONLY === 'import') {
    await measureImports();
    return report();
  }
  let tokenRounds;
  if (ONLY !== 'login') {
    const fixedRef = await startReference('fixed');
    const fixedLoad = { url: `${fixedRef.url}/fixed`, connections: TOKEN_CONNECTIONS };
    await warmUp(fixedLoad);
    const fixed = await measure('bare Koa: fixed JSON', fixedLoad, fixedRef);
    await fixedRef.stop();
    tokenRounds = await measureTokenRounds();
    judgeTokenRounds(tokenRounds, fixed);
  }
  if (ONLY !== 'token') await measureAccounts(tokenRounds);
  if (ONLY === '') await measureImports();
  report();
}

function printMachine() {
  const cpu = cpus();
  const [l1, l5, l15] = loadavg().map((l) => l.toFixed(2));
  console.log('chat-app-server bench');
  console.log(`machine: ${cpu.length} cores (${availableParallelism()} available to Node), ${cpu[0]?.model?.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(freemem() / 2 ** 30).toFixed(1)} GiB free), ${osType()} ${release()}, Node ${process.version}`);
  console.log(`load average before the run: ${l1} / ${l5} / ${l15} (1 / 5 / 15 min; the load generators run on the same machine)`);
  console.log(`THREAD_POOL_NICE: ${process.env.THREAD_POOL_NICE?.trim() || 'unset (the server\'s default)'}`);
  console.log(`load generator: ${loaderName()} for the GET runs and the warm-ups (autocannon for the flood; BENCH_LOADER chooses)`);
  console.log(`${SECONDS} s per run${ONLY === '' || ONLY === 'token' ? `, ${ROUNDS} rounds of the /token comparisons` : ''}\n`);
}

// ---------------------------------------------------------------------------------------------------
// /token: rounds against the bare-Koa token route

async function measureTokenRounds() {
  // Every run is a fresh process, warmed up first: a process's JIT and memory layout make it a few
  // percent faster or slower for its whole life, so a figure from one process per kind would carry
  // that luck through every round. Bearers stay valid from process to process (one emulator, one App
  // Certificate, one database), so the users are seeded once.
  await seedOnce();
  const metricsPort = await freePort();
  const server = (label, env = {}) => () => startServer(label, env);
  const kinds = {
    ref: { name: 'bare Koa: build a token', start: () => startReference('token'), load: (s) => ({ url: `${s.url}/token?channelName=room`, connections: TOKEN_CONNECTIONS }) },
    token: { name: 'GET /token (bearer)', start: server('plain'), load: (s) => tokenLoad(s.url) },
    // The same as `token`, another process: how far two identical runs of a round differ on this machine.
    twin: { name: 'GET /token (bearer), again (A/A)', start: server('plain'), load: (s) => tokenLoad(s.url) },
    metrics: { name: 'GET /token (bearer, metrics on)', start: server('metrics', { METRICS_PORT: String(metricsPort) }), load: (s) => tokenLoad(s.url), metricsPort },
    mapper: {
      name: `GET /token, ${MAPPER_CHANNELS} channels (mapper writes)`, start: server('mapper'),
      load: (s, r) => ({ ...tokenLoad(s.url), channels: MAPPER_CHANNELS, channelPrefix: `bench-${runId}-r${r}-`, path: '/token?channelName={channel}&publisherRole=true' }),
    },
    workers: { name: `GET /token (bearer), WORKERS=${MULTI_WORKERS}`, start: server('workers', { WORKERS: String(MULTI_WORKERS) }), load: (s) => tokenLoad(s.url) },
  };
  // The second plain run sits between the variants, so each variant runs next to a plain one.
  const order = ['ref', 'token', 'metrics', 'twin', 'mapper', 'workers'];
  const rounds = [];
  let workerProcesses = MULTI_WORKERS;
  for (let r = 1; r <= ROUNDS; r++) {
    const round = {};
    // Rotated each round, and reversed every other round: no kind always runs first, or always right
    // after the same kind (a run measured slower after some kinds than after others).
    const sequence = order.map((_, i) => order[(i + r - 1) % order.length]);
    if (r % 2 === 0) sequence.reverse();
    for (const kind of sequence) {
      const { name, start, load, metricsPort: scraped } = kinds[kind];
      const s = await start();
      if (kind === 'workers') workerProcesses = Math.min(workerProcesses, s.workers);
      try {
        await warmUp(load(s, `w${r}`));
        round[kind] = scraped ? await measureWithMetrics(name, load(s, r), s, scraped, r) : await measure(name, load(s, r), s, r);
      } finally {
        await s.stop();
      }
    }
    rounds.push(round);
  }
  return { rounds, workersSupported: workerProcesses >= MULTI_WORKERS, workerProcesses };
}

// Unmeasured load before a run, so that the run measures a warmed-up process (JIT, caches).
async function warmUp(spec) {
  await childResult(join(here, 'load.mjs'), [], { ...spec, duration: WARM_UP_SECONDS });
}

// The same /token load on a server with METRICS_PORT set, scraped every second (harsher than
// Prometheus' usual 15 s); its principal-cache counters tell how many bearers needed a database read.
async function measureWithMetrics(name, spec, server, metricsPort, round) {
  const scrape = () => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
  const before = lookups(await scrape());
  let scrapes = 0;
  const scraper = setInterval(() => { scrape().then(() => { scrapes++; }, () => undefined); }, 1000);
  const run = await measure(name, spec, server, round);
  clearInterval(scraper);
  if (scrapes === 0) throw new Error('the metrics listener never answered');
  const after = lookups(await scrape());
  run.cacheMisses = after.miss - before.miss;
  run.cacheLookups = after.miss + after.hit - before.miss - before.hit;
  return run;
}

function lookups(text) {
  // prom-client prints a labelled counter only once it has counted: absent is 0.
  const value = (result) => Number(new RegExp(`^chat_app_principal_cache_lookups_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { hit: value('hit'), miss: value('miss') };
}

function judgeTokenRounds({ rounds, workersSupported, workerProcesses }, fixed) {
  const per = (fn) => rounds.map(fn);
  const ratios = per((r) => r.token.rps / r.ref.rps);
  const ratio = median(ratios);
  const list = (xs, digits = 2) => xs.map((x) => x.toFixed(digits)).join(', ');
  target('/token vs bare-Koa token route, 1 worker', '>= 0.70', ratio.toFixed(2), ratio >= 0.7, `median of ${rounds.length} rounds: ${list(ratios)}`);
  const p99s = per((r) => r.token.p99);
  const p99 = median(p99s);
  target(`/token p99 at ${TOKEN_CONNECTIONS} connections`, '< 25 ms', `${p99} ms`, p99 < 25,
    `median of rounds: ${p99s.join(', ')} ms; ELD p99 ${per((r) => r.token.eldP99).join(', ')} ms, max ${per((r) => r.token.eldMax).join(', ')} ms; ` +
    `bare-Koa token route in the same rounds: p99 ${per((r) => r.ref.p99).join(', ')} ms (median ${median(per((r) => r.ref.p99))})`);
  const rss = Math.max(...per((r) => r.token.peakRssMb));
  target('/token peak RSS', '< 150 MB', `${rss} MB`, rss < 150, 'highest of all rounds');
  const errors = rounds.reduce((sum, r) => sum + r.token.errors, 0);
  target('/token errors', '0', String(errors), errors === 0, 'all rounds: non-2xx, errors, timeouts');
  info('/token vs bare-Koa fixed JSON', (median(per((r) => r.token.rps)) / fixed.rps).toFixed(2));
  const cpu = (kind) => median(per((r) => r[kind].cpuUsPerRequest));
  info('/token CPU time per request', `${Math.round(cpu('token'))} µs`,
    `median of rounds, the server process's user + system time over its requests; bare-Koa token route ${Math.round(cpu('ref'))} µs`);
  const twin = per((r) => r.twin.rps / r.token.rps);
  info('/token again vs /token (A/A: this machine\'s noise)', `${(100 * (median(twin) - 1)).toFixed(1)}%`,
    `two identical runs of each round (${list(twin)}): a difference this size means nothing here`);

  // Paired per round: each variant against the mean of the round's two plain /token runs.
  const within5 = (name, kind, issue) => {
    const rel = per((r) => r[kind].rps / ((r.token.rps + r.twin.rps) / 2));
    const m = median(rel);
    const errs = rounds.reduce((sum, r) => sum + r[kind].errors, 0);
    const cpuRel = per((r) => r[kind].cpuUsPerRequest / ((r.token.cpuUsPerRequest + r.twin.cpuUsPerRequest) / 2));
    target(`${name} (${issue})`, 'within 5%', `${(100 * (m - 1)).toFixed(1)}%`, m >= 0.95 && errs === 0,
      `vs the two plain /token runs of the same round (${list(rel)}); ratio to the reference ${median(per((r) => r[kind].rps / r.ref.rps)).toFixed(2)} vs ${ratio.toFixed(2)}; ` +
      `CPU per request ${(100 * (median(cpuRel) - 1)).toFixed(1)}% (${list(cpuRel)}); errors ${errs}`);
  };
  within5('/token with metrics on', 'metrics', 'issue 14');
  // The worst case of the channel recording: every request a new (channel, user) pair, which defeats
  // the deduplication (an app asks for one RTC token per call joined, not per request).
  within5(`/token over ${MAPPER_CHANNELS} channels, every request a new mapper entry`, 'mapper', 'issue 10, worst case');

  // Issue 13: the revocation check is always on; it must not add a database read per request.
  const misses = rounds.reduce((sum, r) => sum + r.metrics.cacheMisses, 0);
  const looked = rounds.reduce((sum, r) => sum + r.metrics.cacheLookups, 0);
  const perRequest = misses / looked;
  target('/token database reads per request, revocation check on (issue 13)', '< 0.01', Number.isFinite(perRequest) ? perRequest.toFixed(4) : 'not measured', perRequest < 0.01,
    `principal cache misses / lookups in the metrics-on runs: ${misses} / ${looked}`);
  // Plain /token runs with both: every request passes the revocation boundary and notes its channel
  // in the roster (deduplicated: each of the seeded users' one channel is written once).
  const before = RATIO_BEFORE_REVOCATION_AND_RECORDING.ratio;
  target('/token ratio, revocation check and channel recording on, vs before both (issues 13, 10)', `>= ${(0.95 * before).toFixed(2)}`, ratio.toFixed(2), ratio >= 0.95 * before,
    `within 5% of ${before}, ${RATIO_BEFORE_REVOCATION_AND_RECORDING.source} (cited: another run on another day)`);

  if (workersSupported) {
    const rel = per((r) => r.workers.rps / r.token.rps);
    const m = median(rel);
    const rss = Math.max(...per((r) => r.workers.peakRssMb));
    target(`/token WORKERS=${MULTI_WORKERS} vs 1 worker`, '>= 1.30x', `${m.toFixed(2)}x`, m >= 1.3,
      `${workerProcesses} worker processes; rounds: ${list(rel)}; p99 ${median(per((r) => r.workers.p99))} ms (median); peak RSS of all processes ${rss} MB`);
  } else {
    target(`/token WORKERS=${MULTI_WORKERS} vs 1 worker`, '>= 1.30x', 'not supported by this server', false, 'WORKERS set, but the server started no worker processes');
  }
  cited.push(`${DJANGO_SAMPLE_TOKEN.rps} req/s on /token: ${DJANGO_SAMPLE_TOKEN.source}. This run's /token (median): ${Math.round(median(per((r) => r.token.rps)))} req/s.`);
}

function tokenLoad(url) {
  return { url: `${url}/token?channelName=bench-room&publisherRole=true`, connections: TOKEN_CONNECTIONS, bearers };
}

// ---------------------------------------------------------------------------------------------------
// Login, register and the login flood

// Raw scrypt throughput with as many hashes at once as the server runs. This machine's speed drifts
// by tens of percent within minutes, so the account runs are compared with raw scrypt measured right
// before and right after login and register (the mean of both).
async function rawScrypt(when) {
  const raw = await childResult(join(here, 'scrypt-throughput.mjs'), [String(Math.min(SECONDS, 8)), String(HASH_SLOTS)]);
  console.log(`raw scrypt ${when} (N=2^${raw.parameters.logN}, r=${raw.parameters.r}, p=${raw.parameters.p}, ${HASH_SLOTS} at once): ${raw.perSecond.toFixed(1)} hashes/s`);
  return raw.perSecond;
}

async function measureAccounts(tokenRounds) {
  const scryptBefore = await rawScrypt('before login and register');
  await seedOnce();
  const server = await startServer('plain');
  await warmUp(tokenLoad(server.url));
  const unloaded = tokenRounds
    ? median(tokenRounds.rounds.map((r) => r.token.rps))
    : (await measure('GET /token (bearer)', tokenLoad(server.url), server)).rps;

  const clients = HASH_SLOTS * CLIENTS_PER_SLOT;
  const login = await measure('POST /app/user/login', loginLoad(server.url, clients), server, undefined, 'accounts-load.mjs', { shed: true });
  const register = await measure('POST /app/user/register', registerLoad(server.url, clients, 'w1'), server, undefined, 'accounts-load.mjs', { shed: true });
  const scryptAfter = await rawScrypt('after login and register');
  const scrypt = { perSecond: (scryptBefore + scryptAfter) / 2 };
  const scryptShown = `${scrypt.perSecond.toFixed(1)} hashes/s (raw scrypt before ${scryptBefore.toFixed(1)}, after ${scryptAfter.toFixed(1)})`;

  // A retry storm: every answer, shed or not, is followed at once by the next attempt. /token is
  // measured while the flood is under way (it starts before and ends after).
  const flood = measure(`POST /app/user/login flood (${FLOOD_CONNECTIONS} conn.)`, {
    ...loginLoad(server.url, FLOOD_CONNECTIONS), duration: SECONDS + FLOOD_LEAD_SECONDS + 1, timeout: FLOOD_ANSWER_SECONDS,
  }, server, undefined, 'load.mjs', { shed: true });
  await sleep(FLOOD_LEAD_SECONDS * 1000);
  const tokenDuringFlood = await measure('GET /token during the login flood', tokenLoad(server.url), server, undefined, 'load.mjs', { eld: false });
  const floodRun = await flood;
  // One server process: its event-loop delay during the flood is the one /token met.
  tokenDuringFlood.eldP99 = floodRun.eldP99;
  await server.stop();

  const workers = await startServer('workers', { WORKERS: String(MULTI_WORKERS) });
  let loginWorkers;
  if (workers.workers >= MULTI_WORKERS) {
    loginWorkers = await measure(`POST /app/user/login, WORKERS=${MULTI_WORKERS}`, loginLoad(workers.url, clients * MULTI_WORKERS), workers, undefined, 'accounts-load.mjs', { shed: true });
  }
  await workers.stop();

  const vsScrypt = (name, run) => {
    const r = run.ok2xx / scrypt.perSecond;
    target(`${name} vs raw scrypt`, '>= 0.90', r.toFixed(2), r >= 0.9,
      `${run.ok2xx.toFixed(1)} ok/s vs ${scryptShown}; ${clients} clients honouring Retry-After; answers ${statusList(run)}`);
  };
  vsScrypt('login', login);
  vsScrypt('register (a new account each)', register);
  if (loginWorkers) {
    info(`login WORKERS=${MULTI_WORKERS} vs 1 worker`, `${(loginWorkers.ok2xx / login.ok2xx).toFixed(2)}x`,
      `${loginWorkers.ok2xx.toFixed(1)} vs ${login.ok2xx.toFixed(1)} ok/s; ${workers.workers} worker processes, ${clients * MULTI_WORKERS} clients; answers ${statusList(loginWorkers)}`);
  } else {
    info(`login WORKERS=${MULTI_WORKERS} vs 1 worker`, 'not supported by this server', 'WORKERS set, but the server started no worker processes');
  }
  const goodput = floodRun.ok2xx / scrypt.perSecond;
  target('login flood: successful logins vs raw scrypt', '>= 0.60', goodput.toFixed(2), goodput >= 0.6,
    `${FLOOD_CONNECTIONS} conn. resending at once, correct passwords: ${floodRun.ok2xx.toFixed(1)} ok/s; answers ${statusList(floodRun)}; ${floodRun.timeouts} unanswered within ${FLOOD_ANSWER_SECONDS} s`);
  const kept = tokenDuringFlood.rps / unloaded;
  target('/token during the login flood vs unloaded', '>= 0.50', kept.toFixed(2), kept >= 0.5 && tokenDuringFlood.errors === 0,
    `${Math.round(tokenDuringFlood.rps)} vs ${Math.round(unloaded)} req/s; p99 ${tokenDuringFlood.p99} ms; errors ${tokenDuringFlood.errors}`);
  target(`login flood: every attempt answered within ${FLOOD_ANSWER_SECONDS} s`, '0 unanswered', String(floodRun.timeouts), floodRun.errors === 0,
    `max answer time ${floodRun.max} ms; errors ${floodRun.errors} (timeouts included; answers other than 2xx, 503 and 429)`);
}

function loginLoad(url, connections) {
  return { url: `${url}/app/user/login`, connections, accounts: { prefix: 'bench', count: SEED_USERS, password: PASSWORD } };
}

// Every request a new, valid account: a prefix of this run and this server, then a counter.
function registerLoad(url, connections, label) {
  return { url: `${url}/app/user/register`, connections, accounts: { prefix: `r${runId}${label}-`, password: PASSWORD } };
}

const statusList = (run) => Object.entries(run.statusCodes).map(([code, n]) => `${n}x${code}`).join(', ') || 'none';

// ---------------------------------------------------------------------------------------------------
// The import command as users run it, next to raw scrypt with as many hashes at once as it uses (one per core).

async function measureImports() {
  const cores = availableParallelism();
  const raw = await childResult(join(here, 'scrypt-throughput.mjs'), [String(Math.min(SECONDS, 8)), String(cores)]);
  const rows = Math.max(20, Math.round(raw.perSecond * SECONDS));
  const passwords = await childResult(join(here, 'import.mjs'), ['passwords', String(rows)]);
  const accounts = await childResult(join(here, 'import.mjs'), ['accounts', String(IMPORT_ACCOUNTS)]);
  const ratio = passwords.perSecond / raw.perSecond;
  target('password import vs raw scrypt', '>= 0.80', ratio.toFixed(2), ratio >= 0.8,
    `django-sqlite, ${passwords.rows} users: ${passwords.perSecond.toFixed(1)} users/s vs ${raw.perSecond.toFixed(1)} hashes/s (${cores} at once)`);
  target(`accounts import, ${accounts.rows} accounts`, '< 60 s', `${accounts.wallSeconds.toFixed(1)} s`, accounts.wallSeconds < 60,
    `against the built-in emulator, the whole command; ${accounts.perSecond.toFixed(0)} accounts/s while importing`);
}

// ---------------------------------------------------------------------------------------------------
// Reporting

function target(figure, goal, measured, met, details = '') {
  targets.push({ figure, goal, measured, met: met ? 'met' : 'NOT met', details });
}

function info(figure, measured, details = '') {
  targets.push({ figure, goal: '(no target)', measured, met: '', details });
}

function report() {
  if (results.length > 0) {
    console.log('\nRuns (ELD: the server\'s event-loop delay during the run, perf_hooks; the highest of its processes)');
    table(['run', 'round', 'conn', 'req/s', 'ok/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'answers', 'ELD p99 ms', 'peak RSS MB', 'CPU µs/req'],
      results.map((r) => [r.name, r.round ?? '', r.connections, Math.round(r.rps), r.ok2xx.toFixed(1), r.p50, r.p99, r.max, r.errors, statusList(r), r.eldP99 ?? 'n/a', r.peakRssMb,
        r.cpuUsPerRequest === undefined ? 'n/a' : Math.round(r.cpuUsPerRequest)]));
  }
  console.log('\nTargets');
  table(['figure', 'target', 'measured', 'met', 'details'], targets.map((t) => [t.figure, t.goal, t.measured, t.met, t.details]));
  if (cited.length > 0) console.log(`\nCited, not measured by this bench:\n${cited.map((c) => `- ${c}`).join('\n')}`);
}

function table(head, rows) {
  const widths = head.map((h, i) => Math.max(String(h).length, ...rows.map((row) => String(row[i]).length)));
  // Text (the first column, and the last one of the targets) to the left, figures to the right.
  const left = (i) => i === 0 || (head.at(-1) === 'details' && i === head.length - 1);
  const line = (cells) => `| ${cells.map((c, i) => (left(i) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  console.log(`${line(head)}\n|${widths.map((w, i) => (left(i) ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------------------------------------------
// Measuring

/**
 * One load run against `server` (ours or a reference): throughput and latency from the load
 * process, the peak RSS of the server's processes (sampled every 100 ms), and their event-loop delay.
 * Every answer but 2xx is an error, except with `shed` (the login runs): there 503 and 429 are the
 * server's expected refusals, counted apart (the table's answers column).
 */
async function measure(name, spec, server, round, loader = 'load.mjs', { shed = false, eld = true } = {}) {
  let peakRss = 0;
  let unmeasured;
  const sample = () => { peakRss = Math.max(peakRss, treeRss(server.pid)); };
  if (eld) await eventLoopDelay(server.pid); // starts the probes' histograms afresh
  const sampler = setInterval(() => { try { sample(); } catch (err) { unmeasured ??= err; } }, 100);
  const cpuBefore = treeCpuMs(server.pid);
  const r = await childResult(join(here, loader), [], { duration: SECONDS, ...spec });
  const cpuMs = treeCpuMs(server.pid) - cpuBefore;
  clearInterval(sampler);
  if (unmeasured) throw unmeasured;
  sample();
  const delay = eld ? await eventLoopDelay(server.pid) : undefined;
  const shedOrLimited = (r.statusCodes['503'] ?? 0) + (r.statusCodes['429'] ?? 0);
  const row = {
    name,
    round,
    connections: spec.connections,
    ...r,
    // The load's `errors` include its timeouts.
    errors: r.errors + r.non2xx - (shed ? shedOrLimited : 0),
    eldP99: delay?.p99,
    eldMax: delay?.max,
    peakRssMb: Math.round(peakRss / 2 ** 20),
    cpuUsPerRequest: cpuMs === undefined ? undefined : (1000 * cpuMs) / Math.max(1, r.total),
  };
  results.push(row);
  return row;
}

/** The event-loop delay each probed process of the tree saw since the previous call (the highest p99). */
async function eventLoopDelay(pid) {
  const pids = processTree(pid).filter(isProbed);
  for (const p of pids) rmSync(join(eldDir, `${p}.json`), { force: true });
  for (const p of pids) process.kill(p, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  const stats = [];
  for (const p of pids) {
    for (;;) {
      try {
        stats.push(JSON.parse(readFileSync(join(eldDir, `${p}.json`), 'utf8')));
        break;
      } catch {
        if (Date.now() > deadline) return undefined;
        await sleep(20);
      }
    }
  }
  return stats.length ? { p99: Math.max(...stats.map((s) => s.p99)), max: Math.max(...stats.map((s) => s.max)) } : undefined;
}

// Only processes started with the probe get SIGUSR2 (it would end any other). Without /proc, the
// process itself, which the bench started with the probe.
function isProbed(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(eldProbe);
  } catch {
    return true;
  }
}

/** `pid` and its descendants (cluster workers), where /proc lists children; else `pid` alone. */
function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      all.push(...readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // no /proc: the process alone
    }
  }
  return all;
}

// User + system CPU time of a process and its children so far, in ms (all threads: the database and
// hashing threads count); undefined without /proc.
function treeCpuMs(pid) {
  try {
    return processTree(pid).reduce((sum, p) => {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
    }, 0);
  } catch {
    return undefined;
  }
}

// The resident set size of a process and its children, in bytes. A figure that cannot be measured
// stops the bench: printing 0 would pass every memory target.
function treeRss(pid) {
  return processTree(pid).reduce((sum, p) => sum + rssOf(p, p === pid), 0);
}

function rssOf(pid, required) {
  let procStatus;
  try {
    procStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    procStatus = undefined; // no /proc here (macOS, BSD): ask ps
  }
  const kib = procStatus === undefined ? rssFromPs(pid) : Number(/VmRSS:\s+(\d+) kB/.exec(procStatus)?.[1]);
  if (!Number.isFinite(kib) || kib <= 0) {
    if (!required) return 0; // a child that just ended
    throw new Error(`cannot measure the RSS of process ${pid}: no /proc/${pid}/status VmRSS and no usable ps`);
  }
  return kib * 1024;
}

function rssFromPs(pid) {
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------------
// Processes

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function childResult(file, args, message) {
  return new Promise((resolve, reject) => {
    const child = fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (message) child.send(message);
    child.once('message', (result) => {
      child.disconnect();
      resolve(result);
    });
    child.once('exit', (code) => (code ? reject(new Error(`${file} exited with ${code}`)) : undefined));
  });
}

const probed = { execArgv: ['--require', eldProbe] };

async function startReference(mode) {
  const port = await freePort();
  const child = fork(join(here, 'reference-server.mjs'), [mode, String(port)], {
    ...probed, env: { ...process.env, BENCH_ELD_DIR: eldDir }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  await new Promise((resolve) => child.once('message', resolve));
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}

/**
 * The standalone server as users start it (the bin), on the bench's SQLite file (or DATABASE_URL).
 * `workers`: how many worker processes it runs (0 when it runs in one process, as a server that
 * does not know WORKERS does whatever it is asked).
 */
async function startServer(label, extraEnv = {}) {
  const port = await freePort();
  // Settings of the caller's shell that would change what is measured are not passed on.
  const { METRICS_PORT: _m, WORKERS: _w, ...inherited } = process.env;
  const env = {
    ...inherited,
    ...extraEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.DATABASE_URL ?? `sqlite:${join(dataDir, 'bench.sqlite')}`,
    AGORA_APP_ID: AGORA.appId,
    AGORA_APP_CERT: AGORA.appCertificate,
    AGORA_APP_KEY: emulator.appKey,
    AGORA_REST_API_URL: emulator.restApiUrl,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
    // All load comes from one address, and every registration attempt counts against it: the default
    // (20 an hour) would turn the seeding and the register run into 429s. The login limits keep their
    // defaults: correct passwords never reach them.
    REGISTER_MAX_PER_ADDRESS: '1000000',
    BENCH_ELD_DIR: eldDir,
  };
  const child = fork(serverCli, ['serve'], { ...probed, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) {
      const wanted = Number(extraEnv.WORKERS ?? 0);
      let workers = processTree(child.pid).length - 1;
      // The first worker answers /readyz; the others may still be starting.
      for (let j = 0; j < 50 && wanted > 1 && workers < wanted; j++) {
        await sleep(100);
        workers = processTree(child.pid).length - 1;
      }
      return { label, url, pid: child.pid, workers, stop, exited };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`the server (${label}) did not become ready`);
}

// Ends a process the bench started, and waits for it (and its database connections) to be gone.
async function stopChild(child) {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
}

/** Registers the seeded users and logs them in, once per bench run: `bearers`, one per user, valid on every server the bench starts. */
async function seedOnce() {
  if (bearers) return;
  const server = await startServer('seeding');
  try {
    bearers = await seed(server.url);
  } finally {
    await server.stop();
  }
}

async function seed(url) {
  const seeded = new Array(SEED_USERS);
  const headers = { 'content-type': 'application/json' };
  // Two at a time (the hashing slots), each waiting out a 503's Retry-After as a client would.
  const post = async (path, body) => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers, body });
      if (res.status !== 503 || attempt === 20) return res;
      await sleep(1000 * Number(res.headers.get('retry-after') ?? 1));
    }
  };
  let next = 0;
  await Promise.all(Array.from({ length: HASH_SLOTS }, async () => {
    for (let i = next++; i < SEED_USERS; i = next++) {
      const body = JSON.stringify({ userAccount: `bench${i}`, userPassword: PASSWORD });
      const reg = await post('/app/user/register', body);
      if (reg.status !== 200 && reg.status !== 409) throw new Error(`seeding failed: register ${reg.status} ${await reg.text()}`);
      const login = await post('/app/user/login', body);
      if (login.status !== 200) throw new Error(`seeding failed: login ${login.status} ${await login.text()}`);
      seeded[i] = (await login.json()).accessToken;
      const works = await fetch(`${url}/token?channelName=bench-room`, { headers: { authorization: `Bearer ${seeded[i]}` } });
      if (works.status !== 200) throw new Error(`seeding failed: /token ${works.status} ${await works.text()}`);
    }
  }));
  return seeded;
}

await main();
process.exit(0);
