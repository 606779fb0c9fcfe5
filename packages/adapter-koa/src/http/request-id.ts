import { randomUUID } from 'node:crypto';
import type { Context, Middleware, Next } from 'koa';

// A caller's id is kept only when it is short and plain, so it is safe in logs and headers.
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The id of the current request. The first call per request assigns it (the caller's `X-Request-Id`
 * when acceptable, else a new UUID) and echoes it in the response header; later calls return it.
 */
export function ensureRequestId(ctx: Context): string {
  const existing: unknown = ctx.state.requestId;
  if (typeof existing === 'string') return existing;
  const offered = ctx.get('X-Request-Id');
  const id = ACCEPTED_REQUEST_ID.test(offered) ? offered : randomUUID();
  ctx.state.requestId = id;
  ctx.set('X-Request-Id', id);
  return id;
}

/** Takes the caller's `X-Request-Id` (or makes one) and echoes it on the response. Idempotent. */
export const requestIdMiddleware: Middleware = async (ctx: Context, next: Next) => {
  ensureRequestId(ctx);
  await next();
};
