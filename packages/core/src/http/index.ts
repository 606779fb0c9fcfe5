/**
 * Framework-neutral HTTP answers for core's errors: status, headers (`Retry-After`, ...) and the
 * JSON body `{code, error, message}`. Loads nothing but core, so any HTTP framework can use it.
 */
export { httpErrorOf, STATUS, DEFAULT_RETRY_AFTER_SECONDS, type ErrorBody, type HttpErrorResponse } from './error-response.js';
