import type { IssuedToken, Principal, RtcRole } from '@chat-app-server/core';
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { requiredBearer, tokenCaller } from '../../authenticate.js';
import { admissionOf, earlyAdmission, serve, type Admission, type RouteContract } from '../../contract.js';
import { errorMiddleware } from '../../error-middleware.js';
import { requestIdMiddleware } from '../../request-id.js';
import type { HttpCore, ProfileSettings } from '../../routes.js';
import { DJANGO_PROFILE, DJANGO_ROUTES } from './contract.js';
import type { Static } from '@sinclair/typebox';

/**
 * The Django sample server's API (`/app/user/*`, `GET /token`): its paths and bodies, real HTTP
 * statuses mirrored in `code`, errors as `{code, error, message}` (see {@link DJANGO_PROFILE}).
 */
export function djangoRoutes(router: Router, core: HttpCore, settings: ProfileSettings): void {
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(settings.logger, DJANGO_PROFILE.errors)];
  const route = <C extends RouteContract>(contract: C, handler: Parameters<typeof serve<C>>[5], admit?: (ctx: Context) => Promise<Admission | undefined>) =>
    serve(router, contract, DJANGO_PROFILE, guard, settings.bodyLimitBytes, handler, admit);
  const admitRegister = earlyAdmission(core.registerUser, settings.refusalPauseMs);
  const admitLogin = earlyAdmission(core.loginUser, settings.refusalPauseMs);
  const R = DJANGO_ROUTES;

  route(R.register, async (ctx, { body }) => {
    await core.registerUser.execute({ account: body.userAccount, password: body.userPassword, clientAddress: ctx.ip, admission: admissionOf(ctx) });
    ok(ctx, R.register, { code: 200 });
  }, admitRegister);

  route(R.login, async (ctx, { body }) => {
    const { principal, chatToken } = await core.loginUser.execute({ account: body.userAccount, password: body.userPassword, clientAddress: ctx.ip, admission: admissionOf(ctx) });
    ok(ctx, R.login, loggedIn(principal, chatToken));
  }, admitLogin);

  route(R.token, async (ctx, { query }) => {
    const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount);
    const role: RtcRole = query.publisherRole === 'true' ? 'publisher' : 'subscriber';
    const issued = await core.issueRtcToken.execute({ principal, channelName: query.channelName, role });
    ok(ctx, R.token, {
      code: 200,
      accessToken: issued.token,
      expireTimestamp: issued.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    });
  });

  route(R.renew, async (ctx) => {
    const { principal, chatToken } = await core.renewToken.execute({ chatToken: requiredBearer(ctx) });
    ok(ctx, R.renew, { code: 200, accessToken: chatToken.token, expireTimestamp: chatToken.expireTimestamp, chatUserName: principal.chatUsername });
  });

  // Account lifecycle: a password change, a logout and a deletion revoke every bearer issued before.
  route(R.changePassword, async (ctx, { body }) => {
    const changed = await core.changePassword.execute({
      chatToken: requiredBearer(ctx), currentPassword: body.userPassword, newPassword: body.newPassword, clientAddress: ctx.ip,
    });
    ok(ctx, R.changePassword, loggedIn(changed.principal, changed.chatToken));
  });

  route(R.logout, async (ctx) => {
    await core.revokeTokens.execute({ chatToken: requiredBearer(ctx) });
    ok(ctx, R.logout, { code: 200 });
  });

  route(R.deleteAccount, async (ctx, { body }) => {
    await core.deleteAccount.execute({ chatToken: requiredBearer(ctx), password: body.userPassword, clientAddress: ctx.ip });
    ok(ctx, R.deleteAccount, { code: 200 });
  });
}

/** What login answers, and a password change too. */
function loggedIn(principal: Principal, chatToken: IssuedToken) {
  return {
    code: 200 as const,
    accessToken: chatToken.token,
    expireTimestamp: chatToken.expireTimestamp,
    chatUserName: principal.chatUsername,
    agoraUid: String(principal.agoraUid),
  };
}

/** A success: the body its contract describes, never cached (it carries tokens). */
export function ok<C extends RouteContract>(ctx: Context, _contract: C, body: Static<C['response']>): void {
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}
