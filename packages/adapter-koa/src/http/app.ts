import cors from '@koa/cors';
import Koa, { type Context, type Middleware, type Next } from 'koa';
import { errorMiddleware } from './error-middleware.js';
import type { ErrorTable } from './error-response.js';
import { DJANGO_ERRORS } from './profiles/django/errors.js';
import { JAVA_ERRORS } from './profiles/java/errors.js';
import { JAVA_PATH_PREFIXES } from './profiles/java/routes.js';
import { HttpError } from './error-status.js';
import { ensureRequestId, requestIdMiddleware } from './request-id.js';
import { createRouter, type HttpCore, type RouterOptions } from './routes.js';

/** Options of {@link createApp}: the router's plus the app-wide ones. */
export interface AppOptions extends RouterOptions {
  /**
   * Origins allowed to call the API from a browser (exact `scheme://host[:port]`, or `*`).
   * @default none: no CORS headers, browsers block cross-origin calls
   */
  readonly corsOrigins?: readonly string[];
  /**
   * Behind reverse proxies that append the client address to `X-Forwarded-For` (nginx
   * `$proxy_add_x_forwarded_for`): how many of them. The client address is then the entry that the
   * outermost trusted proxy added, the N-th from the right; entries further left are written by the
   * client and ignored. `true` means one proxy. Also trusts `X-Forwarded-Proto` and `-Host`.
   * @default false: the socket's address
   */
  readonly proxy?: boolean | number;
  /** Called once per answered request, e.g. to feed metrics (see {@link ObservedRequest}). */
  readonly observeRequest?: (request: ObservedRequest) => void;
}

/** One answered request, as {@link AppOptions.observeRequest} sees it. */
export interface ObservedRequest {
  readonly method: string;
  /** The route's path pattern (`/app/user/login`), or `unmatched` for paths no route serves: a bounded set. */
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
}

/**
 * A Koa app serving the chat-app-server HTTP API: request ids, access log, the error policy, CORS,
 * body limits, the routes, 404/405 as JSON. Serve it with `http.createServer(app.callback())`.
 * @example
 * const app = createApp(core, { corsOrigins: ['https://app.example.com'], logger: pino() });
 * http.createServer(app.callback()).listen(8000);
 */
export function createApp(core: HttpCore, options: AppOptions = {}): Koa {
  const hops = options.proxy === true ? 1 : options.proxy || 0;
  if (!Number.isInteger(hops) || hops < 0) throw new TypeError(`proxy must be a boolean or a whole number of proxies, got ${hops}.`);
  // maxIpsCount keeps the rightmost `hops` entries, and ctx.ip is the first of them.
  const app = new Koa(hops > 0 ? { proxy: true, maxIpsCount: hops } : { proxy: false });
  const { logger } = options;
  // Koa reports here what happens outside the middleware chain, such as a socket that Node closed
  // because the client was too slow (REQUEST_TIMEOUT_SECONDS): a log line, not a stack on stderr.
  if (logger) app.on('error', (err: Error, ctx?: Context) => logger.warn({ err, ...(ctx ? { requestId: ensureRequestId(ctx) } : {}) }, 'request ended early'));
  app.use(requestIdMiddleware);
  if (logger || options.observeRequest) app.use(accessLog(logger, options.observeRequest));
  app.use(errorMiddleware(logger, errorTableOf));
  app.use(notFoundAsJson);
  const origins = options.corsOrigins ?? [];
  if (origins.length > 0) app.use(corsFor(origins));
  const router = createRouter(core, options);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

// Outside the routes (404, 405, body limits), errors on the Java demo's paths still get its envelope.
function errorTableOf(ctx: Context): ErrorTable {
  return JAVA_PATH_PREFIXES.some((prefix) => ctx.path.startsWith(prefix)) ? JAVA_ERRORS : DJANGO_ERRORS;
}

// Router and Koa leave 404/405/501 with an empty body; give them the error body every other error has.
async function notFoundAsJson(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 404) throw new HttpError('not_found', `No route for ${ctx.method} ${ctx.path}.`);
  if (ctx.status === 405) throw new HttpError('method_not_allowed', `${ctx.method} is not allowed here; see the Allow header.`);
  if (ctx.status === 501) throw new HttpError('not_implemented', `${ctx.method} is not supported.`);
}

function corsFor(origins: readonly string[]): Middleware {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return cors({
    origin: (ctx: Context) => {
      const origin = ctx.get('Origin');
      if (any) return '*';
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Content-Type', 'Authorization', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
}

function accessLog(logger: AppOptions['logger'], observe: AppOptions['observeRequest']): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The path only: no query (account names), no headers (Authorization), no body (passwords).
      logger?.info({ requestId: ensureRequestId(ctx), method: ctx.method, path: ctx.path, status: ctx.status, ms }, 'request');
      if (observe) {
        const matched: unknown = (ctx as { _matchedRoute?: unknown })._matchedRoute;
        observe({ method: ctx.method, route: typeof matched === 'string' ? matched : 'unmatched', status: ctx.status, durationMs: ms });
      }
    }
  };
}
