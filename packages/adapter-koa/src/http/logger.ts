/**
 * The logging surface the HTTP layer needs. A pino logger fits it as is; so does any logger with
 * `(fields, message)` methods. Nothing logged here contains passwords, tokens, Authorization
 * headers or request bodies.
 */
export interface HttpLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
