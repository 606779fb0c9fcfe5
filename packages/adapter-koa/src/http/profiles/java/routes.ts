import { AGORA_UID_MAX, ForbiddenError, InvalidRequestError, type ChannelMember, type Principal } from '@chat-app-server/core';
import type { Static } from '@sinclair/typebox';
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { optionalCaller, requiredBearer, tokenCaller } from '../../authenticate.js';
import { admissionOf, earlyAdmission, serve, type Admission, type RouteContract } from '../../contract.js';
import { errorMiddleware } from '../../error-middleware.js';
import { requestIdMiddleware } from '../../request-id.js';
import type { HttpCore, ProfileSettings } from '../../routes.js';
import { JAVA_PROFILE, JAVA_ROUTES } from './contract.js';

/** Path prefixes of this profile: the app renders their 404/405 in the Java demo's envelope. */
export const JAVA_PATH_PREFIXES: readonly string[] = ['/app/chat/', '/token/rtc/', '/agora/channel/'];

/**
 * The API of Agora's Java demo server (`chat-app-demo-server`), which Agora's sample apps call:
 * `/app/chat/user/register|login`, its RTC token endpoints and channel mapper, answering
 * `{code: "RES_OK", statusCode: 200, ...}` and errors as `{code, statusCode, errorInfo}` (see
 * {@link JAVA_PROFILE}), with no field the demo does not send.
 */
export function javaRoutes(router: Router, core: HttpCore, settings: ProfileSettings): void {
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(settings.logger, JAVA_PROFILE.errors)];
  const route = <C extends RouteContract>(contract: C, handler: Parameters<typeof serve<C>>[5], admit?: (ctx: Context) => Promise<Admission | undefined>) =>
    serve(router, contract, JAVA_PROFILE, guard, settings.bodyLimitBytes, handler, admit);
  const admitRegister = earlyAdmission(core.registerUser, settings.refusalPauseMs);
  const admitLogin = earlyAdmission(core.loginUser, settings.refusalPauseMs);
  const R = JAVA_ROUTES;

  route(R.register, async (ctx, { body }) => {
    await core.registerUser.execute({ account: body.userAccount, password: body.userPassword, clientAddress: ctx.ip, admission: admissionOf(ctx) });
    ok(ctx, R.register, { code: 'RES_OK', statusCode: 200 });
  }, admitRegister);

  route(R.login, async (ctx, { body }) => {
    const { principal, chatToken } = await core.loginUser.execute({ account: body.userAccount, password: body.userPassword, clientAddress: ctx.ip, admission: admissionOf(ctx) });
    ok(ctx, R.login, {
      code: 'RES_OK',
      statusCode: 200,
      accessToken: chatToken.token,
      token: chatToken.token,
      expireTimestamp: chatToken.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    });
  }, admitLogin);

  // The demo's tokens carry every RTC publishing privilege: its clients join as broadcasters.
  const rtcToken = async (ctx: Context, contract: typeof R.rtcToken | typeof R.chatRtcTokenOwnUid, principal: Principal, channelName: string, agoraUid?: number) => {
    const issued = await core.issueRtcToken.execute({ principal, channelName, role: 'publisher', ...(agoraUid === undefined ? {} : { agoraUid }) });
    ok(ctx, contract, {
      code: 'RES_OK', statusCode: 200, accessToken: issued.token, expireTimestamp: issued.expireTimestamp, agoraUid: String(agoraUid ?? principal.agoraUid),
    });
  };

  for (const contract of [R.rtcToken, R.chatRtcToken]) {
    route(contract, async (ctx, { params, query }) => {
      const agoraUid = parseAgoraUid(params.agoraUid);
      const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount, { acceptChatUsername: true });
      // Under TOKEN_AUTH=legacy, as the demo did, the client picks the uid (anyone may get any account's tokens then anyway).
      if (settings.tokenAuth === 'legacy') return rtcToken(ctx, contract, principal, params.channelName, agoraUid);
      if (agoraUid !== principal.agoraUid) throw new ForbiddenError("agoraUid is not the authenticated user's: use the agoraUid from login.");
      return rtcToken(ctx, contract, principal, params.channelName);
    });
  }

  route(R.chatRtcTokenOwnUid, async (ctx, { params, query }) => {
    const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount, { acceptChatUsername: true });
    await rtcToken(ctx, R.chatRtcTokenOwnUid, principal, params.channelName);
  });

  for (const contract of [R.mapper, R.chatMapper]) {
    route(contract, async (ctx, { query }) => {
      if (settings.tokenAuth === 'legacy') await optionalCaller(ctx, core);
      else await core.verifyChatToken.execute(requiredBearer(ctx));
      const members = await core.listChannelMembers.execute({ channelName: query.channelName });
      ok(ctx, contract, { code: 'RES_OK', statusCode: 200, channelName: query.channelName, result: mapperResult(members) });
    });
  }
}

/** A success: the body its contract describes, never cached (it carries tokens). */
function ok<C extends RouteContract>(ctx: Context, _contract: C, body: Static<C['response']>): void {
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

function parseAgoraUid(raw: string): number {
  const uid = Number(raw);
  if (!(uid >= 1 && uid <= AGORA_UID_MAX)) throw new InvalidRequestError('agoraUid', `agoraUid must be an integer in 1..${AGORA_UID_MAX}.`);
  return uid;
}

function mapperResult(members: readonly ChannelMember[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const m of members) result[String(m.agoraUid)] = m.chatUsername;
  return result;
}
