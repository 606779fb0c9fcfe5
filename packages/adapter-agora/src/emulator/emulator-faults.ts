/** A fault the emulator applies to one upcoming Agora API request (control routes are exempt). */
export type EmulatorFault =
  | { readonly kind: 'fail'; readonly status: number; readonly body?: unknown; readonly retryAfter?: number | string }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'createThenDrop' };

/** Options of {@link EmulatorFaults.failNext}. */
export interface FailOptions {
  /** HTTP status to answer with. */
  readonly status: number;
  /** Body to send: an object is sent as JSON, a string as text/plain. Default: an Agora error body. */
  readonly body?: unknown;
  /** Value of the Retry-After header (seconds or an HTTP date). */
  readonly retryAfter?: number | string;
}

/**
 * The fault queue: each API request takes the first queued fault, if any. Faults are served in
 * the order they were queued.
 */
export class EmulatorFaults {
  private readonly queue: EmulatorFault[] = [];

  /** The next `n` requests are answered with `status` (and `body`, `Retry-After`) and have no effect. */
  failNext(n: number, options: FailOptions): void {
    this.push(n, { kind: 'fail', ...options });
  }

  /** The next `n` requests hang for `ms` before they are handled (a client timeout may come first). */
  delayNext(n: number, ms: number): void {
    this.push(n, { kind: 'delay', ms });
  }

  /** The next `n` requests have their connection destroyed without an answer and without effect. */
  dropNext(n: number): void {
    this.push(n, { kind: 'drop' });
  }

  /** The next `n` requests take effect (e.g. the user is created), then the answer is lost. */
  createThenDropNext(n: number): void {
    this.push(n, { kind: 'createThenDrop' });
  }

  /** Queues `n` copies of an arbitrary fault (used by the HTTP control API). */
  add(n: number, fault: EmulatorFault): void {
    this.push(n, fault);
  }

  /** Faults still queued. */
  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** @internal */
  take(): EmulatorFault | undefined {
    return this.queue.shift();
  }

  private push(n: number, fault: EmulatorFault): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError('The number of requests to fault must be a positive integer.');
    if (fault.kind === 'fail' && (!Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599)) {
      throw new RangeError('A failure status must be an HTTP status code (100-599).');
    }
    if (fault.kind === 'delay' && (!Number.isFinite(fault.ms) || fault.ms < 0)) {
      throw new RangeError('A delay must be a non-negative number of milliseconds.');
    }
    for (let i = 0; i < n; i += 1) this.queue.push(fault);
  }
}
