import { isDomainError, isPortError, type ClientErrorCode, type DomainError } from '../errors.js';
import { HTTP_ERROR_CODES, HttpError, type HttpErrorCode } from './error-status.js';

/** Where server faults are reported: pino, or any logger with `(fields, message)` methods. */
export interface ErrorLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * One API profile's error table: the status of each client-facing domain code, the body of an error,
 * and the wire names of the domain's fields. Framework-free: any HTTP stack can render with it.
 */
export interface ErrorTable {
  readonly status: Readonly<Record<ClientErrorCode, number>>;
  /** The response body for an error with `status` and stable `code` (a domain or an HTTP-layer code). */
  body(status: number, code: ClientErrorCode | HttpErrorCode, message: string): Record<string, unknown>;
  /** How this API names the domain's fields in messages (`account` -> `userAccount`). */
  readonly fieldNames: Readonly<Record<string, string>>;
}

/** A rendered error: what to send. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

/** Where the error happened, for the log lines of server faults. */
export interface ErrorContext {
  readonly requestId?: string | undefined;
  readonly method?: string | undefined;
  readonly path?: string | undefined;
  readonly logger?: ErrorLogger | undefined;
  /** Without a logger, where unexpected errors go (Koa: `app.emit('error')`). @default console.error */
  readonly reportUnexpected?: ((err: unknown) => void) | undefined;
}

const STATUS_CODES = new Map<number, HttpErrorCode>(
  Object.entries(HTTP_ERROR_CODES).map(([code, status]) => [status, code as HttpErrorCode]),
);

/**
 * The one error policy of the HTTP API, phrased by `table`: domain errors get their status and
 * `Retry-After`/`WWW-Authenticate`; anything unexpected (a port's own code included) becomes a
 * generic 500, logged once with the request id and never shown to the client. Any HTTP framework
 * can send the result.
 * @example
 * // Express: the Django sample's convention, `{code, error, message}` with real statuses
 * const { status, headers, body } = errorResponse(err, DJANGO_ERRORS, { logger, requestId: req.id });
 * res.status(status).set(headers).json(body);
 */
export function errorResponse(err: unknown, table: ErrorTable, context: ErrorContext = {}): ErrorResponse {
  if (isDomainError(err) && !isPortError(err)) return domainErrorResponse(err, table, context);
  if (err instanceof HttpError) return respond(table, err.status, err.code, err.message, err.headers);
  // Decoding a client's malformed percent-encoding (in the path, for instance) is the client's fault.
  if (err instanceof URIError) return respond(table, 400, 'invalid_request', 'The request URL is not valid percent-encoding.');
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: unknown }).expose === true) {
    // An http-errors error from Koa or a middleware (its message is meant for the client).
    return respond(table, status, STATUS_CODES.get(status) ?? 'invalid_request', (err as Error).message);
  }
  const { logger, requestId, method, path } = context;
  if (logger) logger.error({ err, requestId, method, path }, 'unexpected error');
  else if (context.reportUnexpected) context.reportUnexpected(err);
  else consoleLogger.error({ err, requestId, method, path }, 'unexpected error');
  return respond(table, 500, 'internal_error', 'Internal server error.');
}

function domainErrorResponse(err: DomainError & { code: ClientErrorCode }, table: ErrorTable, context: ErrorContext): ErrorResponse {
  const status = table.status[err.code];
  const headers: Record<string, string> = {};
  if (status === 429 || status === 503) {
    // Every 429/503 domain error carries its own hint (its constructor requires or defaults it).
    const seconds = err.retryAfterSeconds ?? 1;
    headers['Retry-After'] = String(Math.max(1, Math.ceil(seconds)));
  }
  if (err.code === 'unauthenticated') headers['WWW-Authenticate'] = 'Bearer realm="chat-app-server"';
  const { logger, requestId } = context;
  if (err.code === 'chat_service_misconfigured') {
    // Every registration fails until an operator fixes AGORA_*: say so loudly, but not to the client.
    (logger ?? consoleLogger).error(
      { err, requestId, code: err.code },
      'CHAT SERVICE MISCONFIGURED: Agora refused our credentials; check AGORA_APP_ID, AGORA_APP_CERT, AGORA_APP_KEY and the REST API URL',
    );
    return respond(table, status, err.code, 'The server cannot reach the chat service with its current configuration.', headers);
  }
  // The driver's or the chat service's details (the error's cause) go to the log only. Load shedding is
  // logged by the hasher, aggregated: under a flood, a line per refusal would spend the CPU that the
  // refusal saves.
  if (status >= 500 && err.code !== 'server_busy') {
    logger?.warn({ err, requestId, code: err.code }, FAILURE_LOG_MESSAGES[err.code] ?? 'request failed: chat service unavailable');
  }
  return respond(table, status, err.code, messageOf(err, table), headers);
}

const FAILURE_LOG_MESSAGES: Partial<Record<ClientErrorCode, string>> = {
  database_unavailable: 'request failed: database unavailable',
};

// A broken domain rule names the field as this API does; any other message is already client text.
function messageOf(err: DomainError, table: ErrorTable): string {
  const problem = (err as { problem?: unknown }).problem;
  if (typeof problem !== 'string' || err.field === undefined) return err.message;
  return `${table.fieldNames[err.field] ?? err.field} ${problem}`;
}

function respond(
  table: ErrorTable, status: number, code: ClientErrorCode | HttpErrorCode, message: string,
  headers: Readonly<Record<string, string>> = {},
): ErrorResponse {
  return { status, headers: { ...headers, 'Cache-Control': 'no-store' }, body: table.body(status, code, message) };
}

const consoleLogger: Pick<ErrorLogger, 'error'> = {
  error: (fields, message) => console.error(message, { requestId: fields.requestId }),
};
