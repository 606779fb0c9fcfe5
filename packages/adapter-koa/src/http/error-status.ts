import type { ErrorCode } from '@chat-app-server/core';

/**
 * The HTTP status of every domain error code. Typed as a `Record` over the whole union, so a new
 * code added to core without a status here fails to compile.
 */
export const STATUS_BY_ERROR_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_chat_username: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  forbidden: 403,
  account_exists: 409,
  chat_user_exists: 409,
  chat_username_taken: 409,
  too_many_attempts: 429,
  chat_service_unavailable: 503,
  server_busy: 503,
  // Our own App ID / Certificate / App Key were refused: the operator must fix the configuration,
  // so this is a server fault (500), not a transient outage that clients should retry.
  chat_service_misconfigured: 500,
});

/**
 * Codes of errors raised by the HTTP layer itself (not by the domain), with their statuses.
 * They share the error body shape `{code, error, message}` with domain errors.
 */
export const HTTP_ERROR_CODES = {
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_implemented: 501,
  not_ready: 503,
  internal_error: 500,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** An error of the HTTP layer (404, 405, 413, 415, readiness), rendered like a domain error. */
export class HttpError extends Error {
  readonly status: number;
  constructor(readonly code: HttpErrorCode, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERROR_CODES[code];
  }
}
