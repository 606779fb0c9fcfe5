import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, PasswordHasher } from '@chat-app-server/core';
import { isDevelopmentEnv, startDevelopmentEmulator } from '@chat-app-server/adapter-agora';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { createDatabase, insecureDatabaseFileWarning, migrateLatest, type DatabaseLog } from '@chat-app-server/adapter-knex';
import { pino, type Logger as PinoLogger } from 'pino';
import type { ServerConfig } from './config.js';
import { createContainer, resolveComposition, type AgoraSettings, type Composition, type ProvisionerTuning } from './container.js';
import { PrometheusMetrics, startMetricsServer } from './metrics.js';

type Knex = ReturnType<typeof createDatabase>;


/** Replacements for tests and embedders; production passes none. */
export interface ServerOverrides {
  /** Default: core's ScryptPasswordHasher with OWASP parameters. */
  readonly passwordHasher?: PasswordHasher;
  /** Default: pino at `config.logLevel` on stdout. */
  readonly logger?: PinoLogger;
  readonly clock?: Clock;
  readonly provisioner?: ProvisionerTuning;
  /** PostgreSQL only: the schema to use (it must exist). */
  readonly databaseSchema?: string;
  /** Default: `config.shutdownTimeoutSeconds`. */
  readonly shutdownTimeoutMs?: number;
  /** How often unfinished account deletions are retried, and how old they must be. Default: 60 s. */
  readonly deletionRetryMs?: number;
  /**
   * The metrics to feed (tests pass theirs to wire it into their own password hasher too).
   * Default: new ones when `config.metricsPort` is set, none otherwise.
   */
  readonly metrics?: PrometheusMetrics;
  /**
   * Development mode only: the Agora (emulator) to use instead of starting one. The workers of one
   * server share their primary's emulator, so that they agree on the App Certificate and the chat users.
   */
  readonly developmentAgora?: AgoraSettings;
  /** The database is migrated already (by the primary of a cluster): do not run migrations. */
  readonly migrated?: boolean;
}

