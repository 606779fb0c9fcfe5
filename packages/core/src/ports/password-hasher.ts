/**
 * One-way password hashing with parameters recorded in the hash. `client` (a client address) names
 * whose work it is, so that a hasher with limited capacity can share it fairly between clients.
 */
export interface PasswordHasher {
  /** @throws ServerBusyError when the hashing queue is full (load shedding) */
  hash(password: string, client?: string): Promise<string>;
  /**
   * False for a wrong password and for a malformed or tampered hash (never a throw for those).
   * @throws ServerBusyError when the hashing queue is full
   */
  verify(hash: string, password: string, client?: string): Promise<boolean>;
  /** True when `hash` was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /**
   * Optional load-shedding hint: throws when a hash requested now would be refused, so callers can
   * refuse before doing any other work (database reads) for a request that cannot be served.
   * @throws ServerBusyError
   */
  checkCapacity?(client?: string): void;
}

export const PasswordHasher: unique symbol = Symbol.for('chat-app-server.PasswordHasher');
