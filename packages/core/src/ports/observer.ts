/**
 * What core (and the adapters of its ports) report for operators to count and time: one event per
 * finished operation. Metrics are built from these by whoever embeds core (the standalone server
 * turns them into Prometheus metrics); core itself knows no metrics library.
 */
export type ObservedEvent =
  /** A password login attempt, by outcome (`error`: busy, chat service down, ...). */
  | { readonly kind: 'login'; readonly outcome: LoginOutcome }
  /** A registration (by password or by an embedding backend) or the completion of a pending one. */
  | { readonly kind: 'registration'; readonly outcome: RegistrationOutcome }
  /** A registration took over a pending row whose earlier attempt had been abandoned. */
  | { readonly kind: 'registration_takeover' }
  /** A password hash or verification started after `queueWaitMs` in the hashing queue. */
  | { readonly kind: 'password_hash'; readonly operation: 'hash' | 'verify'; readonly queueWaitMs: number }
  /** A password hash or verification was refused at once because the hashing queue was full (load shedding). */
  | { readonly kind: 'password_hash_shed' }
  /** A bearer token's principal was found in (`hit`) or missing from (`miss`) the principal cache. */
  | { readonly kind: 'principal_cache'; readonly result: 'hit' | 'miss' }
  /** One logical call to the chat service, after all of its retries. */
  | {
      readonly kind: 'chat_service_call';
      readonly operation: string;
      readonly outcome: ChatServiceCallOutcome;
      /** Tries after the first one. */
      readonly retries: number;
      readonly durationMs: number;
    };

export type LoginOutcome = 'success' | 'invalid' | 'throttled' | 'error';

/**
 * `created`: the chat user exists and the account is active. `left_pending`: the attempt failed on a
 * transient fault and left a pending row that a later attempt finishes. The others name the refusal.
 */
export type RegistrationOutcome =
  | 'created'
  | 'left_pending'
  | 'account_exists'
  | 'chat_username_taken'
  | 'invalid_chat_username'
  | 'error';

/**
 * `success`: a 2xx answer. `refused`: a definite error answer such as 404 or "exists" (not a fault).
 * `unavailable`: timeouts, network errors, 5xx, rate limits after every retry. `misconfigured`: our
 * credentials were refused.
 */
export type ChatServiceCallOutcome = 'success' | 'refused' | 'unavailable' | 'misconfigured';

/** Receives {@link ObservedEvent}s. Must be fast and must not throw (a throw is swallowed). */
export interface Observer {
  observe(event: ObservedEvent): void;
}

export const Observer: unique symbol = Symbol.for('chat-app-server.Observer');

/** Delivers `event` to `observer`, if any, so that a faulty observer never fails the operation. */
export function notify(observer: Observer | undefined, event: ObservedEvent): void {
  if (!observer) return;
  try {
    observer.observe(event);
  } catch {
    // Observation is best effort by contract.
  }
}
