// Framework-neutral: it lives in core so that any HTTP stack can render core's errors.
export { errorResponse, type ErrorTable, type ErrorResponse, type ErrorContext } from '@chat-app-server/core/http';
