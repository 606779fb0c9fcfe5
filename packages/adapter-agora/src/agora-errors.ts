/**
 * Causes attached to domain errors. They are built from scratch (never got's errors, whose
 * `options` carry the Authorization header) and every text is passed through a redactor.
 */

/** Agora Chat answered with an HTTP status we did not treat as success. */
export class AgoraResponseError extends Error {
  constructor(
    readonly status: number,
    /** Agora's `error` code string, when the body had one. */
    readonly agoraError: string | undefined,
    /** Agora's `error_description`, when the body had one. */
    readonly description: string | undefined,
  ) {
    super(`Agora Chat answered HTTP ${status}${agoraError ? ` ${agoraError}` : ''}${description ? `: ${description}` : ''}`);
    this.name = 'AgoraResponseError';
  }
}

/** The request to Agora Chat failed without an HTTP answer (timeout, reset, refused, ...). */
export class AgoraNetworkError extends Error {
  constructor(
    /** Node / got error code such as ETIMEDOUT or ECONNRESET. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgoraNetworkError';
  }
}

/** Replaces every occurrence of the given secrets in `text`. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out;
}
