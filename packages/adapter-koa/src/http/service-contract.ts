import { Type } from '@sinclair/typebox';
import type { ProfileContract, RouteContract } from './contract.js';
import { DJANGO_PROFILE } from './profiles/django/contract.js';

/** The server's own endpoints (health, readiness, the contract): errors in the Django profile's shape. */
export const SERVICE_PROFILE: ProfileContract = {
  ...DJANGO_PROFILE,
  tag: 'service',
  description: 'Health, readiness and this document.',
};

export const SERVICE_ROUTES = {
  healthz: {
    method: 'GET',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness: the process answers',
    auth: 'none',
    response: Type.Object({ code: Type.Literal(200), status: Type.Literal('ok') }),
    responseExample: { code: 200, status: 'ok' },
    errors: [],
  },
  readyz: {
    method: 'GET',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: the database answers and Agora accepted the credentials',
    description:
      '503 `not_ready` while the database does not answer; 503 `chat_service_misconfigured` while Agora refuses the ' +
      "server's credentials. An unreachable Agora keeps the server ready (tokens still work) and shows in `checks.chatService`.",
    auth: 'none',
    response: Type.Object({
      code: Type.Literal(200),
      status: Type.Literal('ready'),
      checks: Type.Optional(Type.Record(Type.String(), Type.String(), {
        description: 'Each check and its state; `chatService` is `ok`, `unreachable` or `unchecked`.',
      })),
    }),
    responseExample: { code: 200, status: 'ready', checks: { database: 'ok', chatService: 'ok' } },
    errors: ['not_ready', ['chat_service_misconfigured', 503]],
  },
  openapi: {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI 3.1 document',
    auth: 'none',
    response: Type.Object({ openapi: Type.String() }, { description: 'An OpenAPI 3.1 document.' }),
    responseExample: { openapi: '3.1.0' },
    errors: [],
  },
} as const satisfies Record<string, RouteContract>;
