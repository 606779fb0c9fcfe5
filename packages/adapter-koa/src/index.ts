/**
 * The chat-app-server HTTP API for Koa. This entry point loads only core, koa, @koa/router and
 * @koa/cors: mount {@link createRouter} in an existing app, or serve {@link createApp}.
 * The standalone server (database, Agora, configuration) is in `./standalone`.
 */
export { createApp, type AppOptions, type ObservedRequest } from './http/app.js';
export { apiDocument, API_CONTRACT } from './http/routes.js';
export { openApiDocument } from './http/openapi.js';
export type { ProfileContract, ProfileRoutes, RouteContract, RouteAuth, AnyErrorCode } from './http/contract.js';
export { createRouter, type HttpCore, type RouterOptions, type ProfileSettings, type TokenAuth } from './http/routes.js';
export { errorMiddleware } from './http/error-middleware.js';
export { errorResponse, type ErrorTable, type ErrorResponse, type ErrorContext } from './http/error-response.js';
export { DJANGO_ERRORS, type ErrorBody } from './http/profiles/django/errors.js';
export { JAVA_ERRORS, JAVA_RESPONSES, type JavaErrorBody, type ResCode } from './http/profiles/java/errors.js';
export type { HttpErrorCode } from './http/error-status.js';
export type { HttpLogger } from './http/logger.js';
