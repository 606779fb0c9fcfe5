import { randomBytes } from 'node:crypto';
import type { Clock, Logger } from '@chat-app-server/core';
import { AgoraChatProvisioner, type AgoraChatProvisionerOptions } from './agora-chat-provisioner.js';
import { AgoraTokenIssuer, MAX_TOKEN_LIFETIME_SECONDS } from './agora-token-issuer.js';
import { parseAppKey } from './app-key.js';
import { AGORA_CREDENTIAL_PATTERN } from './credentials.js';
import { parseRestApiUrl } from './rest-api-url.js';
import type { AgoraEmulator } from './emulator/agora-emulator.js';

/** Agora settings: real credentials, or the built-in emulator (development only). */
export type AgoraConfig =
  | {
      readonly mode: 'agora';
      readonly appId: string;
      readonly appCertificate: string;
      readonly appKey: string;
      /** Origin of the Chat REST API, e.g. `https://a61.chat.agora.io`. */
      readonly restApiUrl: string;
    }
  | { readonly mode: 'emulator' };

/** Everything the `AGORA_*` variables configure, validated. */
export interface AgoraEnvSettings {
  readonly agora: AgoraConfig;
  /** AGORA_TOKEN_EXPIRE_SECONDS: lifetime of every token, 1..86400. */
  readonly tokenExpireSeconds: number;
  /** AGORA_CHAT_TOKEN_SUBJECT: what chat user tokens name. */
  readonly chatTokenSubject: 'username' | 'uuid';
}

/** The result of {@link readAgoraSettings}: the settings, or the problems that make them unusable. */
export interface AgoraEnvReading extends AgoraEnvSettings {
  /** One message per missing or malformed variable, naming it; empty when the settings are usable. */
  readonly problems: readonly string[];
  /** Things worth a warning at start-up (an http:// REST API URL outside development). */
  readonly warnings: readonly string[];
}

/** Missing or malformed Agora settings; the message names every offending variable. */
export class AgoraConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Agora configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgoraConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** App Key of the built-in emulator (development mode); its App ID and Certificate are random per process. */
const DEVELOPMENT_APP = Object.freeze({ orgName: 'dev', appName: 'chat-app-server' });

const AGORA_VARIABLES = ['AGORA_APP_ID', 'AGORA_APP_CERT', 'AGORA_APP_KEY', 'AGORA_REST_API_URL', 'AGORA_REST_API_DOMAIN'] as const;

/**
 * Development mode (the built-in emulator, when no AGORA_* is set) is for NODE_ENV unset, `development`
 * or `test` only, spelled exactly: any other value (`production`, `Production`, `staging`...) is a
 * deployment, which must name its Agora project.
 */
export function isDevelopmentEnv(nodeEnv: string | undefined): boolean {
  return nodeEnv === undefined || nodeEnv === 'development' || nodeEnv === 'test';
}

/**
 * Validates the `AGORA_*` variables (the standalone server's rules and messages). With none of the
 * credentials set, the mode is `emulator`, which is a problem unless {@link isDevelopmentEnv}.
 */
export function readAgoraSettings(env: Env, nodeEnv: string): AgoraEnvReading {
  const problems: string[] = [];
  const warnings: string[] = [];
  const agora = agoraOf(env, nodeEnv, problems, warnings);
  const tokenExpireSeconds = wholeNumber(env, 'AGORA_TOKEN_EXPIRE_SECONDS', MAX_TOKEN_LIFETIME_SECONDS, 1, MAX_TOKEN_LIFETIME_SECONDS, problems);
  const subject = text(env.AGORA_CHAT_TOKEN_SUBJECT) ?? 'username';
  if (subject !== 'username' && subject !== 'uuid') {
    problems.push(`AGORA_CHAT_TOKEN_SUBJECT must be one of username, uuid, got "${subject}".`);
  }
  const chatTokenSubject = subject === 'uuid' ? 'uuid' : 'username';
  return { agora, tokenExpireSeconds, chatTokenSubject, problems, warnings };
}

