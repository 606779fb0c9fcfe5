import { got as defaultGot, type Got } from 'got';
import {
  ChatServiceMisconfiguredError,
  ChatServiceUnavailableError,
  ChatUserExistsError,
  InvalidChatUsernameError,
  SystemClock,
  hasCode,
  type ChatProvisioner,
  type ChatUser,
  type ChatUserBatchFailure,
  type ChatUserBatchResult,
  type Clock,
  type Logger,
  type Observer,
} from '@chat-app-server/core';
import { AgoraResponseError } from './agora-errors.js';
import { AgoraRestClient, type AgoraAnswer, type AgoraBody } from './agora-rest-client.js';
import { parseAppKey } from './app-key.js';
import { AppTokenCache } from './app-token-cache.js';
import { assertAgoraCredentials } from './credentials.js';
import { parseRestApiUrl } from './rest-api-url.js';

/** Options of {@link AgoraChatProvisioner}. */
export interface AgoraChatProvisionerOptions {
  /** The REST API origin of the app's data center, e.g. `https://a61.chat.agora.io` (a bare domain means https). */
  readonly restApiUrl: string;
  /** The Chat App Key, `org_name#app_name`. */
  readonly appKey: string;
  /** Agora project App ID (32 hex characters). */
  readonly appId: string;
  /** Agora project App Certificate (32 hex characters); signs the app token. */
  readonly appCertificate: string;
  /** A configured got instance (agents, proxies, hooks). Its own retry option is bypassed. */
  readonly got?: Got;
  /** Timeout of one HTTP try, ms. Default 3000. */
  readonly timeoutMs?: number;
  /** Budget of one call including all retries and waits, ms. Default 10000. */
  readonly deadlineMs?: number;
  /** Retries after the first try on 408, 429, 5xx and network errors. Default 3. */
  readonly retries?: number;
  /** First backoff delay, ms; doubles per retry (with jitter, capped at 2 s). Default 100. */
  readonly retryBaseDelayMs?: number;
  /** Lifetime of the app token, 60..86400 s; it is renewed after half of it. Default 86400. */
  readonly appTokenLifetimeSeconds?: number;
  /** Receives a warning per retried try (never secrets). */
  readonly logger?: Logger;
  /** Receives a `chat_service_call` event per call (operation, outcome, retries, duration). */
  readonly observer?: Observer;
  /** Time source for app token renewal. Default: the system clock. */
  readonly clock?: Clock;
}

/** The default budget of one Agora Chat call, retries included, ms. */
export const DEFAULT_AGORA_DEADLINE_MS = 10_000;

/** Agora's documented maximum for one batch registration. */
export const MAX_BATCH_SIZE = 60;

/**
 * {@link ChatProvisioner} on the Agora Chat REST API (user registration, lookup, ban, force-offline, deletion).
 * @example
 * const chat = new AgoraChatProvisioner({
 *   restApiUrl: 'https://a61.chat.agora.io', appKey: '611012345#1234567', appId, appCertificate,
 * });
 * const user = await chat.createUser('jack', randomPassword);
 */
export class AgoraChatProvisioner implements ChatProvisioner {
  private readonly client: AgoraRestClient;
  private readonly tokens: AppTokenCache;
  /**
   * Every call settles within this (ms), retries, backoff and `Retry-After` waits included: the REST
   * client checks it before each try, bounds each try's timeout by what is left, and never waits
   * past it. The registration lease is derived from it.
   */
  readonly deadlineMs: number;

  constructor(options: AgoraChatProvisionerOptions) {
    assertAgoraCredentials(options.appId, options.appCertificate);
    const { orgName, appName } = parseAppKey(options.appKey);
    const restApiUrl = parseRestApiUrl(options.restApiUrl);
    const lifetime = options.appTokenLifetimeSeconds ?? 86_400;
    if (!Number.isInteger(lifetime) || lifetime < 60 || lifetime > 86_400) {
      throw new RangeError('appTokenLifetimeSeconds must be an integer from 60 to 86400.');
    }
    const timeoutMs = positive('timeoutMs', options.timeoutMs ?? 3000);
    const deadlineMs = positive('deadlineMs', options.deadlineMs ?? DEFAULT_AGORA_DEADLINE_MS);
    this.deadlineMs = deadlineMs;
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError('retries must be a non-negative integer.');
    this.tokens = new AppTokenCache(options.appId, options.appCertificate, lifetime, options.clock ?? new SystemClock());
    this.client = new AgoraRestClient({
      got: options.got ?? defaultGot,
      baseUrl: `${restApiUrl}/${encodeURIComponent(orgName)}/${encodeURIComponent(appName)}`,
      tokens: this.tokens,
      appCertificate: options.appCertificate,
      timeoutMs,
      deadlineMs,
      retries,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
      logger: options.logger,
      observer: options.observer,
    });
  }

