import { setTimeout as sleep } from 'node:timers/promises';
import type { Got } from 'got';
import {
  ChatServiceMisconfiguredError, ChatServiceUnavailableError, hasCode, notify, type ChatServiceCallOutcome, type Logger, type Observer,
} from '@chat-app-server/core';
import { AgoraNetworkError, AgoraResponseError, redact } from './agora-errors.js';
import type { AppTokenCache } from './app-token-cache.js';

/** A parsed Agora Chat JSON body (success envelope or error body); fields are checked by the caller. */
export type AgoraBody = Record<string, unknown>;

/** The final answer of a call: a success, or an error status that retrying cannot fix. */
export interface AgoraAnswer {
  readonly status: number;
  readonly body: AgoraBody | undefined;
  readonly error: AgoraResponseError | undefined;
  /** An earlier try of this call ended without a known outcome (it may have taken effect). */
  readonly afterUnknownOutcome: boolean;
}

export interface AgoraRestClientOptions {
  readonly got: Got;
  readonly baseUrl: string;
  readonly tokens: AppTokenCache;
  readonly appCertificate: string;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
  readonly retries: number;
  readonly retryBaseDelayMs: number;
  readonly logger: Logger | undefined;
  readonly observer: Observer | undefined;
}

const MAX_BACKOFF_MS = 2000;
// The request never left this host: it cannot have taken effect.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

type TryOutcome =
  | { kind: 'answer'; status: number; body: AgoraBody | undefined; text: string; retryAfterMs: number | undefined }
  | { kind: 'network'; error: AgoraNetworkError; unknownOutcome: boolean };

/**
 * Sends one logical call to Agora Chat with its own retry loop (not got's), so that the overall
 * deadline is exact and the caller learns whether an earlier try may have taken effect.
 */
export class AgoraRestClient {
  constructor(private readonly options: AgoraRestClientOptions) {}

