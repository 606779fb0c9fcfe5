import { readFileSync } from 'node:fs';
import { ScryptPasswordHasher } from '@chat-app-server/core';
import { startAgoraEmulator, type AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect, use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { Histogram, Registry } from 'prom-client';
import { buildServer, loadConfig, PrometheusMetrics } from '../src/standalone/index.js';
import { createTestDatabase, LogCapture, sleep, startTestEmulator, startTestServer, TEST_AGORA, testEnv, type TestServer } from './support/harness.js';
import { client, request } from './support/http.js';

use(chaiAsPromised);

const PASSWORD = 'correct horse battery';
const WRONG_CERT = '00112233445566778899aabbccddeeff';

/**
 * Every metric the README documents, with what the scripted session does to it. Histograms are
 * compared by their `_count`, counters by the sum of their series.
 */
const DOCUMENTED_METRICS = [
  'chat_app_http_requests_total',
  'chat_app_http_request_duration_seconds',
  'chat_app_agora_requests_total',
  'chat_app_agora_retries_total',
  'chat_app_agora_request_duration_seconds',
  'chat_app_password_hash_queue_wait_seconds',
  'chat_app_password_hash_shed_total',
  'chat_app_logins_total',
  'chat_app_registrations_total',
  'chat_app_registration_takeovers_total',
  'chat_app_principal_cache_lookups_total',
  'process_cpu_user_seconds_total',
  'nodejs_eventloop_lag_seconds',
] as const;

/** Prometheus text format: `name{labels} value` lines, comments skipped. */
function parseMetrics(text: string): Array<{ name: string; labels: string; value: number }> {
  const samples: Array<{ name: string; labels: string; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (match) samples.push({ name: match[1]!, labels: match[2] ?? '', value: Number(match[3]) });
  }
  return samples;
}

/** One number per metric: the `_count` of a histogram, the value of a gauge, the sum of a counter's series. */
function totals(text: string): Map<string, number> {
  const samples = parseMetrics(text);
  const result = new Map<string, number>();
  for (const name of DOCUMENTED_METRICS) {
    const own = samples.filter((s) => s.name === `${name}_count`);
    const series = own.length > 0 ? own : samples.filter((s) => s.name === name);
    result.set(name, series.reduce((sum, s) => sum + s.value, 0));
  }
  return result;
}

async function referenceText(histogram: Histogram): Promise<string> {
  const registry = new Registry();
  registry.registerMetric(histogram);
  return registry.metrics();
}

function sample(text: string, name: string, labels: string): number | undefined {
  return parseMetrics(text).find((s) => s.name === name && s.labels === labels)?.value;
}

describe('operating: metrics', function () {
  let emulator: AgoraEmulator;
  let server: TestServer;
  let metrics: PrometheusMetrics;

  before(async function () {
    emulator = await startTestEmulator();
    metrics = new PrometheusMetrics();
    // Hashes slow enough (logN 14) and one at a time with no queue, so a burst of logins is shed.
    const passwordHasher = new ScryptPasswordHasher({ parameters: { logN: 14, r: 8, p: 1 }, concurrency: 1, maxQueue: 0, observer: metrics });
    server = await startTestServer('sqlite', emulator, {
      env: { METRICS_PORT: '0', LOGIN_MAX_FAILURES: '2' },
      overrides: { metrics, passwordHasher },
    });
  });
  after(async function () {
    await server?.stop();
    await emulator?.close();
  });

  it('serves /metrics on its own loopback listener, not on the API port', async function () {
    expect(server.metricsUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scrape = await request(server.metricsUrl!, 'GET', '/metrics');
    expect(scrape.status).to.equal(200);
    expect(scrape.headers['content-type']).to.match(/^text\/plain/);
    expect((await request(server.metricsUrl!, 'GET', '/')).status).to.equal(404);
    expect((await request(server.url, 'GET', '/metrics')).status).to.equal(404);
  });

  it('moves every documented metric during a short scripted session', async function () {
    const scrape = async () => (await request(server.metricsUrl!, 'GET', '/metrics')).text;
    const before = await scrape();
    const api = client(server.url);

    expect((await api.register('alice', PASSWORD)).status).to.equal(200);
    expect((await api.register('ALICE', PASSWORD)).body.error).to.equal('account_exists');
    const login = await api.login('alice', PASSWORD);
    expect(login.status).to.equal(200);
    expect((await api.token('channelName=lobby', login.body.accessToken)).status).to.equal(200);
    expect((await api.token('channelName=lobby', login.body.accessToken)).status).to.equal(200);

    // Hashing one at a time with no queue: a burst of logins is partly shed.
    const burst = await Promise.all(Array.from({ length: 8 }, () => api.login('alice', PASSWORD)));
    expect(burst.map((r) => r.status)).to.include(503);

    // A retried Agora call, then one that fails for good and leaves a pending row, then its takeover.
    emulator.faults.failNext(1, { status: 503 });
    expect((await api.register('bob', PASSWORD)).status).to.equal(200);
    emulator.faults.failNext(3, { status: 503 });
    expect((await api.register('carol', PASSWORD)).body.error).to.equal('chat_service_unavailable');
    expect((await api.register('carol', PASSWORD)).status).to.equal(200);

    // LOGIN_MAX_FAILURES=2 (per account and per client address): the third login is throttled.
    expect((await api.login('bob', 'wrong password')).body.error).to.equal('invalid_credentials');
    expect((await api.login('bob', 'wrong password')).body.error).to.equal('invalid_credentials');
    expect((await api.login('bob', PASSWORD)).body.error).to.equal('too_many_attempts');

    const after = await scrape();
    const [was, now] = [totals(before), totals(after)];
    for (const name of DOCUMENTED_METRICS) {
      // A gauge moves both ways; everything else only grows.
      if (name === 'nodejs_eventloop_lag_seconds') expect(now.get(name), name).to.not.equal(was.get(name));
      else expect(now.get(name), name).to.be.greaterThan(was.get(name)!);
    }

    const route = (path: string, status: number) => `{method="POST",route="${path}",status="${status}"}`;
    expect(sample(after, 'chat_app_http_requests_total', route('/app/user/register', 200))).to.equal(3);
    // Attempts are claimed before the hash, so the parallel burst beyond LOGIN_MAX_FAILURES was throttled too.
    const burstThrottled = burst.filter((r) => r.status === 429).length;
    expect(sample(after, 'chat_app_logins_total', '{outcome="throttled"}')).to.equal(1 + burstThrottled);
    expect(sample(after, 'chat_app_registrations_total', '{outcome="left_pending"}')).to.equal(1);
    expect(sample(after, 'chat_app_principal_cache_lookups_total', '{result="hit"}')).to.equal(1);
    expect(sample(after, 'chat_app_agora_requests_total', '{operation="create_user",outcome="unavailable"}')).to.equal(1);
    expect(sample(after, 'chat_app_agora_credentials_state', '{state="ok"}')).to.equal(1);
    // Paths no route serves share one label value, so scanners cannot blow up the series count.
    const unmatched = '{method="GET",route="unmatched",status="404"}';
    const unmatchedBefore = sample(after, 'chat_app_http_requests_total', unmatched) ?? 0;
    await request(server.url, 'GET', '/wp-admin/x');
    await request(server.url, 'GET', '/.env');
    expect(sample(await scrape(), 'chat_app_http_requests_total', unmatched)).to.equal(unmatchedBefore + 2);
  });

  it('serves the request-duration histogram exactly as a prom-client Histogram given the same observations', async function () {
    const own = new PrometheusMetrics();
    const reference = new Histogram({
      name: 'chat_app_http_request_duration_seconds', help: 'reference', labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [new Registry()],
    });
    // Below, on and between bucket bounds, beyond the last one, on two series.
    const observed = [
      { method: 'GET', route: '/token', status: 200, durationMs: 0.3 },
      { method: 'GET', route: '/token', status: 200, durationMs: 5 },
      { method: 'GET', route: '/token', status: 200, durationMs: 7.5 },
      { method: 'GET', route: '/token', status: 200, durationMs: 2600 },
      { method: 'GET', route: '/token', status: 200, durationMs: 12_000 },
      { method: 'POST', route: '/app/user/login', status: 401, durationMs: 180 },
    ];
    for (const r of observed) {
      own.observeRequest(r);
      reference.observe({ method: r.method, route: r.route, status: String(r.status) }, r.durationMs / 1000);
    }
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('chat_app_http_request_duration_seconds')).sort();
    const served = lines(await own.registry.metrics());
    expect(served).to.have.length(2 * 14);
    expect(served).to.deep.equal(lines(await referenceText(reference)));
    expect(sample(await own.registry.metrics(), 'chat_app_http_request_duration_seconds_bucket', '{le="0.005",method="GET",route="/token",status="200"}')).to.equal(2);
  });

  it('registers exactly the chat_app_* metrics the README documents', async function () {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const operating = readme.slice(readme.indexOf('## Operating'), readme.indexOf('### Readiness'));
    const documented = new Set(operating.match(/chat_app_[a-z_]+/g));
    const registered = (await new PrometheusMetrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('chat_app_'));
    expect([...documented].sort()).to.deep.equal(registered.sort());
  });

  it('serves no metrics unless METRICS_PORT is set', async function () {
    const own = await startTestServer('sqlite', emulator);
    try {
      expect(own.metrics).to.equal(undefined);
      expect(own.metricsUrl).to.equal(undefined);
    } finally {
      await own.stop();
    }
  });
});

describe('operating: the Agora credentials check', function () {
  let emulator: AgoraEmulator;
  before(async function () {
    emulator = await startTestEmulator();
  });
  after(async function () {
    await emulator?.close();
  });

  it('with a wrong certificate: starts, logs the likely setting, /readyz answers 503 chat_service_misconfigured', async function () {
    const server = await startTestServer('sqlite', emulator, { env: { AGORA_APP_CERT: WRONG_CERT } });
    try {
      expect(server.logs.text).to.include('CHAT SERVICE MISCONFIGURED').and.include('AGORA_APP_CERT');
      expect(server.logs.text).to.not.include(WRONG_CERT);
      const ready = await request(server.url, 'GET', '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.body).to.include({ code: 503, error: 'chat_service_misconfigured' });
      expect((await request(server.url, 'GET', '/healthz')).status).to.equal(200);
    } finally {
      await server.stop();
    }
  });

  it('with a wrong certificate in production: refuses to start', async function () {
    const db = await createTestDatabase('sqlite');
    try {
      const config = loadConfig(testEnv(db, emulator, { NODE_ENV: 'production', AGORA_APP_CERT: WRONG_CERT }));
      await expect(buildServer(config, { logger: new LogCapture().logger, provisioner: { retries: 0 } }))
        .to.be.rejectedWith(/refusing to start/);
    } finally {
      await db.teardown();
    }
  });

  it('with Agora down: starts, /readyz reports it while ready, and keeps checking until Agora answers', async function () {
    const down = await startAgoraEmulator({ ...TEST_AGORA, host: '127.0.0.1', port: 0 });
    const port = Number(new URL(down.url).port);
    await down.close();
    const server = await startTestServer('sqlite', down, { env: { AGORA_CHECK_INTERVAL_SECONDS: '1', NODE_ENV: 'production' } });
    let revived: AgoraEmulator | undefined;
    try {
      expect(server.logs.text).to.include('Agora Chat is unreachable');
      const ready = await request(server.url, 'GET', '/readyz');
      expect(ready.status).to.equal(200);
      expect(ready.body.checks).to.deep.equal({ database: 'ok', chatService: 'unreachable' });
      revived = await startAgoraEmulator({ ...TEST_AGORA, host: '127.0.0.1', port });
      let state: unknown;
      for (let i = 0; i < 40 && state !== 'ok'; i++) {
        await sleep(250);
        state = (await request(server.url, 'GET', '/readyz')).body.checks?.chatService;
      }
      expect(state).to.equal('ok');
      expect(server.logs.text).to.include('credentials check passes again');
    } finally {
      await server.stop();
      await revived?.close();
    }
  });
});
