import { isDevelopmentEnv, readAgoraSettings, type AgoraConfig } from '@chat-app-server/adapter-agora';
import { DEFAULT_PASSWORD_MIN_LENGTH } from '@chat-app-server/core';
import { availableParallelism } from 'node:os';
import { config as loadDotenv } from 'dotenv';
import { DEFAULT_DATABASE_URL, MAX_WINDOW_SECONDS, MAX_WORKERS, readSettings, type Settings } from './settings.js';

export type { AgoraConfig };

export type LogLevel = Settings['LOG_LEVEL'];

/** The standalone server's configuration (design section 6), validated. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** DATABASE_ACQUIRE_TIMEOUT_SECONDS: how long a query waits for a pooled connection, connecting included. */
  readonly databaseAcquireTimeoutSeconds: number;
  /** DATABASE_QUERY_TIMEOUT_SECONDS: how long one statement may take, or a silent database stay silent. */
  readonly databaseQueryTimeoutSeconds: number;
  readonly agora: AgoraConfig;
  readonly tokenExpireSeconds: number;
  readonly chatTokenSubject: 'username' | 'uuid';
  readonly tokenAuth: 'bearer' | 'legacy';
  readonly corsOrigins: readonly string[];
  readonly logLevel: LogLevel;
  readonly passwordMinLength: number;
  /** LOGIN_MAX_FAILURES: failed logins per client address and account in a window. */
  readonly loginMaxFailures: number;
  /** LOGIN_MAX_FAILURES_PER_ACCOUNT: failed logins per account (all addresses) and per address (all accounts). */
  readonly loginMaxFailuresPerAccount: number;
  readonly loginFailureWindowSeconds: number;
  /** REGISTER_MAX_PER_ADDRESS: registration attempts per client address in REGISTER_WINDOW_SECONDS. */
  readonly registerMaxPerAddress: number;
  readonly registerWindowSeconds: number;
  /**
   * TRUST_PROXY: how many reverse proxies append to X-Forwarded-For (0: none, `true` = 1); the client
   * address is the entry the outermost of them added, the N-th from the right.
   */
  readonly trustProxy: number;
  /** SHUTDOWN_TIMEOUT_SECONDS: how long in-flight requests may take to finish on SIGTERM. */
  readonly shutdownTimeoutSeconds: number;
  /** HEADERS_TIMEOUT_SECONDS: a client must send the request line and headers within this. */
  readonly headersTimeoutSeconds: number;
  /** REQUEST_TIMEOUT_SECONDS: a client must send the whole request (headers and body) within this. */
  readonly requestTimeoutSeconds: number;
  /** MAX_CONNECTIONS: open connections beyond this are closed at once. */
  readonly maxConnections: number;
  /** PRINCIPAL_CACHE_SIZE: bearer principals kept (least recently used out first); 0 turns the cache off. */
  readonly principalCacheSize: number;
  /**
   * PRINCIPAL_CACHE_TTL_SECONDS: how long a cached principal is trusted; also how long another instance
   * may still accept a bearer after a revocation (the revocation window).
   */
  readonly principalCacheTtlSeconds: number;
  /** TOKEN_CACHE_SIZE: verified bearer tokens kept (least recently used out first); 0 verifies every time. */
  readonly verifiedTokenCacheSize: number;
  /** METRICS_PORT: the Prometheus listener's port; `undefined` (unset) serves no metrics. */
  readonly metricsPort: number | undefined;
  /** METRICS_HOST: the address the metrics listener binds to (loopback by default: never public by accident). */
  readonly metricsHost: string;
  /** AGORA_CHECK_INTERVAL_SECONDS: time between Agora credentials checks after the start-up one; 0 checks only at start. */
  readonly agoraCheckIntervalSeconds: number;
  /**
   * REGISTRATION_LEASE_SECONDS: how long one registration attempt owns its account; `undefined` (unset):
   * derived from the Agora call deadline. Checked against that deadline when the server is composed.
   */
  readonly registrationLeaseSeconds: number | undefined;
  /** WORKERS: server processes sharing the API port (`auto` already resolved to the number of cores). */
  readonly workers: number;
  readonly nodeEnv: string;
  /** Things worth a warning at start-up (http:// Agora URL, legacy token auth, ...). */
  readonly warnings: readonly string[];
}

/** Invalid or missing settings; the message names every offending variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export { DEFAULT_DATABASE_URL, MAX_WINDOW_SECONDS };

/**
 * Reads `.env` (if present) into `process.env` without overriding variables already set, then
 * validates. Call once, before anything else reads the environment.
 */
export function readEnvironment(path?: string): Env {
  loadDotenv({ quiet: true, ...(path ? { path } : {}) });
  return process.env;
}

