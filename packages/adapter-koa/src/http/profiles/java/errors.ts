import type { ClientErrorCode } from '@chat-app-server/core';
import type { ErrorTable } from '../../error-response.js';
import type { HttpErrorCode } from '../../error-status.js';

/** The `code` names of Agora's Java demo server (`model/ResCode.java`). */
export type ResCode =
  | 'RES_OK' | 'RES_REQUEST_PARAM_ERROR' | 'RES_USER_ALREADY_EXISTS' | 'RES_CONTENT_TYPE_ERROR' | 'RES_REQUEST_ERROR'
  | 'RES_APPKEY_ERROR' | 'RES_UNAUTHORIZED_ERROR' | 'RES_USER_NOT_FOUND' | 'RES_REQUEST_METHOD_ERROR' | 'RES_REACH_LIMIT'
  | 'RES_UNKNOWN';

/** The Java demo's error body: the name, the HTTP status (the demo left it at 200: we send the real one) and a message. */
export type JavaErrorBody = {
  readonly code: ResCode;
  readonly statusCode: number;
  readonly errorInfo: string;
};

/**
 * Status and name of every outcome in the Java profile. Where the demo has an outcome, its status and
 * name; where it has none, our real status and the closest name (README: "Moving from Agora's sample servers").
 */
export const JAVA_RESPONSES: Readonly<Record<ClientErrorCode | HttpErrorCode, readonly [status: number, code: ResCode]>> = Object.freeze({
  invalid_request: [400, 'RES_REQUEST_PARAM_ERROR'],
  account_exists: [400, 'RES_USER_ALREADY_EXISTS'],
  // Another account already holds the chat user this account maps to: for the client, it exists.
  chat_username_taken: [400, 'RES_USER_ALREADY_EXISTS'],
  invalid_credentials: [401, 'RES_UNAUTHORIZED_ERROR'],
  unauthenticated: [401, 'RES_UNAUTHORIZED_ERROR'],
  forbidden: [403, 'RES_UNAUTHORIZED_ERROR'],
  account_not_found: [404, 'RES_USER_NOT_FOUND'],
  // A lifecycle change that the account's state does not allow (none of the Java routes asks for one).
  account_state_conflict: [409, 'RES_REQUEST_ERROR'],
  too_many_attempts: [429, 'RES_REACH_LIMIT'],
  // The demo's name for "the request to Agora's REST API failed".
  chat_service_unavailable: [503, 'RES_REQUEST_ERROR'],
  server_busy: [503, 'RES_REACH_LIMIT'],
  // The demo has no name for it: a database failure fell through to its catch-all.
  database_unavailable: [503, 'RES_UNKNOWN'],
  chat_service_misconfigured: [500, 'RES_UNKNOWN'],
  not_found: [404, 'RES_USER_NOT_FOUND'],
  method_not_allowed: [405, 'RES_REQUEST_METHOD_ERROR'],
  payload_too_large: [413, 'RES_REQUEST_PARAM_ERROR'],
  unsupported_media_type: [415, 'RES_CONTENT_TYPE_ERROR'],
  not_implemented: [501, 'RES_REQUEST_METHOD_ERROR'],
  not_ready: [503, 'RES_UNKNOWN'],
  internal_error: [500, 'RES_UNKNOWN'],
});

const STATUS = Object.fromEntries(Object.entries(JAVA_RESPONSES).map(([code, [status]]) => [code, status])) as Record<ClientErrorCode, number>;

/** The Java demo server's API: `{code: "RES_...", statusCode, errorInfo}`. */
export const JAVA_ERRORS: ErrorTable = Object.freeze({
  status: Object.freeze(STATUS),
  body: (status: number, code: ClientErrorCode | HttpErrorCode, message: string): JavaErrorBody => ({
    code: JAVA_RESPONSES[code][1],
    statusCode: status,
    errorInfo: message,
  }),
  fieldNames: Object.freeze({ account: 'userAccount', password: 'userPassword' }),
});
