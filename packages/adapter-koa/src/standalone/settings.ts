import { DEFAULT_VERIFIED_CACHE_SIZE } from '@chat-app-server/adapter-agora';
import { DEFAULT_ACQUIRE_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS } from '@chat-app-server/adapter-knex';
import {
  DEFAULT_LOGIN_LIMITS, DEFAULT_PASSWORD_MIN_LENGTH, DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS, DEFAULT_REGISTRATION_LIMITS, PASSWORD_MAX_BYTES,
} from '@chat-app-server/core';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/chat-app-server.sqlite';
/** Longest throttle window (login and registration): the store prunes windows older than this. */
export const MAX_WINDOW_SECONDS = 7 * 86_400;
/** Bearer principals cached: enough for every active client of a busy instance. */
const DEFAULT_PRINCIPAL_CACHE_SIZE = 10_000;
/** More processes than this only multiply memory and database connections. */
export const MAX_WORKERS = 256;

const whole = (minimum: number, maximum: number, fallback: number | undefined, description: string) =>
  Type.Integer({ minimum, maximum, description, ...(fallback === undefined ? {} : { default: fallback }) });
const oneOf = <const T extends string>(values: readonly T[], fallback: T, description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { default: fallback, description });

/**
 * The standalone server's environment variables (besides the `AGORA_*` ones, which adapter-agora
 * validates for the server and for embedders alike): each one's type, bounds and default, once.
 * Defaults that belong to core or an adapter are read from there, never repeated.
 */
