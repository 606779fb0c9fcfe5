/** Where core reports things worth an operator's attention that do not fail the request. */
export interface Logger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export const Logger: unique symbol = Symbol.for('chat-app-server.Logger');
