import { InvalidRequestError, type ClientErrorCode } from '@chat-app-server/core';
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import type { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { ErrorTable } from './error-response.js';
import type { HttpErrorCode } from './error-status.js';
import { parseQuery, readJsonObject } from './input.js';

/** Every error code an API answers with: the domain's client-facing ones and the HTTP layer's. */
export type AnyErrorCode = ClientErrorCode | HttpErrorCode;

/**
 * An API profile as its contract sees it: how it renders errors (table and body schema) and how it
 * words a request field that does not fit its schema.
 */
export interface ProfileContract {
  /** The OpenAPI tag of its operations. */
  readonly tag: string;
  readonly description: string;
  readonly errors: ErrorTable;
  /** JSON Schema of its error body. */
  readonly errorBody: TSchema;
  /** The message for a request field that is missing or empty (`cannot be empty`), or not a string (`must be a string`). */
  fieldMessage(field: string, problem: 'missing' | 'empty' | 'type'): string;
}

/** How an operation authenticates its caller. */
export type RouteAuth = 'none' | 'bearer' | 'bearer-or-legacy';

/**
 * One route, described once: its request parts (validated by these schemas before the handler runs),
 * its success body and the error codes it may answer. The router serves it, `/openapi.json` documents it.
 */
export interface RouteContract<
  B extends TObject | undefined = TObject | undefined,
  Q extends TObject | undefined = TObject | undefined,
  P extends TObject | undefined = TObject | undefined,
  R extends TSchema = TSchema,
> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The path in @koa/router's syntax (`/token/rtc/channel/:channelName`). */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: RouteAuth;
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  readonly response: R;
  readonly responseExample: Static<R>;
  readonly requestExample?: B extends TObject ? Static<B> : never;
  /**
   * The error codes this operation answers besides the ones every operation may answer; a pair when
   * this operation answers a code with another status than its profile's table.
   */
  readonly errors: ReadonlyArray<AnyErrorCode | readonly [AnyErrorCode, number]>;
}

/** A place held for a request by a route's admission, until the request ends. */
export interface Admission {
  release(): void;
}

/** The place that the route's admission holds for this request, if it holds one. */
export function admissionOf(ctx: Context): Admission | undefined {
  return ctx.state['admission'] as Admission | undefined;
}

/** See {@link RouterOptions.refusalPauseMs}. */
export const DEFAULT_REFUSAL_PAUSE_MS = 1000;

/**
 * A route's admission by a hashing use case (login, register): refused before the body is read, so
 * that under a flood refusing stays cheap, and answered after `pauseMs` (at most the refusal's
 * Retry-After) so that clients that resend at once cannot turn refusals into the server's main work.
 * A use case replaced by one that only executes (a test double, an embedder's decorator) is admitted
 * by its own `execute` instead.
 */
export function earlyAdmission(
  useCase: { admit?(clientAddress?: string): Admission }, pauseMs: number,
): (ctx: Context) => Promise<Admission | undefined> {
  return async (ctx) => {
    if (typeof useCase.admit !== 'function') return undefined;
    try {
      return useCase.admit(ctx.ip);
    } catch (err) {
      const retryAfterMs = 1000 * ((err as { retryAfterSeconds?: number }).retryAfterSeconds ?? 0);
      const pause = Math.min(pauseMs, retryAfterMs);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      throw err;
    }
  };
}

/** The validated request parts a handler receives, typed by its contract's schemas. */
export interface RouteInput<C extends RouteContract> {
  readonly body: C['body'] extends TObject ? Static<C['body']> : undefined;
  readonly query: C['query'] extends TObject ? Static<C['query']> : undefined;
  readonly params: C['params'] extends TObject ? Static<C['params']> : undefined;
}

/** A profile's routes with the contracts they serve. */
export interface ProfileRoutes {
  readonly profile: ProfileContract;
  readonly routes: readonly RouteContract[];
}

/** An object of string fields (the shape of query strings and path parameters). */
export function strings<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties);
}

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerOf(schema: TSchema): TypeCheck<TSchema> {
  let checker = compiled.get(schema);
  if (!checker) compiled.set(schema, (checker = TypeCompiler.Compile(schema)));
  return checker;
}

/**
 * `value` as `schema` describes it.
 * @throws InvalidRequestError naming the first field that does not fit, worded by `profile`
 */
export function validated<S extends TSchema>(schema: S, value: unknown, profile: ProfileContract, part: string): Static<S> {
  const checker = checkerOf(schema);
  if (checker.Check(value)) return value as Static<S>;
  const error = checker.Errors(value).First();
  const field = error?.path.split('/').filter((s) => s !== '')[0] ?? part;
  if (!error || error.path === '') throw new InvalidRequestError(field, `The request ${part} does not match the API.`);
  if (error.type === ValueErrorType.ObjectRequiredProperty) throw new InvalidRequestError(field, profile.fieldMessage(field, 'missing'));
  if (error.type === ValueErrorType.StringMinLength) throw new InvalidRequestError(field, profile.fieldMessage(field, 'empty'));
  if (error.type === ValueErrorType.String) throw new InvalidRequestError(field, profile.fieldMessage(field, 'type'));
  const allowed = literalsOf(error.schema);
  if (allowed.length > 0) throw new InvalidRequestError(field, `${field} must be ${allowed.join(' or ')}.`);
  throw new InvalidRequestError(field, `${field} is not valid: ${error.message.toLowerCase()}.`);
}

function literalsOf(schema: TSchema): string[] {
  const options = (schema as { anyOf?: unknown }).anyOf;
  if (!Array.isArray(options)) return [];
  return options.map((o: { const?: unknown }) => o.const).filter((c): c is string => typeof c === 'string');
}

/**
 * Registers `handler` for `contract` on `router` behind `guard`: the body, query and path parameters
 * are read and validated against the contract's schemas first. `admit`, when given, runs before any
 * of that and may throw to refuse the request (load shedding): a refusal then costs no body. What it
 * returns (a place held for the request) is in `ctx.state.admission` for the handler, and released
 * when the request ends, whatever the handler did with it.
 */
export function serve<C extends RouteContract>(
  router: Router, contract: C, profile: ProfileContract, guard: readonly Middleware[], bodyLimitBytes: number,
  handler: (ctx: Context, input: RouteInput<C>) => Promise<void>,
  admit?: (ctx: Context) => Promise<Admission | undefined>,
): void {
  const queryNames = contract.query ? Object.keys(contract.query.properties) : [];
  const run: Middleware = async (ctx) => {
    const admission = await admit?.(ctx);
    try {
      if (admission) ctx.state['admission'] = admission;
      const body = contract.body ? validated(contract.body, await readJsonObject(ctx, bodyLimitBytes), profile, 'body') : undefined;
      const query = contract.query ? validated(contract.query, parseQuery(ctx.querystring, queryNames), profile, 'query') : undefined;
      const params = contract.params ? validated(contract.params, { ...ctx.params }, profile, 'path') : undefined;
      await handler(ctx, { body, query, params } as RouteInput<C>);
    } finally {
      admission?.release();
    }
  };
  if (contract.method === 'GET') router.get(contract.path, ...guard, run);
  else if (contract.method === 'DELETE') router.delete(contract.path, ...guard, run);
  else router.post(contract.path, ...guard, run);
}
