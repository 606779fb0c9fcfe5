import { Type } from '@sinclair/typebox';
import { strings, type ProfileContract, type RouteContract } from '../../contract.js';
import { AccessToken, AgoraUid, ChannelName, ChatUserName, ExpireTimestamp, UserAccount, UserPassword } from '../../schemas/common.js';
import { JAVA_ERRORS, JAVA_RESPONSES } from './errors.js';

const RES_CODES = [...new Set(Object.values(JAVA_RESPONSES).map(([, code]) => code))];

/** The Java demo server's profile: `{code: "RES_OK", statusCode: 200, ...}`, errors `{code, statusCode, errorInfo}`. */
export const JAVA_PROFILE: ProfileContract = {
  tag: 'java',
  description:
    "The API of Agora's Java demo server (`chat-app-demo-server`), which Agora's sample apps call: successes are " +
    '`{code: "RES_OK", statusCode: 200, ...}` with no field the demo does not send, errors `{code: "RES_...", statusCode: <status>, errorInfo}`.',
  errors: JAVA_ERRORS,
  errorBody: Type.Object({
    code: Type.Union(RES_CODES.map((c) => Type.Literal(c)), { description: "The Java demo's name of the outcome (`ResCode`)." }),
    statusCode: Type.Integer({ description: 'The HTTP status.', minimum: 400, maximum: 599 }),
    errorInfo: Type.String({ description: 'For humans; names the field at fault.', minLength: 1 }),
  }, { additionalProperties: false }),
  // The demo validated with @NotEmpty: "userAccount cannot be empty".
  fieldMessage: (field, problem) => (problem === 'type' ? `${field} must be a string.` : `${field} cannot be empty.`),
};

const ResOk = { code: Type.Literal('RES_OK'), statusCode: Type.Literal(200) };
const Credentials = Type.Object({ userAccount: UserAccount, userPassword: UserPassword });
const credentialsExample = { userAccount: 'jack', userPassword: 'correct horse battery' };
const TOKEN_EXAMPLE = '007eJxTYGBgkPH8Pr2f2YAAAAAA';
const UserAccountQuery = Type.Optional(Type.String({
  description: 'Sent by the demo\'s clients. With a bearer it must name the caller (its account or chat user name); required under TOKEN_AUTH=legacy without one.',
}));
const RtcToken = Type.Object({ ...ResOk, accessToken: AccessToken, expireTimestamp: ExpireTimestamp, agoraUid: AgoraUid });
const rtcExample = { code: 'RES_OK' as const, statusCode: 200 as const, accessToken: TOKEN_EXAMPLE, expireTimestamp: 1767312000000, agoraUid: '1316722407' };
const RTC_ERRORS = ['invalid_request', 'forbidden', 'database_unavailable'] as const;

const tokenForUid = (path: string, operationId: string) => ({
  method: 'GET',
  path,
  operationId,
  summary: 'A token with chat and RTC publishing privileges for one channel and uid',
  description: "By default the uid must be the caller's own agoraUid (403 otherwise). Under TOKEN_AUTH=legacy, as the demo did, any uid, and no bearer needed with `userAccount`.",
  auth: 'bearer-or-legacy',
  params: strings({
    channelName: ChannelName,
    agoraUid: Type.String({ description: 'The RTC uid, a decimal integer in 1..4294967295.', pattern: '^[0-9]{1,10}$' }),
  }),
  query: strings({ userAccount: UserAccountQuery }),
  response: RtcToken,
  responseExample: rtcExample,
  errors: RTC_ERRORS,
}) as const satisfies RouteContract;

const mapper = (path: string, operationId: string) => ({
  method: 'GET',
  path,
  operationId,
  summary: 'Who holds an unexpired RTC token for a channel: uid -> chat user name',
  description: 'Tokens from every token endpoint of both profiles, on every instance sharing the database; at most 1000 per channel.',
  auth: 'bearer-or-legacy',
  query: strings({ channelName: ChannelName }),
  response: Type.Object({
    ...ResOk,
    channelName: Type.String(),
    result: Type.Record(Type.String({ pattern: '^[1-9][0-9]{0,9}$' }), Type.String(), { description: 'agoraUid -> chat user name.' }),
  }),
  responseExample: { code: 'RES_OK' as const, statusCode: 200 as const, channelName: 'lobby', result: { 1316722407: 'jack' } },
  errors: ['invalid_request', 'database_unavailable'],
}) as const satisfies RouteContract;

export const JAVA_ROUTES = {
  register: {
    method: 'POST',
    path: '/app/chat/user/register',
    operationId: 'javaRegister',
    summary: 'Register an account and its Agora Chat user',
    auth: 'none',
    body: Credentials,
    requestExample: credentialsExample,
    response: Type.Object(ResOk),
    responseExample: { code: 'RES_OK', statusCode: 200 },
    errors: ['invalid_request', 'account_exists', 'chat_username_taken', 'too_many_attempts', 'server_busy', 'chat_service_unavailable', 'chat_service_misconfigured', 'database_unavailable'],
  },
  login: {
    method: 'POST',
    path: '/app/chat/user/login',
    operationId: 'javaLogin',
    summary: 'Log in: a chat user token (twice, as `accessToken` and `token`) and the persistent RTC uid',
    auth: 'none',
    body: Credentials,
    requestExample: credentialsExample,
    response: Type.Object({ ...ResOk, accessToken: AccessToken, token: AccessToken, expireTimestamp: ExpireTimestamp, chatUserName: ChatUserName, agoraUid: AgoraUid }),
    responseExample: {
      code: 'RES_OK', statusCode: 200, accessToken: TOKEN_EXAMPLE, token: TOKEN_EXAMPLE, expireTimestamp: 1767312000000, chatUserName: 'jack', agoraUid: '1316722407',
    },
    errors: ['invalid_request', 'invalid_credentials', 'too_many_attempts', 'server_busy', 'chat_service_unavailable', 'chat_service_misconfigured', 'database_unavailable'],
  },
  rtcToken: tokenForUid('/token/rtc/channel/:channelName/agorauid/:agoraUid', 'javaRtcToken'),
  chatRtcToken: tokenForUid('/app/chat/token/rtc/channel/:channelName/agorauid/:agoraUid', 'javaChatRtcToken'),
  chatRtcTokenOwnUid: {
    method: 'GET',
    path: '/app/chat/token/rtc/channel/:channelName',
    operationId: 'javaChatRtcTokenOwnUid',
    summary: "A token with chat and RTC publishing privileges for one channel and the caller's agoraUid",
    auth: 'bearer-or-legacy',
    params: strings({ channelName: ChannelName }),
    query: strings({ userAccount: UserAccountQuery }),
    response: RtcToken,
    responseExample: rtcExample,
    errors: RTC_ERRORS,
  },
  mapper: mapper('/agora/channel/mapper', 'javaChannelMapper'),
  chatMapper: mapper('/app/chat/agora/channel/mapper', 'javaChatChannelMapper'),
} as const satisfies Record<string, RouteContract>;
