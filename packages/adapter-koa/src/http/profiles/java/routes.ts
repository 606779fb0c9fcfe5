import { AGORA_UID_MAX, ForbiddenError, InvalidRequestError, type ChannelMember, type Principal } from '@chat-app-server/core';
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { optionalCaller, requiredBearer, tokenCaller } from '../../authenticate.js';
import { errorMiddleware } from '../../error-middleware.js';
import { parseQuery, readJsonObject } from '../../input.js';
import { requestIdMiddleware } from '../../request-id.js';
import type { HttpCore, ProfileSettings } from '../../routes.js';
import { JAVA_ERRORS } from './errors.js';

/** Path prefixes of this profile: the app renders their 404/405 in the Java demo's envelope. */
export const JAVA_PATH_PREFIXES: readonly string[] = ['/app/chat/', '/token/rtc/', '/agora/channel/'];

const TOKEN_QUERY = ['userAccount'] as const;
const MAPPER_QUERY = ['channelName'] as const;

/**
 * The API of Agora's Java demo server (`chat-app-demo-server`), which Agora's sample apps call:
 * `/app/chat/user/register|login`, its RTC token endpoints and channel mapper, answering
 * `{code: "RES_OK", statusCode: 200, ...}` and errors as `{code, statusCode, errorInfo}` (see
 * {@link JAVA_ERRORS}), with no field the demo does not send.
 */
export function javaRoutes(router: Router, core: HttpCore, settings: ProfileSettings): void {
  const guard: Middleware[] = [requestIdMiddleware, errorMiddleware(settings.logger, JAVA_ERRORS)];
  const limit = settings.bodyLimitBytes;

  const register: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    await core.registerUser.execute({
      account: requiredString(body, 'userAccount'),
      password: requiredString(body, 'userPassword'),
      clientAddress: ctx.ip,
    });
    ok(ctx, {});
  };

  const login: Middleware = async (ctx) => {
    const body = await readJsonObject(ctx, limit);
    const { principal, chatToken } = await core.loginUser.execute({
      account: requiredString(body, 'userAccount'),
      password: requiredString(body, 'userPassword'),
      clientAddress: ctx.ip,
    });
    ok(ctx, {
      accessToken: chatToken.token,
      token: chatToken.token,
      expireTimestamp: chatToken.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    });
  };

  // The demo's tokens carry every RTC publishing privilege: its clients join as broadcasters.
  const rtcToken = async (ctx: Context, principal: Principal, agoraUid: number | undefined) => {
    const issued = await core.issueRtcToken.execute({
      principal, channelName: ctx.params.channelName ?? '', role: 'publisher', ...(agoraUid === undefined ? {} : { agoraUid }),
    });
    ok(ctx, { accessToken: issued.token, expireTimestamp: issued.expireTimestamp, agoraUid: String(agoraUid ?? principal.agoraUid) });
  };

  const tokenForUid: Middleware = async (ctx) => {
    const agoraUid = parseAgoraUid(ctx.params.agoraUid);
    const query = parseQuery(ctx.querystring, TOKEN_QUERY);
    const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount, { acceptChatUsername: true });
    if (settings.tokenAuth === 'legacy') {
      // As the demo did: the client picks the uid (anyone may ask for any account's tokens in this mode anyway).
      await rtcToken(ctx, principal, agoraUid);
      return;
    }
    if (agoraUid !== principal.agoraUid) throw new ForbiddenError("agoraUid is not the authenticated user's: use the agoraUid from login.");
    await rtcToken(ctx, principal, undefined);
  };

  const tokenForCaller: Middleware = async (ctx) => {
    const query = parseQuery(ctx.querystring, TOKEN_QUERY);
    const { principal } = await tokenCaller(ctx, core, settings.tokenAuth, query.userAccount, { acceptChatUsername: true });
    await rtcToken(ctx, principal, undefined);
  };

  const mapper: Middleware = async (ctx) => {
    const query = parseQuery(ctx.querystring, MAPPER_QUERY);
    if (settings.tokenAuth === 'legacy') await optionalCaller(ctx, core);
    else await core.verifyChatToken.execute(requiredBearer(ctx));
    const channelName = query.channelName ?? '';
    const members = await core.listChannelMembers.execute({ channelName });
    ok(ctx, { channelName, result: mapperResult(members) });
  };

  router.post('/app/chat/user/register', ...guard, register);
  router.post('/app/chat/user/login', ...guard, login);
  router.get('/token/rtc/channel/:channelName/agorauid/:agoraUid', ...guard, tokenForUid);
  router.get('/app/chat/token/rtc/channel/:channelName/agorauid/:agoraUid', ...guard, tokenForUid);
  router.get('/app/chat/token/rtc/channel/:channelName', ...guard, tokenForCaller);
  router.get('/agora/channel/mapper', ...guard, mapper);
  router.get('/app/chat/agora/channel/mapper', ...guard, mapper);
}

/** A success in the Java profile: `{code: "RES_OK", statusCode: 200, ...}`, never cached (it carries tokens). */
function ok(ctx: Context, body: Record<string, unknown>): void {
  ctx.status = 200;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { code: 'RES_OK', statusCode: 200, ...body };
}

// The demo validated with @NotEmpty: "userAccount cannot be empty".
function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw new InvalidRequestError(name, `${name} cannot be empty.`);
  if (typeof value !== 'string') throw new InvalidRequestError(name, `${name} must be a string.`);
  return value;
}

const DECIMAL_UID = /^[0-9]{1,10}$/;

function parseAgoraUid(raw: string | undefined): number {
  const uid = raw !== undefined && DECIMAL_UID.test(raw) ? Number(raw) : 0;
  if (uid < 1 || uid > AGORA_UID_MAX) throw new InvalidRequestError('agoraUid', `agoraUid must be an integer in 1..${AGORA_UID_MAX}.`);
  return uid;
}

function mapperResult(members: readonly ChannelMember[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const m of members) result[String(m.agoraUid)] = m.chatUsername;
  return result;
}
