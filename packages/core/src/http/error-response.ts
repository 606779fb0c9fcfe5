import { isDomainError, type ErrorCode } from '../errors.js';

/**
 * The HTTP status of every domain error code (the Django sample's API profile, the default one).
 * Typed as a `Record` over the whole union, so a new code added to core without a status here fails
 * to compile.
 */
export const STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
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

/** Seconds sent in `Retry-After` when a 429/503 error carries no hint of its own. */
export const DEFAULT_RETRY_AFTER_SECONDS: Readonly<Partial<Record<ErrorCode, number>>> = Object.freeze({
  too_many_attempts: 60,
  chat_service_unavailable: 5,
  server_busy: 1,
});

/** The body of every error response. */
export interface ErrorBody {
  /** The HTTP status, mirrored for clients of the sample server that read `code`. */
  readonly code: number;
  /** A stable machine-readable code: a domain code (`account_exists`, ...) or an HTTP one (`not_found`, ...). */
  readonly error: string;
  readonly message: string;
}

/** What to answer for an error, in any HTTP framework. */
export interface HttpErrorResponse {
  readonly status: number;
  /** `Retry-After` on 429 and 503, `WWW-Authenticate` on `unauthenticated`, `Cache-Control: no-store` always. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
  /**
   * What the server should log (the client sees none of it): `error` for a bug or a misconfigured chat
   * service (every registration fails until an operator acts), `warn` for an outage, none for client errors.
   */
  readonly log: 'error' | 'warn' | undefined;
}

/**
 * Maps any error thrown by a use case to its HTTP answer: domain errors to their status and
 * `{code, error, message}`; anything else to a generic 500 that reveals nothing.
 * @example
 * catch (err) {
 *   const { status, headers, body, log } = httpErrorOf(err);
 *   if (log) logger[log]({ err }, 'request failed');
 *   res.status(status).set(headers).json(body);
 * }
 */
export function httpErrorOf(err: unknown): HttpErrorResponse {
  if (!isDomainError(err)) return respond(500, 'internal_error', 'Internal server error.', {}, 'error');
  const status = STATUS[err.code];
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) {
    const seconds = err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS[err.code] ?? 1;
    headers['Retry-After'] = String(Math.max(1, Math.ceil(seconds)));
  }
  if (err.code === 'unauthenticated') headers['WWW-Authenticate'] = 'Bearer realm="chat-app-server"';
  if (err.code === 'chat_service_misconfigured') {
    return respond(status, err.code, 'The server cannot reach the chat service with its current configuration.', headers, 'error');
  }
  return respond(status, err.code, err.message, headers, status >= 500 ? 'warn' : undefined);
}

function respond(
  status: number, error: string, message: string, headers: Record<string, string>, log: HttpErrorResponse['log'],
): HttpErrorResponse {
  return { status, headers: { ...headers, 'Cache-Control': 'no-store' }, body: { code: status, error, message }, log };
}
