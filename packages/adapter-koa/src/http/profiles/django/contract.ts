import { Type } from '@sinclair/typebox';
import { HTTP_ERROR_CODES } from '../../error-status.js';
import { strings, type ProfileContract, type RouteContract } from '../../contract.js';
import { AccessToken, AgoraUid, ChannelName, ChatUserName, ExpireTimestamp, UserAccount, UserPassword } from '../../schemas/common.js';
import { DJANGO_ERRORS } from './errors.js';

const ERROR_CODES = [...Object.keys(DJANGO_ERRORS.status), ...Object.keys(HTTP_ERROR_CODES)];

/** The Django sample's profile: real statuses mirrored in `code`, errors as `{code, error, message}`. */
export const DJANGO_PROFILE: ProfileContract = {
  tag: 'django',
  description: "The API of Agora's Django sample server: successes are `{code: 200, ...}`, errors `{code: <status>, error, message}`.",
  errors: DJANGO_ERRORS,
  errorBody: Type.Object({
    code: Type.Integer({ description: 'The HTTP status, mirrored.', minimum: 400, maximum: 599 }),
    error: Type.Union(ERROR_CODES.map((c) => Type.Literal(c)), { description: 'A stable machine-readable code.' }),
    message: Type.String({ description: 'For humans; names the field at fault.', minLength: 1 }),
  }, { additionalProperties: false }),
  fieldMessage: (field, problem) => (problem === 'type' ? `${field} must be a string.` : `${field} is required.`),
};

const Credentials = Type.Object({ userAccount: UserAccount, userPassword: UserPassword });
const credentialsExample = { userAccount: 'jack', userPassword: 'correct horse battery' };
const Ok = Type.Literal(200, { description: 'Always 200 on success.' });
const TOKEN = { accessToken: AccessToken, expireTimestamp: ExpireTimestamp, chatUserName: ChatUserName };
const tokenExample = { code: 200 as const, accessToken: '007eJxTYGBgkPH8Pr2f2YAAAAAA', expireTimestamp: 1767312000000, chatUserName: 'jack' };

const register = (path: string, operationId: string) => ({
  method: 'POST',
  path,
  operationId,
  summary: 'Register an account and its Agora Chat user',
  description: 'Creates the account and its chat user (the chat password is random and never leaves the server).',
  auth: 'none',
  body: Credentials,
  requestExample: credentialsExample,
  response: Type.Object({ code: Ok }),
  responseExample: { code: 200 },
  errors: ['invalid_request', 'account_exists', 'chat_username_taken', 'too_many_attempts', 'server_busy', 'chat_service_unavailable', 'chat_service_misconfigured', 'database_unavailable'],
}) as const satisfies RouteContract;

const LoginResponse = Type.Object({ code: Ok, ...TOKEN, agoraUid: AgoraUid });

const login = (path: string, operationId: string) => ({
  method: 'POST',
  path,
  operationId,
  summary: 'Log in: a chat user token and the persistent RTC uid',
  auth: 'none',
  body: Credentials,
  requestExample: credentialsExample,
  response: LoginResponse,
  responseExample: { ...tokenExample, agoraUid: '1316722407' },
  // forbidden: the right password for an account an operator disabled.
  errors: ['invalid_request', 'invalid_credentials', 'forbidden', 'too_many_attempts', 'server_busy', 'chat_service_unavailable', 'chat_service_misconfigured', 'database_unavailable'],
}) as const satisfies RouteContract;

export const DJANGO_ROUTES = {
  register: register('/app/user/register', 'djangoRegister'),
  login: login('/app/user/login', 'djangoLogin'),
  token: {
    method: 'GET',
    path: '/token',
    operationId: 'djangoRtcToken',
    summary: 'A token with chat and RTC privileges for one channel',
    description: 'Bound to the caller\'s agoraUid. Under TOKEN_AUTH=legacy, a call without a bearer gets the token of `userAccount`, unauthenticated.',
    auth: 'bearer-or-legacy',
    query: strings({
      channelName: ChannelName,
      publisherRole: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description: '`true`: may publish audio, video and data; `false` (default): may only join.',
      })),
      userAccount: Type.Optional(Type.String({ description: 'Optional with a bearer (it must then name the caller); required under TOKEN_AUTH=legacy without one.' })),
    }),
    response: LoginResponse,
    responseExample: { ...tokenExample, agoraUid: '1316722407' },
    errors: ['invalid_request', 'unauthenticated', 'forbidden', 'database_unavailable'],
  },
  changePassword: {
    method: 'POST',
    path: '/app/user/password',
    operationId: 'djangoChangePassword',
    summary: 'Change the password: a fresh chat user token, every older one revoked',
    description: 'Every token issued to the user before the change is refused from then on (by other server instances within PRINCIPAL_CACHE_TTL_SECONDS); the fresh one is valid. The chat sessions are ended at Agora. A wrong current password counts as a failed login.',
    auth: 'bearer',
    body: Type.Object({ userPassword: UserPassword, newPassword: UserPassword }),
    requestExample: { userPassword: 'correct horse battery', newPassword: 'a new horse battery' },
    response: LoginResponse,
    responseExample: { ...tokenExample, agoraUid: '1316722407' },
    errors: ['invalid_request', 'unauthenticated', 'invalid_credentials', 'too_many_attempts', 'server_busy', 'database_unavailable'],
  },
  logout: {
    method: 'POST',
    path: '/app/user/logout',
    operationId: 'djangoLogout',
    summary: 'Log out everywhere: every token issued to the user so far is revoked',
    description: 'The chat sessions are ended at Agora too. Other server instances refuse the revoked tokens within PRINCIPAL_CACHE_TTL_SECONDS.',
    auth: 'bearer',
    response: Type.Object({ code: Ok }),
    responseExample: { code: 200 },
    errors: ['unauthenticated', 'database_unavailable'],
  },
  deleteAccount: {
    method: 'DELETE',
    path: '/app/user',
    operationId: 'djangoDeleteAccount',
    summary: 'Delete the account and its Agora Chat user',
    description: 'The account is unusable from the first step on. When Agora is unavailable the answer is 503 with Retry-After: the same request (same token and password) or the server itself finishes the deletion later. Afterwards the account name can be registered again.',
    auth: 'bearer',
    body: Type.Object({ userPassword: UserPassword }),
    requestExample: { userPassword: 'correct horse battery' },
    response: Type.Object({ code: Ok }),
    responseExample: { code: 200 },
    errors: ['invalid_request', 'unauthenticated', 'invalid_credentials', 'too_many_attempts', 'server_busy', 'chat_service_unavailable', 'chat_service_misconfigured', 'database_unavailable'],
  },
  renew: {
    method: 'POST',
    path: '/app/user/token/renew',
    operationId: 'djangoRenewToken',
    summary: 'A fresh chat user token for the holder of a valid one',
    auth: 'bearer',
    response: Type.Object({ code: Ok, ...TOKEN }),
    responseExample: tokenExample,
    errors: ['unauthenticated', 'database_unavailable'],
  },
} as const satisfies Record<string, RouteContract>;