/** A composed server: listen, then close (graceful). */
export interface ChatAppServer extends Composition {
  readonly config: ServerConfig;
  readonly logger: PinoLogger;
  readonly knex: Knex;
  /** The built-in emulator, in development mode only. */
  readonly emulator: AgoraEmulator | undefined;
  readonly httpServer: Server;
  /** The Prometheus metrics, when METRICS_PORT is set (or the overrides gave some). */
  readonly metrics: PrometheusMetrics | undefined;
  /** The metrics listener's `/metrics` URL once listening, when METRICS_PORT is set. */
  readonly metricsUrl: string | undefined;
  /** Starts listening on `config.port`/`config.host` (or the given ones); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /**
   * Graceful shutdown: stops accepting connections, lets in-flight requests finish (until the
   * deadline, then cuts the rest), then closes the database and the emulator. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Builds the standalone server exactly as production runs it: database (migrated), Agora (or the
 * emulator in development), the inversify composition, the Koa app, the HTTP server (not listening yet).
 */
export async function buildServer(config: ServerConfig, overrides: ServerOverrides = {}): Promise<ChatAppServer> {
  const logger = overrides.logger ?? createLogger(config);
  for (const warning of config.warnings) logger.warn(warning);

  let emulator: AgoraEmulator | undefined;
  let agora: AgoraSettings;
  if (config.agora.mode === 'emulator') {
    // loadConfig refuses this outside development; checked again so no other caller can slip through.
    if (!isDevelopmentEnv(config.nodeEnv)) {
      throw new Error(`The built-in Agora Chat emulator is refused when NODE_ENV=${config.nodeEnv}.`);
    }
    if (overrides.developmentAgora) {
      agora = overrides.developmentAgora;
    } else {
      const started = await startDevelopmentEmulator(logger);
      emulator = started.emulator;
      const { appId, appCertificate, appKey, restApiUrl } = started.agora;
      agora = { appId, appCertificate, appKey, restApiUrl };
    }
  } else {
    const { appId, appCertificate, appKey, restApiUrl } = config.agora;
    agora = { appId, appCertificate, appKey, restApiUrl };
  }

  const databaseFileWarning = insecureDatabaseFileWarning(config.databaseUrl);
  if (databaseFileWarning) logger.warn(databaseFileWarning);
  let knex: Knex | undefined;
  try {
    const where = overrides.databaseSchema === undefined ? {} : { schema: overrides.databaseSchema };
    knex = createDatabase(config.databaseUrl, {
      ...where,
      acquireTimeoutMs: config.databaseAcquireTimeoutSeconds * 1000,
      queryTimeoutMs: config.databaseQueryTimeoutSeconds * 1000,
      log: databaseLog(logger),
    });
    if (!overrides.migrated) {
      const applied = await migrate(config.databaseUrl, knex, () => createDatabase(config.databaseUrl, { ...where, queryTimeoutMs: 0, log: databaseLog(logger) }));
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    }
    const metrics = overrides.metrics ?? (config.metricsPort === undefined ? undefined : new PrometheusMetrics());
    const container = createContainer({
      config, knex, agora, logger,
      ...(metrics ? { metrics } : {}),
      ...(overrides.passwordHasher ? { passwordHasher: overrides.passwordHasher } : {}),
      ...(overrides.clock ? { clock: overrides.clock } : {}),
      ...(overrides.provisioner ? { provisioner: overrides.provisioner } : {}),
    });
    const parts = resolveComposition(container);
    const agoraState = await parts.chatServiceCheck.run();
    if (agoraState === 'misconfigured' && !isDevelopmentEnv(config.nodeEnv)) {
      throw new Error(`Agora Chat refused the configured credentials (see the log above): refusing to start with NODE_ENV=${config.nodeEnv}.`);
    }
    parts.chatServiceCheck.start();
    return assemble(config, parts, knex, emulator, logger, metrics, {
      shutdownTimeoutMs: overrides.shutdownTimeoutMs ?? config.shutdownTimeoutSeconds * 1000,
      deletionRetryMs: overrides.deletionRetryMs ?? DELETION_RETRY_MS,
    });
  } catch (err) {
    await knex?.destroy().catch(() => undefined);
    await emulator?.close().catch(() => undefined);
    throw err;
  }
}

/** {@link buildServer} and listen. */
export async function startServer(config: ServerConfig, overrides: ServerOverrides = {}): Promise<ChatAppServer & { url: string }> {
  const server = await buildServer(config, overrides);
  try {
    const url = await server.listen();
    return Object.assign(server, { url });
  } catch (err) {
    await server.close();
    throw err;
  }
}

// A migration may run one long statement (an index on a large table): on PostgreSQL it gets a pool of
// its own without the query timeout. SQLite's timeout only bounds waiting for the write lock, and
// sqlite::memory: exists on the serving pool only.
async function migrate(url: string, knex: Knex, untimed: () => Knex): Promise<string[]> {
  if (url.startsWith('sqlite:')) return migrateLatest(knex);
  const migrator = untimed();
  try {
    return await migrateLatest(migrator);
  } finally {
    await migrator.destroy();
  }
}

/**
 * Applies the migrations as {@link buildServer} does (no query timeout: a migration may take long), on
 * a connection of its own that it closes. The primary of `WORKERS=N` runs it once, before the workers.
 */
export async function migrateDatabase(config: Pick<ServerConfig, 'databaseUrl'>, logger: PinoLogger): Promise<string[]> {
  const knex = createDatabase(config.databaseUrl, { queryTimeoutMs: 0, log: databaseLog(logger) });
  try {
    return await migrateLatest(knex);
  } finally {
    await knex.destroy();
  }
}

// Knex's own messages ("Connection Error: ...", "Acquire connection error: ...") in the server's log,
// not on the console. While the database is down they come with every query: debug, not warn.
function databaseLog(logger: PinoLogger): DatabaseLog {
  return {
    warn: (message) => logger.debug({ component: 'knex' }, message),
    error: (message) => logger.error({ component: 'knex' }, message),
    deprecate: (method, alternative) => logger.debug({ component: 'knex' }, `${method} is deprecated; use ${alternative}`),
    debug: (message) => logger.debug({ component: 'knex' }, message),
  };
}

export function createLogger(config: Pick<ServerConfig, 'logLevel'>): PinoLogger {
  return pino({
    level: config.logLevel,
    base: { service: 'chat-app-server' },
    // Defence in depth: nothing logs these, and if something ever does they are masked.
    redact: {
      paths: ['userPassword', 'password', 'accessToken', 'token', 'authorization', '*.authorization', '*.userPassword', '*.password'],
      censor: '[redacted]',
    },
  });
}

const DELETION_RETRY_MS = 60_000;
const TIMEOUT_CHECK_INTERVAL_MS = 500;
const DROP_WARNING_INTERVAL_MS = 10_000;

function assemble(
  config: ServerConfig, parts: Composition, knex: Knex, emulator: AgoraEmulator | undefined, logger: PinoLogger,
  metrics: PrometheusMetrics | undefined, timing: { shutdownTimeoutMs: number; deletionRetryMs: number },
): ChatAppServer {
  const { shutdownTimeoutMs } = timing;
  const handle = parts.app.callback();
  const deletions = retryDeletions(parts, logger, timing.deletionRetryMs);
  // Handlers still running, also those whose client hung up: the database must outlive them all.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const httpServer = createServer(
    {
      // Slow-loris bounds: a request must arrive within these, whatever the client does. Node enforces
      // them on a timer (30 s by default), which let slow clients stay up to 30 s longer.
      headersTimeout: config.headersTimeoutSeconds * 1000,
      requestTimeout: config.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    (req, res) => {
      inFlight++;
      void handle(req, res).finally(() => {
        if (--inFlight === 0) drained?.();
      });
    },
  );
  // Node's header timeout misses connections that never send a byte (seen on Node 20): close those
  // after the same time of silence. The first request lifts it; Node handles keep-alive idling itself.
  httpServer.on('connection', (socket) => socket.setTimeout(config.headersTimeoutSeconds * 1000));
  httpServer.on('request', (req) => req.socket.setTimeout(0));
  // Beyond the cap Node closes new connections at once (no answer): file descriptors and memory stay bounded.
  httpServer.maxConnections = config.maxConnections;
  let lastDropWarning = 0;
  httpServer.on('drop', () => {
    if (Date.now() - lastDropWarning < DROP_WARNING_INTERVAL_MS) return;
    lastDropWarning = Date.now();
    logger.warn({ maxConnections: config.maxConnections }, 'MAX_CONNECTIONS reached: closing new connections at once');
  });
  let closing: Promise<void> | undefined;
  // While closing, a connection whose response has just finished is idle: close it then, instead of
  // letting it linger until keepAliveTimeout.
  httpServer.on('request', (_req, res) => {
    res.once('finish', () => {
      if (closing) setImmediate(() => httpServer.closeIdleConnections());
    });
  });

  let metricsServer: Server | undefined;
  const listenMetrics = async (): Promise<void> => {
    if (!metrics || config.metricsPort === undefined || metricsServer) return;
    const started = await startMetricsServer(metrics.registry, config.metricsPort, config.metricsHost);
    metricsServer = started.server;
    server.metricsUrl = started.url;
    logger.info({ url: started.url }, 'metrics listening');
  };

  const listen = async (port = config.port, host = config.host): Promise<string> => {
    await listenMetrics();
    return listenApi(port, host);
  };

  const listenApi = (port: number, host: string) =>
    new Promise<string>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      httpServer.once('error', onError);
      httpServer.listen(port, host, () => {
        httpServer.off('error', onError);
        const address = httpServer.address() as AddressInfo;
        const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        const url = `http://${shownHost}:${address.port}`;
        logger.info({
          url, tokenAuth: config.tokenAuth, database: config.databaseUrl.split(':')[0],
          registrationLeaseSeconds: parts.core.registrationLeaseSeconds, chatServiceDeadlineMs: parts.chatProvisioner.deadlineMs,
        }, 'chat-app-server listening');
        resolve(url);
      });
    });

  const shutdown = async (): Promise<void> => {
    await deletions.stop();
    // One deadline for both waits: connections closing, then handlers whose clients hung up.
    const deadlineAt = Date.now() + shutdownTimeoutMs;
    if (httpServer.listening) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          logger.warn({ timeoutMs: shutdownTimeoutMs }, 'shutdown deadline reached: closing remaining connections');
          httpServer.closeAllConnections();
        }, shutdownTimeoutMs);
        deadline.unref();
        // close() stops accepting and fires once every connection has ended; idle keep-alive
        // connections are closed now, busy ones after their response.
        httpServer.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        httpServer.closeIdleConnections();
      });
    }
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, Math.max(0, deadlineAt - Date.now())).unref();
      });
    }
    // Channel members noted by the last token requests are written before the database closes.
    const flushed = parts.core.close().catch((err: unknown) => logger.warn({ err }, 'could not record the last channel members'));
    await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadlineAt - Date.now())).unref())]);
    await parts.chatServiceCheck.stop();
    if (metricsServer) {
      const stopping = metricsServer;
      const closed = new Promise<void>((resolve) => stopping.close(() => resolve()));
      stopping.closeAllConnections();
      await closed;
    }
    await knex.destroy();
    await emulator?.close();
    logger.info('chat-app-server stopped');
  };

  const server: ChatAppServer & { metricsUrl: string | undefined } = {
    ...parts, config, logger, knex, emulator, httpServer, metrics, metricsUrl: undefined, listen,
    close: () => (closing ??= shutdown()),
  };
  return server;
}

/**
 * Finishes account deletions that the chat service interrupted, every `intervalMs`, once they are
 * that old (a request may still be retrying a younger one). One run at a time; every instance may run
 * it, the saga's steps are idempotent.
 */
function retryDeletions(parts: Composition, logger: PinoLogger, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= parts.core.accountDeletion.finishPending({ olderThanMs: intervalMs }).then(
      ({ finished, failed }) => {
        if (finished > 0 || failed > 0) logger.info({ finished, failed }, 'retried unfinished account deletions');
      },
      (err: unknown) => logger.warn({ err }, 'could not look for unfinished account deletions'),
    ).finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