function agoraOf(env: Env, nodeEnv: string, problems: string[], warnings: string[]): AgoraConfig {
  const set = AGORA_VARIABLES.filter((name) => text(env[name]) !== undefined);
  if (set.length === 0) {
    if (!isDevelopmentEnv(nodeEnv)) {
      problems.push(
        `AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and AGORA_REST_API_URL are required when NODE_ENV=${nodeEnv} ` +
          '(the built-in Agora Chat emulator is only for NODE_ENV unset, development or test).',
      );
    }
    return { mode: 'emulator' };
  }
  const appId = text(env.AGORA_APP_ID);
  const appCertificate = text(env.AGORA_APP_CERT);
  const appKey = text(env.AGORA_APP_KEY);
  if (appId === undefined) problems.push('AGORA_APP_ID is required (32 hex characters from the Agora console).');
  else if (!AGORA_CREDENTIAL_PATTERN.test(appId)) problems.push('AGORA_APP_ID must be 32 hex characters.');
  // The certificate is a secret: never echo its value.
  if (appCertificate === undefined) problems.push('AGORA_APP_CERT is required (32 hex characters from the Agora console).');
  else if (!AGORA_CREDENTIAL_PATTERN.test(appCertificate)) problems.push('AGORA_APP_CERT must be 32 hex characters.');
  if (appKey === undefined) {
    problems.push('AGORA_APP_KEY is required (org_name#app_name; quote it in a .env file, where # starts a comment).');
  } else {
    problemOf(() => parseAppKey(appKey), 'AGORA_APP_KEY', problems);
  }
  const restApiUrl = restApiUrlOf(env, nodeEnv, problems, warnings);
  return { mode: 'agora', appId: appId ?? '', appCertificate: appCertificate ?? '', appKey: appKey ?? '', restApiUrl: restApiUrl ?? '' };
}

function restApiUrlOf(env: Env, nodeEnv: string, problems: string[], warnings: string[]): string | undefined {
  const url = text(env.AGORA_REST_API_URL);
  const domain = text(env.AGORA_REST_API_DOMAIN);
  if (url !== undefined && domain !== undefined) {
    problems.push('Set only one of AGORA_REST_API_URL and AGORA_REST_API_DOMAIN.');
    return undefined;
  }
  if (url === undefined && domain === undefined) {
    problems.push('AGORA_REST_API_URL is required (e.g. https://a61.chat.agora.io), or AGORA_REST_API_DOMAIN (bare host).');
    return undefined;
  }
  const name = url !== undefined ? 'AGORA_REST_API_URL' : 'AGORA_REST_API_DOMAIN';
  if (domain !== undefined && (domain.includes('/') || domain.includes('@'))) {
    problems.push('AGORA_REST_API_DOMAIN must be a bare host such as a61.chat.agora.io (no scheme or path); or use AGORA_REST_API_URL.');
    return undefined;
  }
  const origin = problemOf(() => parseRestApiUrl(url ?? domain, name), name, problems);
  if (origin?.startsWith('http:') && !isDevelopmentEnv(nodeEnv)) {
    warnings.push(`${name} uses http://: Agora app tokens and chat passwords travel unencrypted. Use https:// outside development.`);
  }
  return origin;
}

// Runs one of this package's parsers (the one home of that rule) and records its complaint under `name`.
function problemOf<T>(parse: () => T, name: string, problems: string[]): T | undefined {
  try {
    return parse();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    problems.push(message.startsWith(name) ? message : `${name}: ${message}`);
    return undefined;
  }
}

function text(value: unknown): string | undefined {
  const trimmed = typeof value === 'string' ? value.trim() : undefined;
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = text(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}".`);
    return fallback;
  }
  return Number(raw);
}

/** The object form of the settings, for embedders who do not configure through the environment. */
export interface AgoraOptions {
  readonly appId: string;
  readonly appCertificate: string;
  /** `org_name#app_name`. */
  readonly appKey: string;
  /** e.g. `https://a61.chat.agora.io`. */
  readonly restApiUrl: string;
  /** @default 86400 */
  readonly tokenExpireSeconds?: number;
  /** @default 'username' */
  readonly chatTokenSubject?: 'username' | 'uuid';
}

/** Options of {@link createAgoraAdapters}. */
export interface CreateAgoraAdaptersOptions {
  /** Anything but unset, `development` or `test` refuses the emulator. @default `NODE_ENV` of the environment given, else of the process, else `development` */
  readonly nodeEnv?: string;
  /** Receives start-up warnings (development mode, http://) and the provisioner's retry warnings. @default console */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Tuning of the REST client (timeouts, retries). */
  readonly provisioner?: Pick<AgoraChatProvisionerOptions, 'timeoutMs' | 'deadlineMs' | 'retries' | 'retryBaseDelayMs' | 'got'>;
}

/** The Agora side of a core: pass `chatProvisioner` and `tokens` to `createCore`. */
export interface AgoraAdapters {
  readonly chatProvisioner: AgoraChatProvisioner;
  readonly tokens: AgoraTokenIssuer;
  /** `emulator` when no `AGORA_*` credentials were given outside production. */
  readonly mode: 'agora' | 'emulator';
  /** Where the chat users are created: Agora's REST API or the local emulator. */
  readonly restApiUrl: string;
  /** The built-in emulator in development mode (its users, fault injection), else `undefined`. */
  readonly emulator: AgoraEmulator | undefined;
  /** Stops the emulator, if one was started. */
  close(): Promise<void>;
}

