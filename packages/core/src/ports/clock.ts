export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const Clock: unique symbol = Symbol.for('chat-app-server.Clock');
