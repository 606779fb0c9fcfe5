import { isDomainError } from '@chat-app-server/core';
import { httpErrorOf, type ErrorBody } from '@chat-app-server/core/http';
import type { Context, Middleware, Next } from 'koa';
import { HTTP_ERROR_CODES, HttpError, type HttpErrorCode } from './error-status.js';
import type { HttpLogger } from './logger.js';
import { requestIdOf } from './request-id.js';

export type { ErrorBody };

const STATUS_CODES = new Map<number, HttpErrorCode>(
  Object.entries(HTTP_ERROR_CODES).map(([code, status]) => [status, code as HttpErrorCode]),
);

/**
 * The one error policy of the HTTP API: domain errors become their answer from core's `httpErrorOf` with
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
  const requestId = requestIdOf(ctx);
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

function renderDomainError(ctx: Context, err: unknown, requestId: string, logger?: HttpLogger): void {
  const { status, headers, body, log } = httpErrorOf(err);
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  if (log === 'error') {
    // chat_service_misconfigured: every registration fails until an operator fixes AGORA_*. Say so
    // loudly, but not to the client.
    (logger ?? consoleLogger).error(
      { err, requestId, code: body.error },
      'CHAT SERVICE MISCONFIGURED: Agora refused our credentials; check AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and the REST API URL',
    );
  } else if (log === 'warn') {
    logger?.warn({ err, requestId, code: body.error }, 'request failed: chat service or server busy');
  }
  send(ctx, status, body.error, body.message);
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
