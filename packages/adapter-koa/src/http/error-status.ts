// Framework-neutral: they live in core so that any HTTP stack can render core's errors.
export { HTTP_ERROR_CODES, HttpError, type HttpErrorCode } from '@chat-app-server/core/http';