  /** How many app tokens this provisioner has built (renewals and 401 rebuilds included). */
  get appTokenBuilds(): number {
    return this.tokens.builds;
  }

  /**
   * One authenticated, read-only call (list at most one user) that proves the App ID, App
   * Certificate, App Key and REST API URL work together. For start-up and periodic checks.
   * @throws ChatServiceMisconfiguredError when Agora refuses our credentials (the message names the likely setting)
   * @throws ChatServiceUnavailableError when Agora cannot be reached or fails
   */
  async checkCredentials(): Promise<void> {
    const answer = await this.client.call('check_credentials', 'GET', '/users?limit=1');
    if (!answer.error) return;
    if (answer.status === 403) {
      throw new ChatServiceMisconfiguredError(
        'Agora Chat refused the app token (HTTP 403): check that the App Key belongs to the project of the App ID and that Chat is enabled for it.',
        { cause: answer.error },
      );
    }
    throw new ChatServiceUnavailableError(`Agora Chat answered the credentials check with HTTP ${answer.status}; try again later.`, {
      cause: answer.error,
    });
  }

  async createUser(username: string, password: string): Promise<ChatUser> {
    const answer = await this.client.call('create_user', 'POST', '/users', { username, password });
    if (answer.error) {
      if (answer.error.agoraError === 'duplicate_unique_property_exists') {
        throw new ChatUserExistsError(username, { afterUnknownOutcome: answer.afterUnknownOutcome, cause: answer.error });
      }
      throw this.rejected(username, answer.error);
    }
    const user = entities(answer.body).find((entity) => entity.username === username) ?? entities(answer.body)[0];
    if (!user) throw malformed(answer);
    return user;
  }

  async getUser(username: string): Promise<ChatUser | undefined> {
    const answer = await this.client.call('get_user', 'GET', `/users/${encodeURIComponent(username)}`);
    if (answer.error) {
      if (answer.status === 404) return undefined;
      throw this.rejected(username, answer.error);
    }
    const user = entities(answer.body)[0];
    if (!user) throw malformed(answer);
    return user;
  }

  async deleteUser(username: string): Promise<boolean> {
    const answer = await this.client.call('delete_user', 'DELETE', `/users/${encodeURIComponent(username)}`);
    if (answer.error) {
      // A 404 after an unknown outcome means our earlier try deleted it: still "there was one".
      if (answer.status === 404) return answer.afterUnknownOutcome;
      throw this.rejected(username, answer.error);
    }
    return true;
  }

  async deactivateUser(username: string): Promise<boolean> {
    return this.userAction('POST', username, 'deactivate');
  }

  async activateUser(username: string): Promise<boolean> {
    return this.userAction('POST', username, 'activate');
  }

  async forceOffline(username: string): Promise<boolean> {
    // Agora answers `data.result: false` for a user with no session: still a success for us.
    return this.userAction('GET', username, 'disconnect');
  }

  async createUsers(
    users: ReadonlyArray<{ readonly username: string; readonly password: string }>,
  ): Promise<ChatUserBatchResult> {
    if (users.length > MAX_BATCH_SIZE) {
      throw new RangeError(`Agora Chat registers at most ${MAX_BATCH_SIZE} users per batch, got ${users.length}.`);
    }
    if (users.length === 0) return { created: [], failed: [] };
    const answer = await this.client.call('create_users', 'POST', '/users', users.map(({ username, password }) => ({ username, password })));
    if (answer.error) {
      // Older Agora/Easemob apps fail the whole batch when one name is taken or illegal: register
      // one by one so the caller still gets per-user results.
      if (answer.status === 400 && isPerUserRejection(answer.error)) return this.createOneByOne(users);
      throw new ChatServiceUnavailableError('Agora Chat rejected the batch registration; try again later.', {
        cause: answer.error,
      });
    }
    const created = entities(answer.body);
    const failed = failures(answer.body, answer.afterUnknownOutcome);
    const reported = new Set([...created.map((u) => u.username), ...failed.map((f) => f.username)]);
    for (const { username } of users) {
      if (!reported.has(username)) {
        failed.push({ username, reason: 'not reported by Agora Chat', code: 'unknown', afterUnknownOutcome: answer.afterUnknownOutcome });
      }
    }
    return { created, failed };
  }

