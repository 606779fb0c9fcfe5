import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ObservedEvent, Observer } from '@chat-app-server/core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, type MetricValueWithName, Registry } from 'prom-client';
import type { ObservedRequest } from '../http/app.js';
import type { ChatServiceState } from './chat-service-check.js';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CHAT_SERVICE_STATES: readonly ChatServiceState[] = ['unchecked', 'ok', 'misconfigured', 'unreachable'];

/**
 * The server's Prometheus metrics (documented in the README, "Operating"): core's and the Agora
 * adapter's {@link ObservedEvent}s, the HTTP requests, the Agora credentials check and Node's
 * default process metrics, in one registry of their own.
 */
export class PrometheusMetrics implements Observer {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'> = new Counter({
    name: 'chat_app_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
    collect: () => this.flushRequestCounts(),
  });
  private readonly httpDuration = new RequestDurationHistogram(
    'chat_app_http_request_duration_seconds', 'Time to answer an HTTP request, by method, route pattern and status.', this.registry,
  );
  private readonly agoraCalls = new Counter({
    name: 'chat_app_agora_requests_total', help: 'Agora Chat REST calls (each with its retries), by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const, registers: [this.registry],
  });
  private readonly agoraRetries = new Counter({
    name: 'chat_app_agora_retries_total', help: 'Retried tries of Agora Chat REST calls, by operation.',
    labelNames: ['operation'] as const, registers: [this.registry],
  });
  private readonly agoraDuration = new Histogram({
    name: 'chat_app_agora_request_duration_seconds', help: 'Time of an Agora Chat REST call including its retries, by operation.',
    labelNames: ['operation'] as const, buckets: SECONDS_BUCKETS, registers: [this.registry],
  });
  private readonly hashWait = new Histogram({
    name: 'chat_app_password_hash_queue_wait_seconds', help: 'Time a password hash or verification waited for a hashing slot.',
    labelNames: ['operation'] as const, buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2], registers: [this.registry],
  });
  private readonly hashShed = new Counter({
    name: 'chat_app_password_hash_shed_total', help: 'Requests refused with server_busy because the hashing queue was full.',
    registers: [this.registry],
  });
  private readonly logins = new Counter({
    name: 'chat_app_logins_total', help: 'Password login attempts, by outcome (success, invalid, throttled, error).',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  private readonly registrations = new Counter({
    name: 'chat_app_registrations_total',
    help: 'Registrations and completions of pending ones, by outcome (created, left_pending, account_exists, chat_username_taken, invalid_chat_username, error).',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  private readonly takeovers = new Counter({
    name: 'chat_app_registration_takeovers_total', help: 'Pending registrations taken over after their earlier attempt was abandoned.',
    registers: [this.registry],
  });
  private readonly principalCache: Counter<'result'> = new Counter({
    name: 'chat_app_principal_cache_lookups_total', help: 'Bearer principal cache lookups, by result (hit, miss).',
    labelNames: ['result'] as const, registers: [this.registry],
    collect: () => this.flushPrincipalCacheCounts(),
  });
  // The per-request metrics are on the hot path, where prom-client would build, validate and hash
  // the label set on every call (a histogram child too): keep each series' labels and counts here,
  // count each request with a few additions, and hand the counts to prom-client when it collects
  // (every scrape, and the primary's gathering of the workers' metrics, goes through collect).
  private readonly requestSeries = new Map<string, RequestSeries>();
  private pendingCacheHits = 0;
  private pendingCacheMisses = 0;
  private readonly chatServiceState = new Gauge({
    name: 'chat_app_agora_credentials_state', help: 'Result of the latest Agora credentials check: 1 for the current state, 0 for the others.',
    // Several workers each check: a state is 1 when any worker saw it last (a sum would count workers).
    labelNames: ['state'] as const, registers: [this.registry], aggregator: 'max',
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.setChatServiceState('unchecked');
  }

  observe(event: ObservedEvent): void {
    switch (event.kind) {
      case 'login':
        return this.logins.inc({ outcome: event.outcome });
      case 'registration':
        return this.registrations.inc({ outcome: event.outcome });
      case 'registration_takeover':
        return this.takeovers.inc();
      case 'password_hash':
        return this.hashWait.observe({ operation: event.operation }, event.queueWaitMs / 1000);
      case 'password_hash_shed':
        return this.hashShed.inc();
      case 'principal_cache':
        if (event.result === 'hit') this.pendingCacheHits += 1;
        else this.pendingCacheMisses += 1;
        return;
      case 'chat_service_call':
        this.agoraCalls.inc({ operation: event.operation, outcome: event.outcome });
        if (event.retries > 0) this.agoraRetries.inc({ operation: event.operation }, event.retries);
        return this.agoraDuration.observe({ operation: event.operation }, event.durationMs / 1000);
    }
  }

  readonly observeRequest = (request: ObservedRequest): void => {
    const series = this.seriesOf(request.route, request.method, request.status);
    series.pending += 1;
    series.duration.observe(request.durationMs / 1000);
  };

  // Bounded like the series themselves: routes are patterns (or "unmatched"), Node's parser accepts a
  // fixed set of methods, and statuses are few.
  private seriesOf(route: string, method: string, status: number): RequestSeries {
    const key = `${method} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { method, route, status: String(status) };
      series = { labels, duration: this.httpDuration.series(labels), pending: 0 };
      this.requestSeries.set(key, series);
    }
    return series;
  }

  private flushRequestCounts(): void {
    for (const series of this.requestSeries.values()) {
      if (series.pending === 0) continue;
      this.httpRequests.inc(series.labels, series.pending);
      series.pending = 0;
    }
  }

  private flushPrincipalCacheCounts(): void {
    if (this.pendingCacheHits > 0) this.principalCache.inc({ result: 'hit' }, this.pendingCacheHits);
    if (this.pendingCacheMisses > 0) this.principalCache.inc({ result: 'miss' }, this.pendingCacheMisses);
    this.pendingCacheHits = 0;
    this.pendingCacheMisses = 0;
  }

  setChatServiceState(current: ChatServiceState): void {
    for (const state of CHAT_SERVICE_STATES) this.chatServiceState.set({ state }, state === current ? 1 : 0);
  }
}

interface RequestSeries {
  readonly labels: { method: string; route: string; status: string };
  readonly duration: DurationCounts;
  /** Requests answered since prom-client last collected. */
  pending: number;
}

/** One series of {@link RequestDurationHistogram}: observations per bucket (not cumulative; the last one is +Inf). */
class DurationCounts {
  readonly buckets = new Float64Array(SECONDS_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  observe(seconds: number): void {
    let i = 0;
    while (i < SECONDS_BUCKETS.length && seconds > SECONDS_BUCKETS[i]!) i += 1;
    this.buckets[i] = this.buckets[i]! + 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/**
 * A histogram that prom-client's registry serves (and the cluster primary aggregates) like its own:
 * the same name, `_bucket`/`_sum`/`_count` lines and `sum` aggregation, but observing is a bucket
 * search and three additions on a series the caller keeps.
 */
class RequestDurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly all: DurationCounts[] = [];

  constructor(readonly name: string, readonly help: string, registry: Registry) {
    // The registry only asks for name, help, type, aggregator and get().
    registry.registerMetric(this as unknown as Metric);
  }

  series(labels: Readonly<Record<string, string>>): DurationCounts {
    const counts = new DurationCounts(labels);
    this.all.push(counts);
    return counts;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValueWithName<string>[] } {
    const values: MetricValueWithName<string>[] = [];
    for (const s of this.all) {
      let cumulative = 0;
      SECONDS_BUCKETS.forEach((bound, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, ...s.labels }, value: cumulative });
      });
      values.push(
        { metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...s.labels }, value: s.count },
        { metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum },
        { metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.all) {
      s.buckets.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** What the metrics listener serves: a {@link Registry}, or the workers' metrics summed by the primary. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** The metrics listener: `GET /metrics` in Prometheus' text format, nothing else. */
export async function startMetricsServer(registry: MetricsSource, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Only GET /metrics is served here.\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shownHost}:${address.port}/metrics` };
}
