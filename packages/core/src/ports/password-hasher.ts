/**
 * One-way password hashing with parameters recorded in the hash. `client` (a client address) names
 * whose work it is, so that a hasher with limited capacity can share it fairly between clients.
 */
export interface PasswordHasher {
  /**
   * `reservation`: from {@link reserve}, for a hash admitted earlier (it is not refused now).
   * @throws ServerBusyError when the hashing queue is full (load shedding)
   */
  hash(password: string, client?: string, reservation?: HashReservation): Promise<string>;
  /**
   * False for a wrong password and for a malformed or tampered hash (never a throw for those).
   * @throws ServerBusyError when the hashing queue is full
   */
  verify(hash: string, password: string, client?: string, reservation?: HashReservation): Promise<boolean>;
  /** True when `hash` was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /**
   * Optional load-shedding hint: throws when a hash requested now would be refused, so callers can
   * refuse before doing any other work (database reads) for a request that cannot be served.
   * @throws ServerBusyError
   */
  checkCapacity?(client?: string): void;
  /**
   * Optional admission for callers with work to do before hashing (database reads and writes):
   * admits one hash of `client` now, as {@link checkCapacity} would, and holds its place until the
   * hash runs (pass the reservation to {@link hash} or {@link verify}) or it is released. Admitted
   * requests then count before they reach the queue, so a burst is refused before its database work.
   * @throws ServerBusyError
   */
  reserve?(client?: string): HashReservation;
}

/** A place held in the hashing queue; see {@link PasswordHasher.reserve}. */
export interface HashReservation {
  /** Gives the place back when no hash will be asked for with it; does nothing once one was. Idempotent. */
  release(): void;
}

/** A reservation that holds nothing: for hashers that cannot hold places, and refusals decided without the hasher. */
export const NOTHING_HELD: HashReservation = Object.freeze({ release: () => undefined });

/** Holds a place in the hashing queue for one hash of `client`, or only checks capacity when the hasher cannot hold places. */
export function admission(passwordHasher: PasswordHasher, client: string | undefined): HashReservation {
  if (passwordHasher.reserve) return passwordHasher.reserve(client);
  passwordHasher.checkCapacity?.(client);
  return NOTHING_HELD;
}

export const PasswordHasher: unique symbol = Symbol.for('chat-app-server.PasswordHasher');
