import type { Core } from '@chat-app-server/core';
import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { errorMiddleware } from './error-middleware.js';
import { HttpError } from './error-status.js';
import { DEFAULT_BODY_LIMIT_BYTES } from './input.js';
import type { HttpLogger } from './logger.js';
import { djangoRoutes, ok } from './profiles/django/routes.js';
import { javaRoutes } from './profiles/java/routes.js';
import { requestIdMiddleware } from './request-id.js';

/** The use cases the HTTP API calls (a whole {@link Core} fits). */
export type HttpCore = Pick<
  Core, 'registerUser' | 'loginUser' | 'verifyChatToken' | 'issueRtcToken' | 'renewToken' | 'findActiveUser' | 'listChannelMembers'
>;

export type TokenAuth = 'bearer' | 'legacy';

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /**
   * How the token endpoints authenticate. `bearer`: a chat user token from login in
   * `Authorization: Bearer`. `legacy`: like the sample servers, a bearer is optional and without one
   * the token is issued for the `userAccount` in the query, unauthenticated. Anyone who knows an
   * account name then gets tokens for it: use only while old clients migrate.
   * @default 'bearer'
   */
  readonly tokenAuth?: TokenAuth;
  /** Readiness check for `GET /readyz` (e.g. a database ping): rejects or returns `false` when not ready. */
  readonly readiness?: () => Promise<unknown>;
  /** @default 2000 */
  readonly readinessTimeoutMs?: number;
  /** @default 16384 */
  readonly bodyLimitBytes?: number;
  /** Where unexpected errors go (with the request id); without one they go to Koa's `app.emit('error')`. */
  readonly logger?: HttpLogger;
}

/** What every API profile's routes are built with. */
export interface ProfileSettings {
  readonly tokenAuth: TokenAuth;
  readonly bodyLimitBytes: number;
  readonly logger: HttpLogger | undefined;
}

/**
 * The chat-app-server HTTP API as a @koa/router router, to mount in any Koa app: the Django sample
 * server's profile (`profiles/django`), the Java demo server's (`profiles/java`) and the health endpoints. Each route renders its own errors in its
 * profile's shape, so it behaves the same inside an app that has a different error policy.
 * @example
 * const router = createRouter(core, { logger });
 * app.use(router.routes()).use(router.allowedMethods());
 */
export function createRouter(core: HttpCore, options: RouterOptions = {}): Router {
  const tokenAuth = options.tokenAuth ?? 'bearer';
  if (tokenAuth !== 'bearer' && tokenAuth !== 'legacy') throw new TypeError(`tokenAuth must be 'bearer' or 'legacy'.`);
  const settings: ProfileSettings = {
    tokenAuth,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    logger: options.logger,
  };
  const router = new Router();
  djangoRoutes(router, core, settings);
  javaRoutes(router, core, settings);
  healthRoutes(router, options);
  return router;
}

function healthRoutes(router: Router, options: RouterOptions): void {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(options.logger)];

  const healthz: Middleware = async (ctx) => {
    ok(ctx, { status: 'ok' });
  };

  const readyz: Middleware = async (ctx) => {
    if (options.readiness) {
      let ready: boolean;
      try {
        ready = (await withTimeout(options.readiness(), readinessTimeoutMs)) !== false;
      } catch {
        ready = false;
      }
      if (!ready) throw new HttpError('not_ready', 'The server is not ready (database unavailable).', { 'Retry-After': '5' });
    }
    ok(ctx, { status: 'ready' });
  };

  router.get('/healthz', ...guard, healthz);
  router.get('/readyz', ...guard, readyz);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness check timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
