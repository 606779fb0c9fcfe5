import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { isDevelopmentEnv, startDevelopmentEmulator } from '@chat-app-server/adapter-agora';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { insecureDatabaseFileWarning } from '@chat-app-server/adapter-knex';
import type { Logger as PinoLogger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { Env, ServerConfig } from './config.js';
import type { AgoraSettings } from './container.js';
import { PrometheusMetrics, startMetricsServer } from './metrics.js';
import { createLogger, migrateDatabase, startServer } from './server.js';

/**
 * `WORKERS=N`: one primary process that owns what must exist once (the migrations, the development
 * emulator, the metrics listener, the signals) and N worker processes that each run the whole server
 * on the shared API port (node:cluster hands them the connections). Everything the workers must agree
 * on (throttles, limits, reservations, revocations) is decided in the database, as between N separate
 * instances; what a worker keeps in memory (caches, the channel roster's pending writes) is its own.
 */

/** The primary's message asking a worker to shut down gracefully. */
const SHUTDOWN_MESSAGE = 'chat-app-server:shutdown';
/**
 * A worker's message once its API listens (with its URL). Not cluster's `listening` event: that one
 * fires for any server a worker starts.
 */
const LISTENING_MESSAGE = 'chat-app-server:listening';
/**
 * Development mode: the primary's emulator and its random credentials, for the workers. An environment
 * variable (not a message) so that a restarted worker gets them too; only ever read by a cluster worker.
 */
const DEVELOPMENT_AGORA_VARIABLE = 'CHAT_APP_SERVER_DEVELOPMENT_AGORA';
/** A worker that crashes again within this of the previous crash is restarted later each time. */
const RESTART_BACKOFF = { firstMs: 500, maxMs: 30_000, stableAfterMs: 60_000 } as const;
/** After the workers' own shutdown deadline: time to flush the roster and close the database. */
const WORKER_EXIT_GRACE_MS = 5_000;

export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * Runs one worker until the primary (or a signal) asks it to stop; resolves with the exit status.
 * The primary migrated the database and, in development mode, runs the emulator.
 */
export async function runWorker(config: ServerConfig, env: Env): Promise<number> {
  const logger = createLogger(config).child({ worker: cluster.worker?.id, pid: process.pid });
  const developmentAgora = readDevelopmentAgora(env);
  // Only the primary listens on METRICS_PORT; it asks each worker for its metrics over the cluster channel.
  const metrics = config.metricsPort === undefined ? undefined : new PrometheusMetrics();
  if (metrics) {
    AggregatorRegistry.setRegistries([metrics.registry]);
    new AggregatorRegistry(); // installs the worker's answer to the primary's metrics requests
  }
  // Listening for the stop request from the start: the primary may ask while this worker still starts.
  let requested: string | undefined;
  let request = (reason: string) => {
    requested ??= reason;
  };
  process.on('SIGTERM', () => request('SIGTERM'));
  process.on('SIGINT', () => request('SIGINT'));
  process.on('message', (message: unknown) => {
    if (message === SHUTDOWN_MESSAGE) request('primary');
  });
  const server = await startServer(
    // The primary logged the configuration's warnings once, and it serves the metrics.
    { ...config, warnings: [], metricsPort: undefined },
    { logger, migrated: true, ...(developmentAgora ? { developmentAgora } : {}), ...(metrics ? { metrics } : {}) },
  );
  process.send?.({ type: LISTENING_MESSAGE, url: server.url });
  return new Promise<number>((resolve) => {
    let stopping = false;
    request = (reason: string) => {
      // A terminal's Ctrl-C reaches the primary and every worker: the second request is the same one.
      if (stopping) return;
      stopping = true;
      server.logger.info({ reason }, 'shutting down');
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          server.logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    if (requested !== undefined) request(requested);
  });
}

function readDevelopmentAgora(env: Env): AgoraSettings | undefined {
  const raw = env[DEVELOPMENT_AGORA_VARIABLE];
  // Not passed on to anything this worker starts.
  delete process.env[DEVELOPMENT_AGORA_VARIABLE];
  if (raw === undefined) return undefined;
  const { appId, appCertificate, appKey, restApiUrl } = JSON.parse(raw) as AgoraSettings;
  return { appId, appCertificate, appKey, restApiUrl };
}

/**
 * The primary of `WORKERS=N` (N > 1): migrates the database once, starts the development emulator
 * (development mode only) and the metrics listener, starts N workers and restarts any that dies,
 * and on SIGTERM/SIGINT has them all shut down gracefully. Resolves with the exit status.
 */
export async function runPrimary(config: ServerConfig): Promise<number> {
  const logger = createLogger(config).child({ role: 'primary', pid: process.pid });
  for (const warning of config.warnings) logger.warn(warning);
  const databaseFileWarning = insecureDatabaseFileWarning(config.databaseUrl);
  if (databaseFileWarning) logger.warn(databaseFileWarning);
  // Once, before any worker starts: knex refuses a second migrator while one holds the migration lock
  // (it does not wait), so workers migrating side by side would fail to start.
  const applied = await migrateDatabase(config, logger);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  let emulator: AgoraEmulator | undefined;
  let metricsServer: Server | undefined;
  const release = async () => {
    if (metricsServer) {
      const stopping = metricsServer;
      const closed = new Promise<void>((resolve) => stopping.close(() => resolve()));
      stopping.closeAllConnections();
      await closed;
    }
    await emulator?.close();
  };
  const workerEnv: Record<string, string> = {};
  try {
    if (config.agora.mode === 'emulator') {
      if (!isDevelopmentEnv(config.nodeEnv)) {
        throw new Error(`The built-in Agora Chat emulator is refused when NODE_ENV=${config.nodeEnv}.`);
      }
      // One emulator for all workers: they must agree on the random App Certificate (a token one of
      // them issued is verified by another) and on the chat users.
      const started = await startDevelopmentEmulator(logger);
      emulator = started.emulator;
      const { appId, appCertificate, appKey, restApiUrl } = started.agora;
      workerEnv[DEVELOPMENT_AGORA_VARIABLE] = JSON.stringify({ appId, appCertificate, appKey, restApiUrl });
    }
    if (config.metricsPort !== undefined) {
      const aggregator = new AggregatorRegistry();
      const started = await startMetricsServer(
        { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
        config.metricsPort, config.metricsHost,
      );
      metricsServer = started.server;
      logger.info({ url: started.url, workers: config.workers }, 'metrics listening (the sum of all workers)');
    }
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }

  const code = await supervise(config, logger, workerEnv);
  await release();
  logger.info({ code }, 'chat-app-server stopped');
  return code;
}

/** Starts the workers and keeps them running until a signal; resolves with the exit status. */
function supervise(config: ServerConfig, logger: PinoLogger, workerEnv: Record<string, string>): Promise<number> {
  return new Promise<number>((resolve) => {
    type Phase = 'starting' | 'running' | 'stopping';
    let phase: Phase = 'starting';
    let failed = false;
    const workers = new Map<number, Worker>();
    const listening = new Set<number>();
    const startedAt = new Map<number, number>();
    const restarts = new Set<NodeJS.Timeout>();
    let crashes = 0;
    let lastCrashAt = 0;
    let forceExit: NodeJS.Timeout | undefined;

    const fork = (): Worker => {
      const worker = cluster.fork(workerEnv);
      workers.set(worker.id, worker);
      startedAt.set(worker.id, Date.now());
      worker.on('message', (message: { type?: unknown; url?: unknown } | null) => {
        if (message?.type !== LISTENING_MESSAGE || listening.has(worker.id)) return;
        listening.add(worker.id);
        if (phase === 'starting' && listening.size === config.workers) {
          phase = 'running';
          const pids = [...workers.values()].map((w) => w.process.pid);
          logger.info({ url: message.url, workers: config.workers, pids }, 'all workers listening');
        } else if (phase === 'running') {
          logger.info({ worker: worker.id, pid: worker.process.pid }, 'restarted worker listening');
        }
      });
      // A message to a worker whose channel has just closed fails here; its exit follows and is handled.
      worker.on('error', (err) => logger.warn({ err, worker: worker.id }, 'could not reach a worker'));
      worker.once('exit', (code, signal) => onExit(worker, code, signal));
      return worker;
    };

    // Ours, not cluster.workers: node keeps an exited worker there until its channel has closed too.
    const live = () => [...workers.values()];

    const finishIfDone = () => {
      if (phase !== 'stopping' || live().length > 0) return;
      clearTimeout(forceExit);
      resolve(failed ? 1 : 0);
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      workers.delete(worker.id);
      const wasListening = listening.delete(worker.id);
      const fields = { worker: worker.id, pid: worker.process.pid, code, signal };
      if (phase === 'stopping') {
        if (code !== 0) {
          failed = true;
          logger.warn(fields, 'worker did not shut down cleanly');
        }
        finishIfDone();
        return;
      }
      if (phase === 'starting' && !wasListening) {
        // Its own log says why (configuration, database, Agora credentials): a restart would not help.
        logger.error(fields, 'a worker failed to start: stopping');
        failed = true;
        stop();
        return;
      }
      const now = Date.now();
      const lived = now - (startedAt.get(worker.id) ?? now);
      startedAt.delete(worker.id);
      if (lived >= RESTART_BACKOFF.stableAfterMs && now - lastCrashAt >= RESTART_BACKOFF.stableAfterMs) crashes = 0;
      lastCrashAt = now;
      const delayMs = Math.min(RESTART_BACKOFF.maxMs, RESTART_BACKOFF.firstMs * 2 ** crashes);
      crashes++;
      logger.error({ ...fields, restartInMs: delayMs }, 'worker exited unexpectedly: restarting it');
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (phase !== 'stopping') fork();
      }, delayMs);
      restarts.add(timer);
    };

    const stop = () => {
      phase = 'stopping';
      for (const timer of restarts) clearTimeout(timer);
      restarts.clear();
      // Each worker stops accepting, finishes its requests (SHUTDOWN_TIMEOUT_SECONDS), flushes, closes.
      for (const worker of live()) {
        if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
        else worker.process.kill('SIGTERM');
      }
      forceExit ??= setTimeout(() => {
        const left = live();
        logger.error({ workers: left.map((w) => w.process.pid) }, 'workers still running after the shutdown deadline: killing them');
        failed = true;
        for (const worker of left) worker.process.kill('SIGKILL');
      }, config.shutdownTimeoutSeconds * 1000 + WORKER_EXIT_GRACE_MS);
      finishIfDone();
    };

    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: killing the workers and exiting now');
        for (const worker of live()) worker.process.kill('SIGKILL');
        clearTimeout(forceExit);
        resolve(1);
        return;
      }
      signalled = true;
      logger.info({ signal }, 'shutting down');
      stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    logger.info({ workers: config.workers }, 'starting workers');
    for (let i = 0; i < config.workers; i++) fork();
  });
}