/** Only what `migrate` needs. @throws ConfigError */
export function loadDatabaseConfig(env: Env): { databaseUrl: string } {
  const problems: string[] = [];
  const databaseUrl = databaseUrlOf(env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { databaseUrl };
}

/**
 * Validates the environment into a {@link ServerConfig}: the variables' types, bounds and defaults
 * are {@link SETTINGS}; the `AGORA_*` ones are adapter-agora's (shared with embedders); the rules
 * between variables are here.
 * @throws ConfigError naming each missing or malformed variable
 */
export function loadConfig(env: Env): ServerConfig {
  const { settings: s, problems } = readSettings(env);
  const warnings: string[] = [];
  const production = !isDevelopmentEnv(s.NODE_ENV);

  const databaseUrl = databaseUrlOf(s.DATABASE_URL, problems);
  const { agora, tokenExpireSeconds, chatTokenSubject, ...agoraReading } = readAgoraSettings(env, s.NODE_ENV);
  problems.push(...agoraReading.problems);
  warnings.push(...agoraReading.warnings);
  if (s.TOKEN_AUTH === 'legacy') {
    warnings.push(
      'TOKEN_AUTH=legacy: GET /token issues tokens for any userAccount without authentication, as the sample server did. ' +
        'Anyone who knows an account name can get its tokens. Move clients to bearer tokens and remove this setting.',
    );
  }
  const corsOrigins = corsOriginsOf(s.CORS_ORIGINS, problems);
  if (s.PASSWORD_MIN_LENGTH < DEFAULT_PASSWORD_MIN_LENGTH && production) {
    warnings.push(`PASSWORD_MIN_LENGTH=${s.PASSWORD_MIN_LENGTH} is below the recommended ${DEFAULT_PASSWORD_MIN_LENGTH}.`);
  }
  if (s.LOGIN_MAX_FAILURES_PER_ACCOUNT < s.LOGIN_MAX_FAILURES) {
    warnings.push(
      `LOGIN_MAX_FAILURES_PER_ACCOUNT=${s.LOGIN_MAX_FAILURES_PER_ACCOUNT} is below LOGIN_MAX_FAILURES=${s.LOGIN_MAX_FAILURES}: ` +
        'anyone can then lock an account out from their own address.',
    );
  }
  const workers = s.WORKERS === 'auto' ? Math.min(availableParallelism(), MAX_WORKERS) : s.WORKERS;
  // Each process would have a database of its own: no throttle, reservation or account would be shared.
  if (workers > 1 && databaseUrl === 'sqlite::memory:') {
    problems.push('WORKERS above 1 needs a database the workers share: sqlite::memory: exists in one process only (use sqlite:<path> or PostgreSQL).');
  }
  if (s.REQUEST_TIMEOUT_SECONDS < s.HEADERS_TIMEOUT_SECONDS) problems.push('REQUEST_TIMEOUT_SECONDS must be at least HEADERS_TIMEOUT_SECONDS.');
  if (s.METRICS_PORT !== undefined && s.METRICS_PORT === s.PORT && s.METRICS_PORT !== 0) problems.push('METRICS_PORT must differ from PORT.');
  // Tokens minted from a cached user are dated when it was read: they must not be born (nearly) expired.
  if (s.PRINCIPAL_CACHE_TTL_SECONDS * 2 > tokenExpireSeconds) {
    problems.push(`PRINCIPAL_CACHE_TTL_SECONDS (${s.PRINCIPAL_CACHE_TTL_SECONDS}) must be at most half of AGORA_TOKEN_EXPIRE_SECONDS (${tokenExpireSeconds}).`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port: s.PORT,
    host: s.HOST,
    databaseUrl,
    databaseAcquireTimeoutSeconds: s.DATABASE_ACQUIRE_TIMEOUT_SECONDS,
    databaseQueryTimeoutSeconds: s.DATABASE_QUERY_TIMEOUT_SECONDS,
    agora,
    tokenExpireSeconds,
    chatTokenSubject,
    tokenAuth: s.TOKEN_AUTH,
    corsOrigins,
    logLevel: s.LOG_LEVEL,
    passwordMinLength: s.PASSWORD_MIN_LENGTH,
    loginMaxFailures: s.LOGIN_MAX_FAILURES,
    loginMaxFailuresPerAccount: s.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    loginFailureWindowSeconds: s.LOGIN_FAILURE_WINDOW_SECONDS,
    registerMaxPerAddress: s.REGISTER_MAX_PER_ADDRESS,
    registerWindowSeconds: s.REGISTER_WINDOW_SECONDS,
    trustProxy: s.TRUST_PROXY,
    shutdownTimeoutSeconds: s.SHUTDOWN_TIMEOUT_SECONDS,
    headersTimeoutSeconds: s.HEADERS_TIMEOUT_SECONDS,
    requestTimeoutSeconds: s.REQUEST_TIMEOUT_SECONDS,
    maxConnections: s.MAX_CONNECTIONS,
    metricsPort: s.METRICS_PORT,
    metricsHost: s.METRICS_HOST,
    agoraCheckIntervalSeconds: s.AGORA_CHECK_INTERVAL_SECONDS,
    registrationLeaseSeconds: s.REGISTRATION_LEASE_SECONDS,
    principalCacheSize: s.PRINCIPAL_CACHE_SIZE,
    principalCacheTtlSeconds: s.PRINCIPAL_CACHE_TTL_SECONDS,
    verifiedTokenCacheSize: s.TOKEN_CACHE_SIZE,
    workers,
    nodeEnv: s.NODE_ENV,
    warnings,
  };
}

function databaseUrlOf(url: string, problems: string[]): string {
  if (url.startsWith('sqlite:')) {
    if (url === 'sqlite:') problems.push('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/chat-app-server.sqlite.');
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      problems.push('DATABASE_URL is not a valid postgres:// URL.');
    }
  } else {
    problems.push('DATABASE_URL must be sqlite:<path> or postgres://user:password@host:port/database.');
  }
  return url;
}

function corsOriginsOf(raw: string, problems: string[]): string[] {
  const origins: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (item === '*') {
      origins.push(item);
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(item);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== item.replace(/\/$/, '')) {
      problems.push(`CORS_ORIGINS entries must be origins such as https://app.example.com (or *), got "${item}".`);
      continue;
    }
    origins.push(parsed.origin);
  }
  return origins;
}
