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

/**
 * A place held for one job of a client that has work to do before it runs the job (database reads):
 * it counts as a queued job of that client until the job runs or the place is released.
 */
export interface Reservation {
  /** Gives the place back when the job will not run; does nothing once the job ran. Idempotent. */
  release(): void;
}

/** Per job: whose work it is (a client address) and who wants to learn how long it waited. */
export interface WorkOptions {
  /** Jobs of one client wait in one queue; see {@link WorkLimiter} for the order they are served in. */
  readonly client?: string;
  /** Admitted earlier by {@link WorkLimiter.reserve}: the job is not refused now, whatever the load. */
  readonly reservation?: Reservation;
  /** Learns how long the job waited in the queue. */
  readonly onStart?: (queueWaitMs: number) => void;
}

interface Waiter {
  readonly client: string;
  start(): void;
  refuse(err: ServerBusyError): void;
}

/** The queue of callers that name no client. */
const ANONYMOUS = '';

/**
 * Runs at most `concurrency` jobs at once and sheds load with {@link ServerBusyError} (and a
 * Retry-After estimate) when the queue is full or would keep a caller waiting too long.
 *
 * Admission is fair between clients: each client (a client address) waits in its own queue, and a
 * free slot goes to the waiting client with the fewest jobs running, round-robin among equals. A
 * client that floods only lengthens its own wait: a client with nothing running is served next,
 * ahead of a flood's queue, so it waits for one slot to free, not for a round. When the queue is
 * full, a newcomer with a shorter queue takes the place of the newest job of the longest queue.
 *
 * The slots are kept fed: up to one job per slot may wait whatever the wait estimate says, so a
 * finished job hands its slot to a job whose database work is already done instead of leaving the
 * hashing thread idle until the next request gets there. Callers with work to do before the job
 * {@link reserve} its place first: admitted requests then count before they reach the queue, so a
 * burst is refused at the door instead of all of it doing its database work and most of it being
 * refused afterwards.
 * Hand-written because core may depend on nothing but scrypt-kdf.
 */
