import { hasCode, type Core } from '@chat-app-server/core';
import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { errorMiddleware } from './error-middleware.js';
import { HttpError } from './error-status.js';
import { DEFAULT_BODY_LIMIT_BYTES } from './input.js';
import type { HttpLogger } from './logger.js';
import { DEFAULT_REFUSAL_PAUSE_MS, serve, type ProfileRoutes, type RouteContract } from './contract.js';
import { openApiDocument } from './openapi.js';
import { DJANGO_PROFILE, DJANGO_ROUTES } from './profiles/django/contract.js';
import { djangoRoutes, ok } from './profiles/django/routes.js';
import { JAVA_PROFILE, JAVA_ROUTES } from './profiles/java/contract.js';
import { javaRoutes } from './profiles/java/routes.js';
import { SERVICE_PROFILE, SERVICE_ROUTES } from './service-contract.js';
import { requestIdMiddleware } from './request-id.js';

/** The use cases the HTTP API calls (a whole {@link Core} fits). */
export type HttpCore = Pick<
  Core,
  | 'registerUser' | 'loginUser' | 'verifyChatToken' | 'issueRtcToken' | 'renewToken' | 'findActiveUser' | 'listChannelMembers'
  | 'changePassword' | 'revokeTokens' | 'deleteAccount'
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
  /**
   * Readiness check for `GET /readyz` (e.g. a database ping): rejects or returns `false` when not ready.
   * A `chat_service_misconfigured` rejection answers 503 with that code. A plain object of strings
   * (e.g. `{ database: 'ok', chatService: 'unreachable' }`) is shown as `checks` in a ready answer.
   */
  readonly readiness?: () => Promise<unknown>;
  /** @default 2000 */
  readonly readinessTimeoutMs?: number;
  /** @default 16384 */
  readonly bodyLimitBytes?: number;
  /**
   * How long a login or registration refused at the door (503 `server_busy`, or 429 for an address
   * known to be over its registration limit) is held before the answer goes out, at most its
   * `Retry-After`. A flood whose clients resend at once then sends one request per connection per
   * pause instead of thousands per second, so its refusals stop eating the CPU that hashing and
   * `/token` need. Refusals of clients within their fair share are rare: they wait for a hash instead.
   * 0 answers at once.
   * @default 1000
   */
  readonly refusalPauseMs?: number;
  /** Where unexpected errors go (with the request id); without one they go to Koa's `app.emit('error')`. */
  readonly logger?: HttpLogger;
}

/** What every API profile's routes are built with. */
export interface ProfileSettings {
  readonly tokenAuth: TokenAuth;
  readonly bodyLimitBytes: number;
  readonly refusalPauseMs: number;
  readonly logger: HttpLogger | undefined;
}

/**
 * The chat-app-server HTTP API as a @koa/router router, to mount in any Koa app: the Django sample
 * server's profile (`profiles/django`), the Java demo server's (`profiles/java`) and the service endpoints. Each route renders its own errors in its
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
    refusalPauseMs: options.refusalPauseMs ?? DEFAULT_REFUSAL_PAUSE_MS,
    logger: options.logger,
  };
  const router = new Router();
  djangoRoutes(router, core, settings);
  javaRoutes(router, core, settings);
  serviceRoutes(router, options, settings);
  return router;
}

/** Every route {@link createRouter} serves, by profile: what `/openapi.json` documents. */
export const API_CONTRACT: readonly ProfileRoutes[] = [
  { profile: DJANGO_PROFILE, routes: Object.values(DJANGO_ROUTES) },
  { profile: JAVA_PROFILE, routes: Object.values<RouteContract>(JAVA_ROUTES) },
  { profile: SERVICE_PROFILE, routes: Object.values<RouteContract>(SERVICE_ROUTES) },
];

let document: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document of the API, as `GET /openapi.json` serves it. */
export function apiDocument(): Record<string, unknown> {
  document ??= openApiDocument(API_CONTRACT, { title: 'chat-app-server', version: '0.1.0' });
  return document;
}

function serviceRoutes(router: Router, options: RouterOptions, settings: ProfileSettings): void {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(options.logger, SERVICE_PROFILE.errors)];
  const R = SERVICE_ROUTES;
  const route = <C extends RouteContract>(contract: C, handler: Parameters<typeof serve<C>>[5]) =>
    serve(router, contract, SERVICE_PROFILE, guard, settings.bodyLimitBytes, handler);

  route(R.healthz, async (ctx) => ok(ctx, R.healthz, { code: 200, status: 'ok' }));

  route(R.openapi, async (ctx) => {
    ctx.status = 200;
    ctx.body = apiDocument();
  });

  route(R.readyz, async (ctx) => {
    let checks: unknown;
    if (options.readiness) {
      let ready: boolean;
      try {
        checks = await withTimeout(options.readiness(), readinessTimeoutMs);
        ready = checks !== false;
      } catch (err) {
        if (hasCode(err, 'chat_service_misconfigured')) {
          // Not a transient outage: keep this instance out of rotation until an operator fixes AGORA_*.
          ctx.status = 503;
          ctx.set('Retry-After', '30');
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { code: 503, error: err.code, message: err.message };
          return;
        }
        ready = false;
      }
      if (!ready) throw new HttpError('not_ready', 'The server is not ready (database unavailable).', { 'Retry-After': '5' });
    }
    ok(ctx, R.readyz, isStringRecord(checks) ? { code: 200, status: 'ready', checks } : { code: 200, status: 'ready' });
  });
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness check timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