  /** Sends one call; `operation` names it in observed events (`create_user`, ...). */
  async call(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<AgoraAnswer> {
    const started = performance.now();
    const retries = { count: 0 };
    const observe = (outcome: ChatServiceCallOutcome) =>
      notify(this.options.observer, { kind: 'chat_service_call', operation, outcome, retries: retries.count, durationMs: performance.now() - started });
    try {
      const answer = await this.send(method, path, body, retries);
      observe(answer.error ? 'refused' : 'success');
      return answer;
    } catch (err) {
      observe(hasCode(err, 'chat_service_misconfigured') ? 'misconfigured' : 'unavailable');
      throw err;
    }
  }

  private async send(method: 'GET' | 'POST' | 'DELETE', path: string, body: unknown, retries: { count: number }): Promise<AgoraAnswer> {
    const deadline = Date.now() + this.options.deadlineMs;
    let afterUnknownOutcome = false;
    let rebuiltToken = false;
    let retriesLeft = this.options.retries;
    let attempt = 0;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.unavailable(new AgoraNetworkError('ETIMEDOUT', 'Deadline reached before a try could start.'));
      const token = this.options.tokens.token();
      const outcome = await this.try(method, path, body, token, Math.min(this.options.timeoutMs, remaining));
      const secrets = [this.options.appCertificate, token];

      let cause: Error;
      let retryAfterMs: number | undefined;
      if (outcome.kind === 'network') {
        cause = new AgoraNetworkError(outcome.error.code, redact(outcome.error.message, secrets));
        afterUnknownOutcome ||= outcome.unknownOutcome;
      } else {
        const { status, body: answerBody } = outcome;
        const error = status >= 200 && status < 300 ? undefined : responseError(status, answerBody, outcome.text, secrets);
        if (!error) return { status, body: answerBody, error, afterUnknownOutcome };
        if (status === 401) {
          // An app token can be rejected after a certificate rotation: rebuild once, then give up.
          if (!rebuiltToken) {
            rebuiltToken = true;
            this.options.tokens.invalidate(token);
            retries.count += 1;
            continue;
          }
          throw new ChatServiceMisconfiguredError(
            'Agora Chat rejected our app token twice: check the Agora App ID and App Certificate (and that the App Key belongs to that project).',
            { cause: error },
          );
        }
        if (status === 404 && error.agoraError === 'organization_application_not_found') {
          throw new ChatServiceMisconfiguredError(
            'Agora Chat does not know this org/app: check the Agora App Key (org_name#app_name) and the REST API URL.',
            { cause: error },
          );
        }
        if (!isTransient(status, error)) return { status, body: answerBody, error, afterUnknownOutcome };
        // 5xx and 408 may come after the request took effect; 429 and "too many queries" are refusals.
        if (status >= 500 || status === 408) afterUnknownOutcome = true;
        cause = error;
        retryAfterMs = outcome.retryAfterMs;
      }

      if (retriesLeft <= 0) throw this.unavailable(cause, retryAfterMs);
      const backoff = Math.min(MAX_BACKOFF_MS, this.options.retryBaseDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      const wait = Math.max(backoff, retryAfterMs ?? 0);
      if (Date.now() + wait >= deadline) throw this.unavailable(cause, retryAfterMs);
      this.options.logger?.warn(
        { method, path, attempt: attempt + 1, reason: cause.message, retryInMs: Math.round(wait) },
        'Agora Chat call failed; retrying',
      );
      retriesLeft -= 1;
      attempt += 1;
      retries.count += 1;
      await sleep(wait);
    }
  }

  private async try(method: string, path: string, body: unknown, token: string, timeoutMs: number): Promise<TryOutcome> {
    try {
      const response = await this.options.got(`${this.options.baseUrl}${path}`, {
        method: method as 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        timeout: { request: timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'text',
      });
      const text = response.body;
      return {
        kind: 'answer',
        status: response.statusCode,
        body: parseBody(text),
        text,
        retryAfterMs: parseRetryAfter(response.headers['retry-after']),
      };
    } catch (err) {
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'ERR_REQUEST';
      const message = err instanceof Error ? err.message : String(err);
      return { kind: 'network', error: new AgoraNetworkError(code, message), unknownOutcome: !NOT_SENT_CODES.has(code) };
    }
  }

  private unavailable(cause: Error, retryAfterMs?: number): ChatServiceUnavailableError {
    const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(retryAfterMs / 1000));
    // The client gets a fixed sentence. The cause (addresses, timeouts, Agora's or a proxy's text) is
    // for the log, where the HTTP layer writes it under the request id.
    return new ChatServiceUnavailableError(
      unavailableMessage(cause),
      retryAfterSeconds === undefined ? { cause } : { cause, retryAfterSeconds },
    );
  }
}

function unavailableMessage(cause: Error): string {
  if (!(cause instanceof AgoraNetworkError)) return 'The chat service is unavailable; try again later.';
  return /TIMEDOUT|TIMEOUT/.test(cause.code)
    ? 'The chat service did not answer in time; try again later.'
    : 'The chat service could not be reached; try again later.';
}

function isTransient(status: number, error: AgoraResponseError): boolean {
  if (status === 408 || status === 429 || status >= 500) return true;
  // Agora reports its per-second limit as a 400 without an error code.
  return status === 400 && !error.agoraError && /too many/i.test(error.description ?? '');
}

function responseError(status: number, body: AgoraBody | undefined, text: string, secrets: string[]): AgoraResponseError {
  const code = typeof body?.['error'] === 'string' ? body['error'] : undefined;
  const rawDescription = typeof body?.['error_description'] === 'string'
    ? body['error_description']
    : body === undefined ? text.slice(0, 200) : undefined;
  const description = rawDescription === undefined || rawDescription === '' ? undefined : redact(rawDescription, secrets);
  return new AgoraResponseError(status, code === undefined ? undefined : redact(code, secrets), description);
}

function parseBody(text: string): AgoraBody | undefined {
  if (text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as AgoraBody) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