export class WorkLimiter {
  private running = 0;
  /** Jobs running per client (clients with none are absent). */
  private readonly runningBy = new Map<string, number>();
  /** Waiting jobs per client, in round-robin order (among equals, the first queue is served first). */
  private readonly queues = new Map<string, Waiter[]>();
  private waitingCount = 0;
  /** Reservations held per client, oldest first (clients with none are absent), and in all. */
  private readonly pendingBy = new Map<string, HeldPlace[]>();
  private pendingCount = 0;
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
    const free = this.concurrency - this.running;
    const ahead = this.jobsAhead(client);
    if (ahead < free) return;
    // Jobs that will wait ahead of this one, beyond those that take the free slots; slots free one
    // after the other (about every averageMs / concurrency), not all at once.
    const waitingAhead = ahead - free;
    const expectedWaitMs = ((waitingAhead + 1) * this.averageMs) / this.concurrency;
    const own = this.queuedOf(client);
    if (this.isFull() && !this.longestOtherThan(client, own + 1)) throw this.busy(expectedWaitMs);
    if (expectedWaitMs > this.maxWaitMs && waitingAhead >= this.concurrency) throw this.busy(expectedWaitMs);
  }

  /**
   * Admits a job of `client` now and holds its place until it runs ({@link WorkOptions.reservation})
   * or is released.
   * @throws ServerBusyError as {@link checkCapacity}
   */
  reserve(client: string = ANONYMOUS): Reservation {
    this.checkCapacity(client);
    if (this.isFull()) this.makeRoomFor(client);
    const place = new HeldPlace(client, (released) => this.forget(released));
    const held = this.pendingBy.get(client);
    if (held) held.push(place);
    else this.pendingBy.set(client, [place]);
    this.pendingCount++;
    return place;
  }

  /** Runs `job` when a slot is free, in its client's turn. */
  async run<T>(job: () => Promise<T>, options: WorkOptions = {}): Promise<T> {
    const client = options.client ?? ANONYMOUS;
    const queued = performance.now();
    const { reservation } = options;
    if (reservation instanceof HeldPlace && reservation.revoked) throw this.busy(this.averageMs);
    reservation?.release();
    if (this.running >= this.concurrency) {
      if (!reservation) this.checkCapacity(client);
      await new Promise<void>((start, refuse) => this.enqueue({ client, start, refuse }, reservation !== undefined));
    } else {
      this.running++;
      this.started(client);
    }
    const started = performance.now();
    options.onStart?.(started - queued);
    try {
      return await job();
    } finally {
      const took = performance.now() - started;
      this.averageMs = this.averageMs === 0 ? took : 0.8 * this.averageMs + 0.2 * took;
      this.finished(client);
      // Hand the slot straight to the next waiter so `running` never dips and lets a newcomer jump the queue.
      const next = this.dequeue();
      if (next) {
        this.started(next.client);
        next.start();
      } else {
        this.running--;
      }
    }
  }

  private started(client: string): void {
    this.runningBy.set(client, (this.runningBy.get(client) ?? 0) + 1);
  }

  private finished(client: string): void {
    const count = this.runningBy.get(client)! - 1;
    if (count === 0) this.runningBy.delete(client);
    else this.runningBy.set(client, count);
  }

  /** Jobs of `client` admitted and not running: queued or reserved. */
  private queuedOf(client: string): number {
    return (this.queues.get(client)?.length ?? 0) + (this.pendingBy.get(client)?.length ?? 0);
  }

  /** Every admitted job that is not running has a place: queued, or reserved for the free slots. */
  private isFull(): boolean {
    return this.waitingCount + this.pendingCount >= this.maxQueue + (this.concurrency - this.running);
  }

  private forget(place: HeldPlace): void {
    const held = this.pendingBy.get(place.client)!;
    held.splice(held.indexOf(place), 1);
    if (held.length === 0) this.pendingBy.delete(place.client);
    this.pendingCount--;
  }

  // checkCapacity found a longer queue than `client`'s: its newest job gives way, a waiting one
  // first (refused at once); else a reserved one, refused when it comes to run.
  private makeRoomFor(client: string): void {
    const victim = this.longestOtherThan(client, this.queuedOf(client) + 1)!;
    const queue = this.queues.get(victim);
    if (queue) {
      queue.pop()!.refuse(this.busy(((queue.length + 1) * this.averageMs) / this.concurrency));
      this.waitingCount--;
      if (queue.length === 0) this.queues.delete(victim);
    } else {
      this.pendingBy.get(victim)!.at(-1)!.revoke();
    }
  }

  // Fewest running first: another client's jobs go ahead while it has no more running than this
  // client will have when its new job is next (its running jobs plus its own queue).
  private jobsAhead(client: string): number {
    const own = this.queuedOf(client);
    const level = (this.runningBy.get(client) ?? 0) + own;
    let ahead = own;
    const count = (other: string) => {
      if (other !== client) ahead += Math.min(this.queuedOf(other), Math.max(0, level + 1 - (this.runningBy.get(other) ?? 0)));
    };
    for (const other of this.queues.keys()) count(other);
    for (const other of this.pendingBy.keys()) if (!this.queues.has(other)) count(other);
    return ahead;
  }

  private enqueue(waiter: Waiter, admitted: boolean): void {
    const { client } = waiter;
    // An admitted job was counted when it reserved its place: it displaces nobody now.
    if (!admitted && this.isFull()) this.makeRoomFor(client);
    const queue = this.queues.get(client);
    if (queue) queue.push(waiter);
    else this.queues.set(client, [waiter]);
    this.waitingCount++;
  }

  private dequeue(): Waiter | undefined {
    let chosen: string | undefined;
    let fewest = Infinity;
    for (const client of this.queues.keys()) {
      const running = this.runningBy.get(client) ?? 0;
      if (running < fewest) {
        chosen = client;
        fewest = running;
        if (running === 0) break;
      }
    }
    if (chosen === undefined) return undefined;
    const queue = this.queues.get(chosen)!;
    const waiter = queue.shift()!;
    this.waitingCount--;
    // Map order is the rotation: the served client goes to the back, or leaves when it has nothing left.
    this.queues.delete(chosen);
    if (queue.length > 0) this.queues.set(chosen, queue);
    return waiter;
  }

  /** The client with the longest queue (waiting and reserved jobs), if it is longer than `length` (and not `client`). */
  private longestOtherThan(client: string, length: number): string | undefined {
    let longest: string | undefined;
    let max = length;
    const consider = (other: string) => {
      const own = this.queuedOf(other);
      if (other !== client && own > max) {
        longest = other;
        max = own;
      }
    };
    for (const other of this.queues.keys()) consider(other);
    for (const other of this.pendingBy.keys()) if (!this.queues.has(other)) consider(other);
    return longest;
  }

  private busy(expectedWaitMs: number): ServerBusyError {
    this.onShed?.();
    return new ServerBusyError(Math.max(1, Math.ceil(expectedWaitMs / 1000)));
  }
}

/** A reserved place. Revoked when a lighter client needed it: the job is then refused when it comes to run. */
class HeldPlace implements Reservation {
  private held = true;
  revoked = false;

  constructor(readonly client: string, private readonly onRelease: (place: HeldPlace) => void) {}

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.onRelease(this);
  }

  revoke(): void {
    this.revoked = true;
    this.release();
  }
}