export const SETTINGS = Type.Object({
  NODE_ENV: Type.String({ default: 'development', description: '`production` refuses the emulator and a misconfigured Agora.' }),
  PORT: whole(0, 65_535, 8000, 'The API port.'),
  HOST: Type.String({ default: '127.0.0.1', description: 'The API address.' }),
  DATABASE_URL: Type.String({ default: DEFAULT_DATABASE_URL, description: '`sqlite:<path>` or `postgres://...`.' }),
  DATABASE_ACQUIRE_TIMEOUT_SECONDS: whole(1, 600, DEFAULT_ACQUIRE_TIMEOUT_MS / 1000, 'How long a query waits for a database connection (connecting included) before the request fails with 503.'),
  DATABASE_QUERY_TIMEOUT_SECONDS: whole(1, 3600, DEFAULT_QUERY_TIMEOUT_MS / 1000, 'How long one database statement may take (or a silent database may stay silent) before the request fails with 503.'),
  TOKEN_AUTH: oneOf(['bearer', 'legacy'], 'bearer', 'How GET /token authenticates.'),
  CORS_ORIGINS: Type.String({ default: '', description: 'Comma-separated browser origins, or `*`.' }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino level.'),
  PASSWORD_MIN_LENGTH: whole(1, PASSWORD_MAX_BYTES, DEFAULT_PASSWORD_MIN_LENGTH, 'Minimum password length in characters.'),
  LOGIN_MAX_FAILURES: whole(1, 1_000_000, DEFAULT_LOGIN_LIMITS.maxFailures, 'Failed logins per address and account in the window.'),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: whole(1, 1_000_000, DEFAULT_LOGIN_LIMITS.maxFailuresPerAccount, 'Failed logins per account, all addresses.'),
  LOGIN_FAILURE_WINDOW_SECONDS: whole(1, MAX_WINDOW_SECONDS, DEFAULT_LOGIN_LIMITS.windowSeconds, 'The login throttling window.'),
  REGISTER_MAX_PER_ADDRESS: whole(1, 1_000_000, DEFAULT_REGISTRATION_LIMITS.maxPerAddress, 'Registration attempts per address in the window.'),
  REGISTER_WINDOW_SECONDS: whole(1, MAX_WINDOW_SECONDS, DEFAULT_REGISTRATION_LIMITS.windowSeconds, 'The registration window.'),
  TRUST_PROXY: Type.Integer({
    minimum: 0, maximum: 10, default: 0, aliases: { false: 0, true: 1 },
    expected: 'must be false, true (one proxy) or the number of proxies in front of the server (0-10)',
    description: 'How many reverse proxies append to X-Forwarded-For.',
  }),
  SHUTDOWN_TIMEOUT_SECONDS: whole(1, 600, 10, 'How long in-flight requests may take on SIGTERM.'),
  HEADERS_TIMEOUT_SECONDS: whole(1, 300, 10, 'A client must send the request line and headers within this.'),
  REQUEST_TIMEOUT_SECONDS: whole(1, 3600, 30, 'A client must send the whole request within this.'),
  MAX_CONNECTIONS: whole(1, 1_000_000, 1000, 'Open connections beyond this are closed at once.'),
  PRINCIPAL_CACHE_SIZE: whole(0, 10_000_000, DEFAULT_PRINCIPAL_CACHE_SIZE, 'Bearer principals cached; 0 turns the cache off.'),
  PRINCIPAL_CACHE_TTL_SECONDS: whole(1, 3600, DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS, 'How long a cached principal is trusted: also how long another instance may accept a revoked bearer. At most half of AGORA_TOKEN_EXPIRE_SECONDS.'),
  TOKEN_CACHE_SIZE: whole(0, 10_000_000, DEFAULT_VERIFIED_CACHE_SIZE, 'Verified bearer tokens cached; 0 verifies every time.'),
  METRICS_PORT: Type.Optional(whole(0, 65_535, undefined, 'The Prometheus listener port; unset: no metrics.')),
  METRICS_HOST: Type.String({ default: '127.0.0.1', description: 'The metrics listener address.' }),
  REGISTRATION_LEASE_SECONDS: Type.Optional(whole(1, 3600, undefined, 'How long one registration attempt owns its account (and a crash locks it); unset: the Agora call deadline plus 5 s. Must be longer than that deadline.')),
  AGORA_CHECK_INTERVAL_SECONDS: whole(0, 86_400, 60, 'Seconds between Agora credentials checks; 0: only at start-up.'),
  WORKERS: Type.Union([Type.Integer({ minimum: 1, maximum: MAX_WORKERS }), Type.Literal('auto')], {
    default: 1,
    expected: `must be a whole number from 1 to ${MAX_WORKERS}, or auto (one per core)`,
    description: 'Server processes sharing the API port; `auto`: one per core.',
  }),
  // Applied by the launcher (bin/chat-app-server.cjs) before any server code runs, which reads the
  // variable itself and keeps this default when it is unset or out of bounds (then refused here).
  THREAD_POOL_NICE: whole(0, 19, 1, 'Added to the server\'s nice value for Node\'s thread pool (scrypt, SQLite) under `serve`: higher leaves bearer requests more CPU while hashing saturates it, lower lets more logins through.'),
});

export type Settings = Static<typeof SETTINGS>;

const checks = new Map<string, TypeCheck<TSchema>>();

/**
 * The settings from `env` (blank counts as unset, then the schema's default), and one message per
 * variable that does not fit its schema, naming it.
 */
export function readSettings(env: Readonly<Record<string, string | undefined>>): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(SETTINGS.properties) as Array<[string, TSchema]>) {
    const raw = env[name]?.trim();
    const fallback = (schema as { default?: unknown }).default;
    if (raw === undefined || raw === '') {
      if (fallback !== undefined) values[name] = fallback;
      continue;
    }
    const value = decode(schema, raw);
    let check = checks.get(name);
    if (!check) checks.set(name, (check = TypeCompiler.Compile(schema)));
    if (check.Check(value)) values[name] = value;
    else {
      problems.push(`${name} ${expectation(schema)}, got "${raw}".`);
      if (fallback !== undefined) values[name] = fallback;
    }
  }
  return { settings: values as Settings, problems };
}

// `aliases` name values in words (TRUST_PROXY=true is one proxy); `expected` words a refusal.
function decode(schema: TSchema, raw: string): unknown {
  const aliases = schema['aliases'] as Record<string, unknown> | undefined;
  if (aliases && Object.hasOwn(aliases, raw.toLowerCase())) return aliases[raw.toLowerCase()];
  if (schema.type === 'integer') return /^\d+$/.test(raw) ? Number(raw) : raw;
  // A number or a word (WORKERS=4, WORKERS=auto): digits are the number, anything else the word.
  if ((schema.anyOf as TSchema[] | undefined)?.some((option) => option.type === 'integer')) return /^\d+$/.test(raw) ? Number(raw) : raw.toLowerCase();
  if (schema.type === 'boolean') {
    const lower = raw.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
  }
  return raw;
}

function expectation(schema: TSchema): string {
  if (typeof schema['expected'] === 'string') return schema['expected'];
  if (schema.type === 'integer') return `must be a whole number from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'boolean') return 'must be true or false';
  const literals = (schema.anyOf as Array<{ const: string }> | undefined)?.map((o) => o.const);
  return literals ? `must be one of ${literals.join(', ')}` : 'is not valid';
}
