import { isDomainError, type DomainError } from '@chat-app-server/core';
import type { Context, Middleware, Next } from 'koa';
import { HTTP_ERROR_CODES, HttpError, STATUS_BY_ERROR_CODE, type HttpErrorCode } from './error-status.js';
import type { HttpLogger } from './logger.js';
import { ensureRequestId } from './request-id.js';

/** The body of every error response. */
export interface ErrorBody {
  /** The HTTP status, mirrored for clients of the sample server that read `code`. */
  readonly code: number;
  /** A stable machine-readable code: a domain code (`account_exists`, ...) or an HTTP one (`not_found`, ...). */
  readonly error: string;
  readonly message: string;
}

const STATUS_CODES = new Map<number, HttpErrorCode>(
  Object.entries(HTTP_ERROR_CODES).map(([code, status]) => [status, code as HttpErrorCode]),
);

/**
 * The one error policy of the HTTP API: domain errors become their status from {@link STATUS_BY_ERROR_CODE} with
 * `{code, error, message}`; anything unexpected becomes a generic 500, logged once with the request id
 * and never shown to the client.
 */
export function errorMiddleware(logger?: HttpLogger): Middleware {
  return async function renderErrors(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      renderError(ctx, err, logger);
    }
  };
}

export function renderError(ctx: Context, err: unknown, logger?: HttpLogger): void {
  const requestId = ensureRequestId(ctx);
  if (isDomainError(err)) return renderDomainError(ctx, err, requestId, logger);
  if (err instanceof HttpError) {
    for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
    return send(ctx, err.status, err.code, err.message);
  }
  // Decoding a client's malformed percent-encoding (in the path, for instance) is the client's fault.
  if (err instanceof URIError) return send(ctx, 400, 'invalid_request', 'The request URL is not valid percent-encoding.');
  const status = (err as { status?: unknown; expose?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true) {
    // An http-errors error from Koa or a middleware (its message is meant for the client).
    return send(ctx, status, STATUS_CODES.get(status) ?? 'invalid_request', (err as Error).message);
  }
  if (logger) logger.error({ err, requestId, method: ctx.method, path: ctx.path }, 'unexpected error');
  else ctx.app.emit('error', err, ctx);
  send(ctx, 500, 'internal_error', 'Internal server error.');
}

function renderDomainError(ctx: Context, err: DomainError, requestId: string, logger?: HttpLogger): void {
  const status = STATUS_BY_ERROR_CODE[err.code];
  if (status === 429 || status === 503) {
    // Every 429/503 domain error carries its own hint (its constructor requires or defaults it).
    const seconds = err.retryAfterSeconds ?? 1;
    ctx.set('Retry-After', String(Math.max(1, Math.ceil(seconds))));
  }
  if (err.code === 'unauthenticated') ctx.set('WWW-Authenticate', 'Bearer realm="chat-app-server"');
  if (err.code === 'chat_service_misconfigured') {
    // Every registration fails until an operator fixes AGORA_*: say so loudly, but not to the client.
    (logger ?? consoleLogger).error(
      { err, requestId, code: err.code },
      'CHAT SERVICE MISCONFIGURED: Agora refused our credentials; check AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and the REST API URL',
    );
    return send(ctx, status, err.code, 'The server cannot reach the chat service with its current configuration.');
  }
  if (status >= 500) logger?.warn({ err, requestId, code: err.code }, 'request failed: chat service or server busy');
  send(ctx, status, err.code, err.message);
}

function send(ctx: Context, status: number, error: string, message: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  const body: ErrorBody = { code: status, error, message };
  ctx.body = body;
}

const consoleLogger: Pick<HttpLogger, 'error'> = {
  error: (fields, message) => console.error(message, { requestId: fields.requestId }),
};
