import { hasCode, InvalidRequestError, UnauthenticatedError, type Core, type Principal } from '@chat-app-server/core';
import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { errorMiddleware } from './error-middleware.js';
import { HttpError } from './error-status.js';
import { bearerTokenOf, DEFAULT_BODY_LIMIT_BYTES, parseQuery, readJsonObject } from './input.js';
import type { HttpLogger } from './logger.js';
import { requestIdMiddleware } from './request-id.js';

/** The use cases the HTTP API calls (a whole {@link Core} fits). */
export type HttpCore = Pick<Core, 'registerUser' | 'loginUser' | 'verifyChatToken' | 'issueRtcToken' | 'renewToken'>;

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /**
   * How `GET /token` authenticates. `bearer`: a chat user token from login in `Authorization: Bearer`.
   * `legacy`: like the sample server, a bearer is optional and without one the token is issued for the
   * `userAccount` in the query, unauthenticated. Anyone who knows an account name then gets tokens
   * for it: use only while old clients migrate. Requires {@link RouterOptions.findActiveUser}.
   * @default 'bearer'
   */
  readonly tokenAuth?: 'bearer' | 'legacy';
  /** Legacy mode only: the active user of an account, or `undefined`. */
  readonly findActiveUser?: (userAccount: string) => Promise<Principal | undefined>;
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
  /** Where unexpected errors go (with the request id); without one they go to Koa's `app.emit('error')`. */
  readonly logger?: HttpLogger;
}

const TOKEN_QUERY = ['channelName', 'publisherRole', 'userAccount'] as const;

/**
 * The chat-app-server HTTP API as a @koa/router router, to mount in any Koa app. Each route renders
 * its own errors as `{code, error, message}` with the mapped status, so it behaves the same inside an
 * app that has a different error policy.
 * @example
 * const router = createRouter(core, { logger });
 * app.use(router.routes()).use(router.allowedMethods());
 */
export function createRouter(core: HttpCore, options: RouterOptions = {}): Router {
  const tokenAuth = options.tokenAuth ?? 'bearer';
  if (tokenAuth !== 'bearer' && tokenAuth !== 'legacy') throw new TypeError(`tokenAuth must be 'bearer' or 'legacy'.`);
  if (tokenAuth === 'legacy' && !options.findActiveUser) {
    throw new TypeError("tokenAuth 'legacy' needs the findActiveUser option.");
  }
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(options.logger)];
  const router = new Router();

  const register: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    await core.registerUser.execute({ userAccount: body.userAccount, userPassword: body.userPassword });
    ok(ctx, {});
  };

  const login: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    const out = await core.loginUser.execute({
      userAccount: body.userAccount,
      userPassword: body.userPassword,
      clientAddress: ctx.ip,
    });
    ok(ctx, {
      accessToken: out.accessToken,
      expireTimestamp: out.expireTimestamp,
      chatUserName: out.chatUserName,
      agoraUid: out.agoraUid,
    });
  };

  const token: Middleware = async (ctx) => {
    const query = parseQuery(ctx.querystring, TOKEN_QUERY);
    const bearer = bearerTokenOf(ctx);
    let principal: Principal;
    if (bearer !== undefined) {
      principal = await core.verifyChatToken.execute(bearer);
    } else if (tokenAuth === 'legacy') {
      principal = await legacyPrincipal(query.userAccount, options.findActiveUser!);
    } else {
      throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>" from login.');
    }
    const out = await core.issueRtcToken.execute({
      principal,
      channelName: query.channelName,
      publisherRole: query.publisherRole,
      userAccount: query.userAccount,
    });
    ok(ctx, {
      accessToken: out.accessToken,
      expireTimestamp: out.expireTimestamp,
      chatUserName: out.chatUserName,
      agoraUid: out.agoraUid,
    });
  };

  const renew: Middleware = async (ctx) => {
    const bearer = bearerTokenOf(ctx);
    if (bearer === undefined) throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>".');
    const out = await core.renewToken.execute(bearer);
    ok(ctx, { accessToken: out.accessToken, expireTimestamp: out.expireTimestamp, chatUserName: out.chatUserName });
  };

  const healthz: Middleware = async (ctx) => {
    ok(ctx, { status: 'ok' });
  };

  const readyz: Middleware = async (ctx) => {
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
    ok(ctx, isStringRecord(checks) ? { status: 'ready', checks } : { status: 'ready' });
  };

  router.post('/app/user/register', ...guard, register);
  router.post('/app/chat/user/register', ...guard, register);
  router.post('/app/user/login', ...guard, login);
  router.post('/app/chat/user/login', ...guard, login);
  router.get('/token', ...guard, token);
  router.post('/app/user/token/renew', ...guard, renew);
  router.get('/healthz', ...guard, healthz);
  router.get('/readyz', ...guard, readyz);
  return router;
}

async function legacyPrincipal(
  userAccount: string | undefined,
  findActiveUser: (userAccount: string) => Promise<Principal | undefined>,
): Promise<Principal> {
  if (userAccount === undefined || userAccount === '') {
    throw new InvalidRequestError('userAccount', 'userAccount is required without a bearer token.');
  }
  const principal = await findActiveUser(userAccount);
  if (!principal) throw new UnauthenticatedError('No active user has this userAccount.');
  return principal;
}

function ok(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  // Tokens must not end up in shared caches.
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { code: 200, ...body };
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
