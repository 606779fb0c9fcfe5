import { ServerBusyError } from '../errors.js';

export interface WorkLimiterOptions {
  /** Jobs run at once. */
  readonly concurrency: number;
  /** Jobs allowed to wait, at most. */
  readonly maxQueue: number;
  /**
   * A job is refused when its expected wait (jobs ahead of it times the average job duration,
   * divided by `concurrency`) exceeds this: callers get a fast "busy" instead of a slow answer.
   * @default Infinity
   */
  readonly maxWaitMs?: number;
  /** Called each time a job is refused (load shed). */
  readonly onShed?: () => void;
}

/**
 * Runs at most `concurrency` jobs at once and sheds load with {@link ServerBusyError} (and a
 * Retry-After estimate) when the queue is full or would keep a caller waiting too long.
 * Hand-written because core may depend on nothing but scrypt-kdf.
 */
export class WorkLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Moving average of job durations (ms); 0 until the first job ends. */
  private averageMs = 0;
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly maxWaitMs: number;
  private readonly onShed: (() => void) | undefined;

  constructor(options: WorkLimiterOptions) {
    const { concurrency, maxQueue, maxWaitMs = Infinity } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be a non-negative integer');
    if (!(maxWaitMs >= 0)) throw new RangeError('maxWaitMs must be a non-negative number');
    this.concurrency = concurrency;
    this.maxQueue = maxQueue;
    this.maxWaitMs = maxWaitMs;
    this.onShed = options.onShed;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Throws the {@link ServerBusyError} that {@link run} would throw if called now. */
  checkCapacity(): void {
    if (this.running < this.concurrency) return;
    const expectedWaitMs = Math.ceil((this.waiting.length + 1) / this.concurrency) * this.averageMs;
    if (this.waiting.length >= this.maxQueue || expectedWaitMs > this.maxWaitMs) {
      this.onShed?.();
      throw new ServerBusyError(Math.max(1, Math.ceil(expectedWaitMs / 1000)));
    }
  }

  /** Runs `job` when a slot is free; `onStart` learns how long it waited in the queue. */
  async run<T>(job: () => Promise<T>, onStart?: (queueWaitMs: number) => void): Promise<T> {
    const queued = performance.now();
    if (this.running >= this.concurrency) {
      this.checkCapacity();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    const started = performance.now();
    onStart?.(started - queued);
    try {
      return await job();
    } finally {
      const took = performance.now() - started;
      this.averageMs = this.averageMs === 0 ? took : 0.8 * this.averageMs + 0.2 * took;
      // Hand the slot straight to the next waiter so `running` never dips and lets a newcomer jump the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
