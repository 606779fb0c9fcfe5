import { UnauthenticatedError } from '../errors.js';
import type { BoundedCache } from '../ports/bounded-cache.js';
import type { Clock } from '../ports/clock.js';
import { notify, type Observer } from '../ports/observer.js';
import type { TokenIssuer } from '../ports/token-issuer.js';
import type { UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

/** How long a cached principal is trusted when nothing else is configured. */
export const DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS = 60;

/** What the principal cache holds per token subject. */
export interface CachedPrincipal {
  readonly principal: Principal;
  /** ms since epoch (core's clock) after which the entry is read again from the repository. */
  readonly until: number;
}

export interface VerifyChatTokenDeps {
  readonly tokens: TokenIssuer;
  readonly users: UserRepository;
  readonly clock: Clock;
  /** Principals by token subject; without one, every call reads the repository. */
  readonly cache?: BoundedCache<string, CachedPrincipal>;
  /** How long an entry is trusted, so that users removed from the database are refused soon after. */
  readonly cacheTtlSeconds?: number;
  readonly observer?: Observer;
}

/**
 * Authenticates a bearer chat user token: a valid token of ours naming an active user.
 *
 * What a principal holds (account, chat username, chat uuid, agoraUid) never changes once a user is
 * active, so principals are cached by token subject for a short while: the hot bearer path then costs
 * no database read.
 * @throws UnauthenticatedError
 */
export class VerifyChatToken {
  private readonly ttlMs: number;

  constructor(private readonly deps: VerifyChatTokenDeps) {
    this.ttlMs = (deps.cacheTtlSeconds ?? DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS) * 1000;
  }

  async execute(token: unknown): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError();
    const { tokens, users, clock, cache, observer } = this.deps;
    const { subject } = await tokens.verifyChatToken(token);
    const now = clock.now();
    const hit = cache?.get(subject);
    if (hit && hit.until > now) {
      notify(observer, { kind: 'principal_cache', result: 'hit' });
      return hit.principal;
    }
    if (cache) notify(observer, { kind: 'principal_cache', result: 'miss' });

    const user = tokens.subjectKind === 'uuid' ? await users.findByChatUuid(subject) : await users.findByChatUsername(subject);
    if (!user || user.status !== 'active') {
      if (hit) cache?.delete(subject);
      throw new UnauthenticatedError('The token names no active user.');
    }
    const principal = principalOf(user);
    cache?.set(subject, { principal, until: now + this.ttlMs });
    return principal;
  }
}
