import { ServerBusyError } from '../errors.js';

export interface WorkLimiterOptions {
  /** Jobs run at once. */
  readonly concurrency: number;
  /** Jobs allowed to wait, at most (all clients together). */
  readonly maxQueue: number;
  /**
   * A job is refused when its expected wait (jobs served before it, times the average job duration,
   * divided by `concurrency`) exceeds this: callers get a fast "busy" instead of a slow answer.
   * @default Infinity
   */
  readonly maxWaitMs?: number;
  /** Called each time a job is refused (load shed). */
  readonly onShed?: () => void;
}

/** Per job: whose work it is (a client address) and who wants to learn how long it waited. */
export interface WorkOptions {
  /** Jobs of one client wait in one queue; the queues are served round-robin. */
  readonly client?: string;
  /** Learns how long the job waited in the queue. */
  readonly onStart?: (queueWaitMs: number) => void;
}

interface Waiter {
  start(): void;
  refuse(err: ServerBusyError): void;
}

/** The queue of callers that name no client. */
const ANONYMOUS = '';

/**
 * Runs at most `concurrency` jobs at once and sheds load with {@link ServerBusyError} (and a
 * Retry-After estimate) when the queue is full or would keep a caller waiting too long.
 *
 * Admission is fair between clients: each client (a client address) waits in its own queue and the
 * queues are served round-robin, so a client that floods only lengthens its own wait. When the queue
 * is full, a newcomer with a shorter queue takes the place of the newest job of the longest queue.
 * Hand-written because core may depend on nothing but scrypt-kdf.
 */
export class WorkLimiter {
  private running = 0;
  /** Waiting jobs per client, in round-robin order (the next queue served is the first one). */
  private readonly queues = new Map<string, Waiter[]>();
  private waitingCount = 0;
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
    return this.waitingCount;
  }

  /** Throws the {@link ServerBusyError} that {@link run} would throw for `client` if called now. */
  checkCapacity(client: string = ANONYMOUS): void {
    if (this.running < this.concurrency) return;
    const own = this.queues.get(client)?.length ?? 0;
    const expectedWaitMs = Math.ceil((this.jobsAhead(client) + 1) / this.concurrency) * this.averageMs;
    if (expectedWaitMs > this.maxWaitMs) throw this.busy(expectedWaitMs);
    if (this.waitingCount >= this.maxQueue && !this.longestOtherThan(client, own + 1)) throw this.busy(expectedWaitMs);
  }

  /** Runs `job` when a slot is free, in the round-robin turn of its client. */
  async run<T>(job: () => Promise<T>, options: WorkOptions = {}): Promise<T> {
    const client = options.client ?? ANONYMOUS;
    const queued = performance.now();
    if (this.running >= this.concurrency) {
      this.checkCapacity(client);
      await new Promise<void>((start, refuse) => this.enqueue(client, { start, refuse }));
    } else {
      this.running++;
    }
    const started = performance.now();
    options.onStart?.(started - queued);
    try {
      return await job();
    } finally {
      const took = performance.now() - started;
      this.averageMs = this.averageMs === 0 ? took : 0.8 * this.averageMs + 0.2 * took;
      // Hand the slot straight to the next waiter so `running` never dips and lets a newcomer jump the queue.
      const next = this.dequeue();
      if (next) next.start();
      else this.running--;
    }
  }

  // Round robin: a client's job waits for its own earlier jobs and, per round, one job of every other client.
  private jobsAhead(client: string): number {
    const own = this.queues.get(client)?.length ?? 0;
    let ahead = own;
    for (const [other, queue] of this.queues) if (other !== client) ahead += Math.min(queue.length, own + 1);
    return ahead;
  }

  private enqueue(client: string, waiter: Waiter): void {
    if (this.waitingCount >= this.maxQueue) {
      // checkCapacity found a longer queue: its newest job gives way.
      const own = this.queues.get(client)?.length ?? 0;
      const victim = this.longestOtherThan(client, own + 1)!;
      const queue = this.queues.get(victim)!;
      queue.pop()!.refuse(this.busy(Math.ceil((queue.length + 1) / this.concurrency) * this.averageMs));
      this.waitingCount--;
      if (queue.length === 0) this.queues.delete(victim);
    }
    const queue = this.queues.get(client);
    if (queue) queue.push(waiter);
    else this.queues.set(client, [waiter]);
    this.waitingCount++;
  }

  private dequeue(): Waiter | undefined {
    const first = this.queues.entries().next();
    if (first.done) return undefined;
    const [client, queue] = first.value;
    const waiter = queue.shift()!;
    this.waitingCount--;
    // Map order is the rotation: the served client goes to the back, or leaves when it has nothing left.
    this.queues.delete(client);
    if (queue.length > 0) this.queues.set(client, queue);
    return waiter;
  }

  /** The client with the longest queue, if it is longer than `length` (and not `client`). */
  private longestOtherThan(client: string, length: number): string | undefined {
    let longest: string | undefined;
    let max = length;
    for (const [other, queue] of this.queues) {
      if (other !== client && queue.length > max) {
        longest = other;
        max = queue.length;
      }
    }
    return longest;
  }

  private busy(expectedWaitMs: number): ServerBusyError {
    this.onShed?.();
    return new ServerBusyError(Math.max(1, Math.ceil(expectedWaitMs / 1000)));
  }
}
