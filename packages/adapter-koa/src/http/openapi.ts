import { HTTP_ERROR_CODES } from './error-status.js';
import type { AnyErrorCode, ProfileContract, ProfileRoutes, RouteContract } from './contract.js';

/** Codes any operation may answer: a bug, and (with a body) the body checks. */
const ALWAYS: readonly AnyErrorCode[] = ['internal_error'];
const WITH_BODY: readonly AnyErrorCode[] = ['invalid_request', 'payload_too_large', 'unsupported_media_type'];
const WITH_BEARER: readonly AnyErrorCode[] = ['unauthenticated'];

const EXAMPLE_MESSAGES: Partial<Record<AnyErrorCode, string>> = {
  invalid_request: 'userAccount must be a string.',
  account_exists: 'This account is already registered.',
  invalid_credentials: 'The account or password is wrong.',
  unauthenticated: 'A chat user token is required: send "Authorization: Bearer <token>" from login.',
  forbidden: 'userAccount does not match the authenticated user.',
  too_many_attempts: 'Too many failed attempts; try again later.',
  chat_service_unavailable: 'The chat service is unavailable; try again later.',
  chat_service_misconfigured: 'The server cannot reach the chat service with its current configuration.',
  chat_username_taken: 'The chat user name for this account is already taken.',
  server_busy: 'The server is busy; try again shortly.',
  database_unavailable: 'The service is temporarily unavailable (database); try again later.',
  payload_too_large: 'The request body must be at most 16384 bytes.',
  unsupported_media_type: 'Content-Type must be application/json.',
  not_ready: 'The server is not ready (database unavailable).',
  internal_error: 'Internal server error.',
};

type Json = Record<string, unknown>;

/** The OpenAPI 3.1 document of `profiles`' routes: every operation, status and error body, with examples. */
export function openApiDocument(profiles: readonly ProfileRoutes[], info: { title: string; version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const { profile, routes } of profiles) {
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, profile) };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description:
        'Chat and RTC tokens for Agora Chat apps. Every response carries `X-Request-Id`; token responses are `Cache-Control: no-store`. ' +
        'Paths no route serves answer 404 `not_found`, a wrong method 405 `method_not_allowed` (with `Allow`), in the error body of the profile the path belongs to.',
    },
    tags: profiles.map(({ profile }) => ({ name: profile.tag, description: profile.description })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'Agora AccessToken2 (chat user token from login)' },
      },
    },
  };
}

function operation(route: RouteContract, profile: ProfileContract): Json {
  const parameters: Json[] = [
    { name: 'X-Request-Id', in: 'header', required: false, description: 'Echoed back when it is 1-128 plain characters; a new UUID otherwise.', schema: { type: 'string' } },
  ];
  for (const [location, schema] of [['query', route.query], ['path', route.params]] as const) {
    if (!schema) continue;
    const required = new Set(schema.required ?? []);
    for (const [name, property] of Object.entries(schema.properties)) {
      parameters.push({ name, in: location, required: location === 'path' || required.has(name), schema: property, ...descriptionOf(property) });
    }
  }
  const op: Json = {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [profile.tag],
    parameters,
    responses: responses(route, profile),
  };
  if (route.body) {
    op['requestBody'] = {
      required: true,
      content: { 'application/json': { schema: route.body, ...(route.requestExample ? { example: route.requestExample } : {}) } },
    };
  }
  if (route.auth === 'bearer') op['security'] = [{ bearer: [] }];
  // Under TOKEN_AUTH=legacy the bearer is optional: {} states "no authentication" as an alternative.
  if (route.auth === 'bearer-or-legacy') op['security'] = [{ bearer: [] }, {}];
  return op;
}

function responses(route: RouteContract, profile: ProfileContract): Json {
  const byStatus = new Map<number, AnyErrorCode[]>();
  const codes: Array<AnyErrorCode | readonly [AnyErrorCode, number]> = [
    ...ALWAYS, ...(route.body ? WITH_BODY : []), ...(route.auth === 'bearer' || route.auth === 'bearer-or-legacy' ? WITH_BEARER : []), ...route.errors,
  ];
  if ((route.query || route.params) && !codes.includes('invalid_request')) codes.push('invalid_request');
  for (const entry of codes) {
    const [code, status] = typeof entry === 'string' ? [entry, statusOf(entry, profile)] : entry;
    const list = byStatus.get(status) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(status, list);
  }
  const result: Json = {
    200: {
      description: route.summary,
      headers: requestIdHeader(),
      content: { 'application/json': { schema: route.response, example: route.responseExample } },
    },
  };
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Json = requestIdHeader();
    if (status === 429 || status === 503) headers['Retry-After'] = { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } };
    if (list.includes('unauthenticated')) headers['WWW-Authenticate'] = { description: 'Bearer realm="chat-app-server"', schema: { type: 'string' } };
    result[String(status)] = {
      description: list.map((c) => `\`${c}\``).join(', '),
      headers,
      content: {
        'application/json': {
          schema: profile.errorBody,
          examples: Object.fromEntries(list.map((code) => [code, { value: profile.errors.body(status, code, EXAMPLE_MESSAGES[code] ?? code) }])),
        },
      },
    };
  }
  return result;
}

function statusOf(code: AnyErrorCode, profile: ProfileContract): number {
  return code in HTTP_ERROR_CODES ? HTTP_ERROR_CODES[code as keyof typeof HTTP_ERROR_CODES] : profile.errors.status[code as Exclude<AnyErrorCode, keyof typeof HTTP_ERROR_CODES>];
}

function requestIdHeader(): Json {
  return { 'X-Request-Id': { description: 'The request id (yours or a new UUID): quote it when reporting a problem.', schema: { type: 'string' } } };
}

function descriptionOf(schema: unknown): Json {
  const description = (schema as { description?: unknown }).description;
  return typeof description === 'string' ? { description } : {};
}
