import { InvalidRequestError, type RtcRole } from '@chat-app-server/core';
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { requiredBearer, tokenCaller } from '../../authenticate.js';
import { errorMiddleware } from '../../error-middleware.js';
import { parseQuery, readJsonObject } from '../../input.js';
import { requestIdMiddleware } from '../../request-id.js';
import type { HttpCore, ProfileSettings } from '../../routes.js';
import { DJANGO_ERRORS } from './errors.js';

const TOKEN_QUERY = ['channelName', 'publisherRole', 'userAccount'] as const;

/**
 * The Django sample server's API (`/app/user/*`, `GET /token`): its paths and bodies, real HTTP
 * statuses mirrored in `code`, errors as `{code, error, message}` (see {@link DJANGO_ERRORS}).
 */
export function djangoRoutes(router: Router, core: HttpCore, settings: ProfileSettings): void {
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(settings.logger, DJANGO_ERRORS)];
  const limit = settings.bodyLimitBytes;

  const register: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    await core.registerUser.execute({
      account: stringField(body, 'userAccount'),
      password: stringField(body, 'userPassword'),
      clientAddress: ctx.ip,
    });
    ok(ctx, {});
  };

  const login: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    const { principal, chatToken } = await core.loginUser.execute({
      account: stringField(body, 'userAccount'),
      password: stringField(body, 'userPassword'),
      clientAddress: ctx.ip,
    });
    ok(ctx, {
      accessToken: chatToken.token,
      expireTimestamp: chatToken.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    });
  };

  const token: Middleware = async (ctx) => {
    const query = parseQuery(ctx.querystring, TOKEN_QUERY);
    const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount);
    const issued = await core.issueRtcToken.execute({
      principal,
      channelName: query.channelName ?? '',
      role: roleOf(query.publisherRole),
    });
    ok(ctx, {
      accessToken: issued.token,
      expireTimestamp: issued.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    });
  };

  const renew: Middleware = async (ctx) => {
    const { principal, chatToken } = await core.renewToken.execute({ chatToken: requiredBearer(ctx) });
    ok(ctx, { accessToken: chatToken.token, expireTimestamp: chatToken.expireTimestamp, chatUserName: principal.chatUsername });
  };

  router.post('/app/user/register', ...guard, register);
  router.post('/app/user/login', ...guard, login);
  router.get('/token', ...guard, token);
  router.post('/app/user/token/renew', ...guard, renew);
}

/** A success in the Django profile: `{code: 200, ...}`, never cached (it carries tokens). */
export function ok(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { code: 200, ...body };
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new InvalidRequestError(name, `${name} must be a string.`);
  return value;
}

function roleOf(publisherRole: string | undefined): RtcRole {
  if (publisherRole === undefined || publisherRole === 'false') return 'subscriber';
  if (publisherRole === 'true') return 'publisher';
  throw new InvalidRequestError('publisherRole', 'publisherRole must be true or false.');
}
