import * as scryptKdf from 'scrypt-kdf';
import { notify, type Observer } from '../ports/observer.js';
import type { Logger } from '../ports/logger.js';
import type { HashReservation, PasswordHasher } from '../ports/password-hasher.js';
import { WorkLimiter, type WorkOptions } from './work-limiter.js';

// scrypt-kdf 4's typings declare named exports, but its code only has a default export (a class).
const Scrypt = (scryptKdf as unknown as { default: typeof scryptKdf }).default;

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP's scrypt recommendation (N=2^15, r=8, p=3): about 32 MiB and a few hundred ms per hash. */
export const OWASP_SCRYPT_PARAMETERS: ScryptParameters = Object.freeze({ logN: 15, r: 8, p: 3 });

export interface ScryptPasswordHasherOptions {
  parameters?: ScryptParameters;
  /**
   * Hashes computed at once. Node runs scrypt on the libuv thread pool it shares with file and DNS
   * work and with some database drivers: keep this below the pool size so I/O always finds a thread.
   * @default 2
   */
  concurrency?: number;
  /**
   * Hashes allowed to wait (clients are served round-robin, see {@link WorkLimiter}); more are refused
   * with `server_busy`. @default 4 × concurrency
   */
  maxQueue?: number;
  /**
   * A hash whose expected wait in the queue exceeds this is refused with `server_busy` at once:
   * a quick 503 with Retry-After serves a client better than a login that takes seconds. @default 1000
   */
  maxWaitMs?: number;
  /** Receives `password_hash` (queue wait) and `password_hash_shed` events. */
  observer?: Observer;
  /**
   * Told when hashes are refused: one line when shedding starts, then at most one line per
   * {@link SHED_LOG_INTERVAL_MS} with the count (a line per refusal would cost a flood's CPU).
   */
  logger?: Logger;
}

/** While hashes are refused, how often the count is logged. */
export const SHED_LOG_INTERVAL_MS = 10_000;

/** {@link PasswordHasher} on scrypt-kdf: parameters and salt live in the base64 hash itself. */
export class ScryptPasswordHasher implements PasswordHasher {
  readonly parameters: ScryptParameters;
  private readonly limiter: WorkLimiter;
  private readonly observer: Observer | undefined;

  constructor(options: ScryptPasswordHasherOptions = {}) {
    this.parameters = options.parameters ?? OWASP_SCRYPT_PARAMETERS;
    const concurrency = options.concurrency ?? 2;
    const observer = options.observer;
    this.observer = observer;
    this.limiter = new WorkLimiter({
      concurrency,
      maxQueue: options.maxQueue ?? 4 * concurrency,
      maxWaitMs: options.maxWaitMs ?? 1000,
      onShed: () => {
        notify(observer, { kind: 'password_hash_shed' });
        this.shedCount++;
        this.logShedding();
      },
    });
    this.logger = options.logger;
  }

  private readonly logger: Logger | undefined;
  private shedCount = 0;
  private shedLoggedAt = -Infinity;

  private logShedding(): void {
    if (!this.logger) return;
    const now = performance.now();
    if (now - this.shedLoggedAt < SHED_LOG_INTERVAL_MS) return;
    const first = this.shedLoggedAt === -Infinity || now - this.shedLoggedAt >= 2 * SHED_LOG_INTERVAL_MS;
    this.logger.warn(
      { shed: this.shedCount, concurrency: this.limiter.concurrency, queued: this.limiter.queued },
      first ? 'password hashing is saturated: refusing logins and registrations with server_busy' : 'password hashing still saturated: refused since the last report',
    );
    this.shedCount = 0;
    this.shedLoggedAt = now;
  }

  async hash(password: string, client?: string, reservation?: HashReservation): Promise<string> {
    const key = await this.limiter.run(() => Scrypt.kdf(password, this.parameters), this.options('hash', client, reservation));
    return Buffer.from(key).toString('base64');
  }

  async verify(hash: string, password: string, client?: string, reservation?: HashReservation): Promise<boolean> {
    const params = paramsOf(hash);
    if (!params) {
      reservation?.release();
      return false;
    }
    return this.limiter.run(async () => {
      try {
        return await Scrypt.verify(Buffer.from(hash, 'base64'), password);
      } catch {
        return false; // a tampered hash fails its checksum
      }
    }, this.options('verify', client, reservation));
  }

  private options(operation: 'hash' | 'verify', client: string | undefined, reservation: HashReservation | undefined): WorkOptions {
    return {
      onStart: (queueWaitMs) => notify(this.observer, { kind: 'password_hash', operation, queueWaitMs }),
      ...(client === undefined ? {} : { client }),
      ...(reservation === undefined ? {} : { reservation }),
    };
  }

  checkCapacity(client?: string): void {
    this.limiter.checkCapacity(client);
  }

  reserve(client?: string): HashReservation {
    return this.limiter.reserve(client);
  }

  needsRehash(hash: string): boolean {
    const params = paramsOf(hash);
    if (!params) return true;
    const wanted = this.parameters;
    return params.logN < wanted.logN || params.r < wanted.r || params.p < wanted.p;
  }
}

function paramsOf(hash: string): ScryptParameters | undefined {
  try {
    const key = Buffer.from(hash, 'base64');
    if (key.length !== 96) return undefined;
    return Scrypt.viewParams(key);
  } catch {
    return undefined;
  }
}
