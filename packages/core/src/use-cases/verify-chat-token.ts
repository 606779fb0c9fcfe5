import { UnauthenticatedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { notify, type Observer } from '../ports/observer.js';
import type { TokenIssuer } from '../ports/token-issuer.js';
import type { UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

export interface PrincipalCacheOptions {
  /** Entries kept; the oldest is dropped first. 0 turns the cache off. @default 10000 */
  readonly maxEntries: number;
  /** How long an entry is trusted, so that users removed from the database are refused soon after. @default 60 */
  readonly ttlSeconds: number;
}

export const DEFAULT_PRINCIPAL_CACHE: PrincipalCacheOptions = Object.freeze({ maxEntries: 10_000, ttlSeconds: 60 });

/**
 * Authenticates a bearer chat user token: a valid token of ours naming an active user.
 *
 * What a principal holds (account, chat username, chat uuid, agoraUid) never changes once a user is
 * active, so principals are cached by token subject for a short while: the hot bearer path then costs
 * no database read.
 * @throws UnauthenticatedError
 */
export class VerifyChatToken {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly cacheOptions: PrincipalCacheOptions;

  constructor(private readonly deps: {
    tokens: TokenIssuer; users: UserRepository; clock: Clock; cache?: PrincipalCacheOptions; observer?: Observer;
  }) {
    this.cacheOptions = deps.cache ?? DEFAULT_PRINCIPAL_CACHE;
  }

  async execute(token: unknown): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError();
    const { subject } = await this.deps.tokens.verifyChatToken(token);
    const now = this.deps.clock.now();
    const hit = this.cache.get(subject);
    if (hit && hit.until > now) {
      notify(this.deps.observer, { kind: 'principal_cache', result: 'hit' });
      return hit.principal;
    }
    if (hit) this.cache.delete(subject);
    notify(this.deps.observer, { kind: 'principal_cache', result: 'miss' });

    const { users, tokens } = this.deps;
    const user = tokens.subjectKind === 'uuid' ? await users.findByChatUuid(subject) : await users.findByChatUsername(subject);
    if (!user || user.status !== 'active') throw new UnauthenticatedError('The token names no active user.');
    const principal = principalOf(user);
    this.remember(subject, principal, now);
    return principal;
  }

  private remember(subject: string, principal: Principal, now: number): void {
    const { maxEntries, ttlSeconds } = this.cacheOptions;
    if (maxEntries <= 0) return;
    if (this.cache.size >= maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(subject, { principal, until: now + ttlSeconds * 1000 });
  }
}