/**
 * The provisioner and the token issuer from the `AGORA_*` variables (or an object), validated like the
 * standalone server does. Without any `AGORA_*` credentials outside production, it starts the built-in
 * emulator on loopback with development credentials and warns loudly: tokens then do not work with Agora.
 * @throws AgoraConfigError naming each missing or malformed setting (also: no settings in production)
 * @example
 * const agora = await createAgoraAdapters(process.env, { logger });
 * const core = createCore({ users, chatProvisioner: agora.chatProvisioner, tokens: agora.tokens });
 * // on shutdown: await agora.close();
 */
export async function createAgoraAdapters(
  source: Env | AgoraOptions = process.env, options: CreateAgoraAdaptersOptions = {},
): Promise<AgoraAdapters> {
  const env = isAgoraOptions(source) ? envOf(source) : source;
  const nodeEnv = options.nodeEnv ?? text(env.NODE_ENV) ?? text(process.env.NODE_ENV) ?? 'development';
  const settings = readAgoraSettings(env, nodeEnv);
  if (settings.problems.length > 0) throw new AgoraConfigError(settings.problems);
  const logger = options.logger ?? consoleLogger;
  for (const warning of settings.warnings) logger.warn({}, warning);

  const { agora, emulator } =
    settings.agora.mode === 'agora' ? { agora: settings.agora, emulator: undefined } : await startDevelopmentEmulator(logger);
  const { appId, appCertificate, appKey, restApiUrl } = agora;
  const clock = options.clock ? { clock: options.clock } : {};
  return {
    chatProvisioner: new AgoraChatProvisioner({ appId, appCertificate, appKey, restApiUrl, logger, ...clock, ...options.provisioner }),
    tokens: new AgoraTokenIssuer({
      appId, appCertificate, lifetimeSeconds: settings.tokenExpireSeconds, subjectKind: settings.chatTokenSubject, ...clock,
    }),
    mode: settings.agora.mode,
    restApiUrl,
    emulator,
    close: async () => emulator?.close(),
  };
}

/**
 * Starts the built-in Agora Chat emulator on loopback with random credentials and says so loudly.
 * Development only: the caller has refused other environments already.
 */
export async function startDevelopmentEmulator(logger: Logger): Promise<{ agora: AgoraConfig & { mode: 'agora' }; emulator: AgoraEmulator }> {
  // Loaded only here, so that production never loads the emulator.
  const { startAgoraEmulator } = await import('./emulator/agora-emulator.js');
  // Random per process: with a published constant, anyone could forge bearers for a server that runs in
  // development mode where it should not.
  const appId = randomBytes(16).toString('hex');
  const appCertificate = randomBytes(16).toString('hex');
  const emulator = await startAgoraEmulator({ appId, appCertificate, ...DEVELOPMENT_APP, host: '127.0.0.1', port: 0 });
  logger.warn(
    { emulator: emulator.restApiUrl },
    '*** DEVELOPMENT MODE: no AGORA_* variables are set, so chat users are created in a built-in, in-memory ' +
      'Agora Chat emulator with random development credentials (new at every start). Tokens from this server ' +
      'do NOT work with Agora. Set AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and AGORA_REST_API_URL for real use. ***',
  );
  return {
    agora: { mode: 'agora', appId, appCertificate, appKey: emulator.appKey, restApiUrl: emulator.restApiUrl },
    emulator,
  };
}

function isAgoraOptions(source: Env | AgoraOptions): source is AgoraOptions {
  return 'appId' in source || 'appCertificate' in source || 'appKey' in source || 'restApiUrl' in source;
}

// The object form goes through the same rules; messages name the variable each field stands for.
function envOf(options: AgoraOptions): Env {
  return {
    AGORA_APP_ID: options.appId,
    AGORA_APP_CERT: options.appCertificate,
    AGORA_APP_KEY: options.appKey,
    AGORA_REST_API_URL: options.restApiUrl,
    AGORA_TOKEN_EXPIRE_SECONDS: options.tokenExpireSeconds === undefined ? undefined : String(options.tokenExpireSeconds),
    AGORA_CHAT_TOKEN_SUBJECT: options.chatTokenSubject,
  };
}

const consoleLogger: Logger = { warn: (_fields, message) => console.warn(message) };
