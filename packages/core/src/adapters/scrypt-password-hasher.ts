import * as scryptKdf from 'scrypt-kdf';
import { notify, type Observer } from '../ports/observer.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
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
}

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
      onShed: () => notify(observer, { kind: 'password_hash_shed' }),
    });
  }

  async hash(password: string, client?: string): Promise<string> {
    const key = await this.limiter.run(() => Scrypt.kdf(password, this.parameters), this.options('hash', client));
    return Buffer.from(key).toString('base64');
  }

  async verify(hash: string, password: string, client?: string): Promise<boolean> {
    const params = paramsOf(hash);
    if (!params) return false;
    return this.limiter.run(async () => {
      try {
        return await Scrypt.verify(Buffer.from(hash, 'base64'), password);
      } catch {
        return false; // a tampered hash fails its checksum
      }
    }, this.options('verify', client));
  }

  private options(operation: 'hash' | 'verify', client: string | undefined): WorkOptions {
    return {
      onStart: (queueWaitMs) => notify(this.observer, { kind: 'password_hash', operation, queueWaitMs }),
      ...(client === undefined ? {} : { client }),
    };
  }

  checkCapacity(client?: string): void {
    this.limiter.checkCapacity(client);
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
