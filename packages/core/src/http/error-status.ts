/**
 * Codes of errors raised by the HTTP layer itself (not by the domain), with their statuses.
 * Each API profile renders them in its own error body, like domain errors.
 */
export const HTTP_ERROR_CODES = {
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_implemented: 501,
  not_ready: 503,
  internal_error: 500,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** An error of the HTTP layer (404, 405, 413, 415, readiness), rendered like a domain error. */
export class HttpError extends Error {
  readonly status: number;
  constructor(readonly code: HttpErrorCode, message: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERROR_CODES[code];
  }
}
