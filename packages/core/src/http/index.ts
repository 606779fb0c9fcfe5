/**
 * Framework-neutral HTTP answers for core's errors: status, headers (`Retry-After`, `WWW-Authenticate`)
 * and the JSON body. Loads nothing but core, so any HTTP framework can use it; adapter-koa does.
 * {@link DJANGO_ERRORS} is the Django sample's convention (`{code, error, message}`, real statuses),
 * the default API profile; a profile with other shapes passes its own {@link ErrorTable}.
 */
export { errorResponse, type ErrorTable, type ErrorResponse, type ErrorContext, type ErrorLogger } from './error-response.js';
export { DJANGO_ERRORS, type ErrorBody } from './django-errors.js';
export { HTTP_ERROR_CODES, HttpError, type HttpErrorCode } from './error-status.js';
