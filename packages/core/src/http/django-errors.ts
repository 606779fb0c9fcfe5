import type { ClientErrorCode } from '../errors.js';
import type { ErrorTable } from './error-response.js';
import type { HttpErrorCode } from './error-status.js';

/** The body of every error response of the Django profile. */
export type ErrorBody = {
  /** The HTTP status, mirrored for clients of the sample server that read `code`. */
  readonly code: number;
  /** A stable machine-readable code: a domain code (`account_exists`, ...) or an HTTP one (`not_found`, ...). */
  readonly error: ClientErrorCode | HttpErrorCode;
  readonly message: string;
};

/**
 * The HTTP status of every client-facing domain error code in the Django profile. Typed as a `Record`
 * over the whole union, so a new code added to core without a status here fails to compile.
 */
const STATUS_BY_ERROR_CODE: Readonly<Record<ClientErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_credentials: 401,
  unauthenticated: 401,
  forbidden: 403,
  account_not_found: 404,
  account_exists: 409,
  account_state_conflict: 409,
  chat_username_taken: 409,
  too_many_attempts: 429,
  chat_service_unavailable: 503,
  server_busy: 503,
  database_unavailable: 503,
  // Our own App ID / Certificate / App Key were refused: the operator must fix the configuration,
  // so this is a server fault (500), not a transient outage that clients should retry.
  chat_service_misconfigured: 500,
});

/** The Django sample's API: real statuses mirrored in `code`, `{code, error, message}` on errors. */
export const DJANGO_ERRORS: ErrorTable = Object.freeze({
  status: STATUS_BY_ERROR_CODE,
  body: (status: number, code: ClientErrorCode | HttpErrorCode, message: string): ErrorBody => ({ code: status, error: code, message }),
  fieldNames: Object.freeze({ account: 'userAccount', password: 'userPassword' }),
});