  private async createOneByOne(
    users: ReadonlyArray<{ readonly username: string; readonly password: string }>,
  ): Promise<ChatUserBatchResult> {
    const result: { created: ChatUser[]; failed: ChatUserBatchFailure[] } = { created: [], failed: [] };
    for (const { username, password } of users) {
      try {
        result.created.push(await this.createUser(username, password));
      } catch (err) {
        // By code, not class: another copy of core may have created the error.
        if (hasCode(err, 'chat_user_exists')) {
          result.failed.push({ username, reason: err.message, code: 'chat_user_exists', afterUnknownOutcome: err.afterUnknownOutcome });
        } else if (hasCode(err, 'invalid_chat_username')) {
          result.failed.push({ username, reason: err.message, code: 'invalid_chat_username', afterUnknownOutcome: false });
        } else {
          throw err;
        }
      }
    }
    return result;
  }

  // deactivate, activate and disconnect: idempotent, so a retry after an unknown outcome is harmless.
  private async userAction(method: 'GET' | 'POST', username: string, action: 'deactivate' | 'activate' | 'disconnect'): Promise<boolean> {
    const answer = await this.client.call(`${action}_user`, method, `/users/${encodeURIComponent(username)}/${action}`);
    if (answer.error) {
      if (answer.status === 404) return false;
      throw this.rejected(username, answer.error);
    }
    return true;
  }

  private rejected(username: string, error: AgoraResponseError): Error {
    if (error.status === 400 && error.agoraError === 'illegal_argument') {
      return new InvalidChatUsernameError(username, { cause: error });
    }
    // Unexpected refusals are reported as unavailability: the caller's outcome is unknown to us.
    return new ChatServiceUnavailableError(`Agora Chat refused the request (HTTP ${error.status}); try again later.`, {
      cause: error,
    });
  }
}

function isPerUserRejection(error: AgoraResponseError): boolean {
  return error.agoraError === 'duplicate_unique_property_exists' || error.agoraError === 'illegal_argument';
}

function entities(body: AgoraBody | undefined): ChatUser[] {
  const list = body?.['entities'];
  if (!Array.isArray(list)) return [];
  const users: ChatUser[] = [];
  for (const entity of list as unknown[]) {
    if (typeof entity !== 'object' || entity === null) continue;
    const { username, uuid, created } = entity as Record<string, unknown>;
    if (typeof username !== 'string' || typeof uuid !== 'string') continue;
    users.push(typeof created === 'number' ? { username, uuid, createdAt: created } : { username, uuid });
  }
  return users;
}

function failures(body: AgoraBody | undefined, afterUnknownOutcome: boolean): ChatUserBatchFailure[] {
  const list = body?.['data'];
  if (!Array.isArray(list)) return [];
  const failed: ChatUserBatchFailure[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { username, registerUserFailReason } = item as Record<string, unknown>;
    if (typeof username !== 'string') continue;
    const reason = typeof registerUserFailReason === 'string' ? registerUserFailReason : 'registration failed';
    failed.push({ username, reason, code: batchFailureCode(reason), afterUnknownOutcome });
  }
  return failed;
}

// Agora reports batch failures only in words: "the user3 already exists", "user3 is not legal.".
function batchFailureCode(reason: string): ChatUserBatchFailure['code'] {
  if (/\balready exists?\b|duplicate/i.test(reason)) return 'chat_user_exists';
  if (/\bnot legal\b|illegal|invalid/i.test(reason)) return 'invalid_chat_username';
  return 'unknown';
}

function malformed(answer: AgoraAnswer): ChatServiceUnavailableError {
  return new ChatServiceUnavailableError('Agora Chat sent an answer without the expected user entity.', {
    cause: new AgoraResponseError(answer.status, undefined, 'missing entities'),
  });
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds.`);
  return value;
}
