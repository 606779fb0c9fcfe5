import type { Context, Middleware, Next } from 'koa';
import { errorResponse, type ErrorTable } from './error-response.js';
import type { HttpLogger } from './logger.js';
import { DJANGO_ERRORS } from './profiles/django/errors.js';
import { ensureRequestId } from './request-id.js';

/**
 * Renders every error thrown below it with `table` (by default the Django profile's), or with the
 * table a function picks for the request.
 */
export function errorMiddleware(logger?: HttpLogger, table: ErrorTable | ((ctx: Context) => ErrorTable) = DJANGO_ERRORS): Middleware {
  return async function renderErrors(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      renderError(ctx, err, logger, typeof table === 'function' ? table(ctx) : table);
    }
  };
}

/** Sends `err` as `table` phrases it; unexpected errors are logged once with the request id. */
export function renderError(ctx: Context, err: unknown, logger?: HttpLogger, table: ErrorTable = DJANGO_ERRORS): void {
  const response = errorResponse(err, table, {
    requestId: ensureRequestId(ctx),
    method: ctx.method,
    path: ctx.path,
    logger,
    reportUnexpected: (unexpected) => ctx.app.emit('error', unexpected, ctx),
  });
  ctx.status = response.status;
  for (const [name, value] of Object.entries(response.headers)) ctx.set(name, value);
  ctx.body = response.body;
}
