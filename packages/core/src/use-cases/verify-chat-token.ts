import { UnauthenticatedError } from '../errors.js';
import type { BoundedCache } from '../ports/bounded-cache.js';
import type { Clock } from '../ports/clock.js';
import { notify, type ObservedEvent, type Observer } from '../ports/observer.js';
import type { TokenIssuer } from '../ports/token-issuer.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

/** How long a cached principal is trusted when nothing else is configured. */
export const DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS = 60;

/** What the principal cache holds per token subject. */
export interface CachedPrincipal {
  /** With the user's revocation boundary as read, and `knownAt` the time it was read. */
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
  /**
   * How long an entry is trusted. It bounds how long another server instance keeps accepting a bearer
   * after a revocation, a disable or a deletion (the instance that made the change forgets at once).
   */
  readonly cacheTtlSeconds?: number;
  readonly observer?: Observer;
}

// Every bearer request reports one of these: shared, so that it allocates nothing (metrics on or off).
const CACHE_HIT: ObservedEvent = Object.freeze({ kind: 'principal_cache', result: 'hit' });
const CACHE_MISS: ObservedEvent = Object.freeze({ kind: 'principal_cache', result: 'miss' });

/** A bearer whose signature and expiry were checked, and the user it names as stored now. */
export interface BearerOwner {
  readonly user: UserRecord | undefined;
  /** The bearer's issue time, whole seconds. */
  readonly issuedAt: number;
}

/**
 * Authenticates a bearer chat user token: a valid token of ours, naming an active user, issued no
 * earlier than the user's revocation boundary.
 *
 * Principals are cached by token subject for a short while, with the revocation boundary they had
 * when read: the hot bearer path then costs no database read, and a revocation made elsewhere is
 * learnt within the cache's lifetime.
 * @throws UnauthenticatedError
 */
export class VerifyChatToken {
  private readonly ttlMs: number;

  constructor(private readonly deps: VerifyChatTokenDeps) {
    this.ttlMs = (deps.cacheTtlSeconds ?? DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS) * 1000;
  }

  /** @param options.fresh read the user from the repository even when cached (renewal: rare, and dated now) */
  async execute(token: unknown, options: { fresh?: boolean } = {}): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError();
    const { tokens, clock, cache, observer } = this.deps;
    const { subject, issuedAt } = await tokens.verifyChatToken(token);
    const now = clock.now();
    const hit = options.fresh ? undefined : cache?.get(subject);
    if (hit && hit.until > now) {
      notify(observer, CACHE_HIT);
      return bearing(hit.principal, issuedAt);
    }
    if (cache && !options.fresh) notify(observer, CACHE_MISS);

    const user = await this.userNamed(subject);
    if (!user || user.status !== 'active') {
      cache?.delete(subject);
      throw new UnauthenticatedError('The token names no active user.');
    }
    const principal = principalOf(user, now);
    cache?.set(subject, { principal, until: now + this.ttlMs });
    return bearing(principal, issuedAt);
  }

  /** Checks a bearer's signature and expiry and reads the user it names, whatever its state or revocation. */
  async ownerOf(token: unknown): Promise<BearerOwner> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError();
    const { subject, issuedAt } = await this.deps.tokens.verifyChatToken(token);
    return { user: await this.userNamed(subject), issuedAt };
  }

  /** The active user behind an unrevoked bearer, read from the repository (for rare, sensitive calls). */
  async activeOwnerOf(token: unknown): Promise<UserRecord> {
    const { user, issuedAt } = await this.ownerOf(token);
    if (!user || user.status !== 'active') throw new UnauthenticatedError('The token names no active user.');
    if (issuedAt < user.tokensNotBefore) throw revoked();
    return user;
  }

  /** Drops the cached principal of `user`, so this instance sees its new state at once. */
  forget(user: { readonly chatUsername: string; readonly chatUuid: string | null }): void {
    const subject = this.deps.tokens.subjectKind === 'uuid' ? user.chatUuid : user.chatUsername;
    if (subject !== null) this.deps.cache?.delete(subject);
  }

  private userNamed(subject: string): Promise<UserRecord | undefined> {
    const { users, tokens } = this.deps;
    return tokens.subjectKind === 'uuid' ? users.findByChatUuid(subject) : users.findByChatUsername(subject);
  }
}

/** The principal for one bearer: refused when revoked; known at least as of the bearer's own issue time. */
function bearing(principal: Principal, issuedAt: number): Principal {
  if (issuedAt < principal.tokensNotBefore) throw revoked();
  const issuedAtMs = issuedAt * 1000;
  return issuedAtMs > principal.knownAt ? { ...principal, knownAt: issuedAtMs } : principal;
}

function revoked(): UnauthenticatedError {
  return new UnauthenticatedError('This chat token was revoked; log in again.');
}
