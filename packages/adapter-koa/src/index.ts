/**
 * The chat-app-server HTTP API for Koa. This entry point loads only core, koa, @koa/router and
 * @koa/cors: mount {@link createRouter} in an existing app, or serve {@link createApp}.
 * The standalone server (database, Agora, configuration) is in `./standalone`.
 */
export { createApp, type AppOptions } from './http/app.js';
export { createRouter, type HttpCore, type RouterOptions } from './http/routes.js';
export { errorMiddleware, type ErrorBody } from './http/error-middleware.js';
export { STATUS_BY_ERROR_CODE, type HttpErrorCode } from './http/error-status.js';
export type { HttpLogger } from './http/logger.js';
