import { DEFAULT_VERIFIED_CACHE_SIZE, readAgoraSettings, type AgoraConfig } from '@chat-app-server/adapter-agora';
import { DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS } from '@chat-app-server/core';
import { config as loadDotenv } from 'dotenv';

export type { AgoraConfig };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The standalone server's configuration (design section 6), validated. */
export interface ServerConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
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
  /** TRUST_PROXY: take the client address from X-Forwarded-For. */
  readonly trustProxy: boolean;
  /** SHUTDOWN_TIMEOUT_SECONDS: how long in-flight requests may take to finish on SIGTERM. */
  readonly shutdownTimeoutSeconds: number;
  /** PRINCIPAL_CACHE_SIZE: bearer principals kept (least recently used out first); 0 turns the cache off. */
  readonly principalCacheSize: number;
  /** PRINCIPAL_CACHE_TTL_SECONDS: how long a cached principal is trusted. */
  readonly principalCacheTtlSeconds: number;
  /** TOKEN_CACHE_SIZE: verified bearer tokens kept (least recently used out first); 0 verifies every time. */
  readonly verifiedTokenCacheSize: number;
  /** METRICS_PORT: the Prometheus listener's port; `undefined` (unset) serves no metrics. */
  readonly metricsPort: number | undefined;
  /** METRICS_HOST: the address the metrics listener binds to (loopback by default: never public by accident). */
  readonly metricsHost: string;
  /** AGORA_CHECK_INTERVAL_SECONDS: time between Agora credentials checks after the start-up one; 0 checks only at start. */
  readonly agoraCheckIntervalSeconds: number;
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

export const DEFAULT_DATABASE_URL = 'sqlite:./data/chat-app-server.sqlite';
/** Bearer principals cached: enough for every active client of a busy instance. */
const DEFAULT_PRINCIPAL_CACHE_SIZE = 10_000;
/** Longest throttle window (login and registration): the store prunes windows older than this. */
export const MAX_WINDOW_SECONDS = 7 * 86_400;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
  const databaseUrl = databaseUrlOf(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { databaseUrl };
}

/**
 * Validates the environment into a {@link ServerConfig}.
 * @throws ConfigError naming each missing or malformed variable
 */
export function loadConfig(env: Env): ServerConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const nodeEnv = text(env.NODE_ENV) ?? 'development';
  const production = nodeEnv === 'production';

  const port = integer(env, 'PORT', 8000, 0, 65_535, problems);
  const host = text(env.HOST) ?? '127.0.0.1';
  const databaseUrl = databaseUrlOf(env, problems);
  // The AGORA_* rules are adapter-agora's, shared with embedders (createAgoraAdapters).
  const { agora, tokenExpireSeconds, chatTokenSubject, ...agoraReading } = readAgoraSettings(env, nodeEnv);
  problems.push(...agoraReading.problems);
  warnings.push(...agoraReading.warnings);
  const tokenAuth = oneOf(env, 'TOKEN_AUTH', ['bearer', 'legacy'] as const, 'bearer', problems);
  if (tokenAuth === 'legacy') {
    warnings.push(
      'TOKEN_AUTH=legacy: GET /token issues tokens for any userAccount without authentication, as the sample server did. ' +
        'Anyone who knows an account name can get its tokens. Move clients to bearer tokens and remove this setting.',
    );
  }
  const corsOrigins = corsOriginsOf(env, problems);
  const logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info', problems);
  const passwordMinLength = integer(env, 'PASSWORD_MIN_LENGTH', 8, 1, 1024, problems);
  if (passwordMinLength < 8 && production) warnings.push(`PASSWORD_MIN_LENGTH=${passwordMinLength} is below the recommended 8.`);
  const loginMaxFailures = integer(env, 'LOGIN_MAX_FAILURES', 10, 1, 1_000_000, problems);
  const loginMaxFailuresPerAccount = integer(env, 'LOGIN_MAX_FAILURES_PER_ACCOUNT', 100, 1, 1_000_000, problems);
  if (loginMaxFailuresPerAccount < loginMaxFailures) {
    warnings.push(
      `LOGIN_MAX_FAILURES_PER_ACCOUNT=${loginMaxFailuresPerAccount} is below LOGIN_MAX_FAILURES=${loginMaxFailures}: ` +
        'anyone can then lock an account out from their own address.',
    );
  }
  const loginFailureWindowSeconds = integer(env, 'LOGIN_FAILURE_WINDOW_SECONDS', 900, 1, MAX_WINDOW_SECONDS, problems);
  const registerMaxPerAddress = integer(env, 'REGISTER_MAX_PER_ADDRESS', 20, 1, 1_000_000, problems);
  const registerWindowSeconds = integer(env, 'REGISTER_WINDOW_SECONDS', 3600, 1, MAX_WINDOW_SECONDS, problems);
  const trustProxy = boolean(env, 'TRUST_PROXY', false, problems);
  const shutdownTimeoutSeconds = integer(env, 'SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600, problems);
  const principalCacheSize = integer(env, 'PRINCIPAL_CACHE_SIZE', DEFAULT_PRINCIPAL_CACHE_SIZE, 0, 10_000_000, problems);
  const principalCacheTtlSeconds = integer(env, 'PRINCIPAL_CACHE_TTL_SECONDS', DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS, 1, 3600, problems);
  const verifiedTokenCacheSize = integer(env, 'TOKEN_CACHE_SIZE', DEFAULT_VERIFIED_CACHE_SIZE, 0, 10_000_000, problems);
  const metricsPort = text(env.METRICS_PORT) === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 0, 65_535, problems);
  const metricsHost = text(env.METRICS_HOST) ?? '127.0.0.1';
  if (metricsPort !== undefined && metricsPort === port && metricsPort !== 0) problems.push('METRICS_PORT must differ from PORT.');
  const agoraCheckIntervalSeconds = integer(env, 'AGORA_CHECK_INTERVAL_SECONDS', 60, 0, 86_400, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port, host, databaseUrl, agora, tokenExpireSeconds, chatTokenSubject, tokenAuth, corsOrigins, logLevel,
    passwordMinLength, loginMaxFailures, loginMaxFailuresPerAccount, loginFailureWindowSeconds, registerMaxPerAddress,
    registerWindowSeconds, trustProxy, shutdownTimeoutSeconds, metricsPort, metricsHost, agoraCheckIntervalSeconds,
    principalCacheSize, principalCacheTtlSeconds, verifiedTokenCacheSize, nodeEnv, warnings,
  };
}

function databaseUrlOf(env: Env, problems: string[]): string {
  const url = text(env.DATABASE_URL) ?? DEFAULT_DATABASE_URL;
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

function corsOriginsOf(env: Env, problems: string[]): string[] {
  const raw = text(env.CORS_ORIGINS);
  if (raw === undefined) return [];
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

function text(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = text(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
    return fallback;
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const raw = text(env[name]);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}".`);
    return fallback;
  }
  return raw as T;
}

function boolean(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = text(env[name])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name} must be true or false, got "${raw}".`);
  return fallback;
}
