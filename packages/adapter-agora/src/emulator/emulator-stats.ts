/**
 * Distinct bearers remembered, at most: anyone who can reach the emulator can send endless distinct
 * bearers, and the count only has to answer "one app token for N calls".
 */
export const MAX_REMEMBERED_TOKENS = 1000;

/** What the emulator has seen, for assertions (e.g. "one app token for N calls"). */
export class EmulatorStats {
  /** Requests per route, keyed `METHOD /route` (e.g. `POST /users`, `GET /users/{username}`). */
  readonly requests: Record<string, number> = {};
  /** Requests refused by the rate limit. */
  rateLimited = 0;
  private readonly tokens = new Set<string>();

  /** Distinct bearer tokens presented on Agora routes, valid or not (counted up to {@link MAX_REMEMBERED_TOKENS}). */
  get distinctAppTokens(): number {
    return this.tokens.size;
  }

  /** Total Agora API requests (control routes excluded). */
  get totalRequests(): number {
    return Object.values(this.requests).reduce((sum, n) => sum + n, 0);
  }

  /** @internal */
  count(route: string): void {
    this.requests[route] = (this.requests[route] ?? 0) + 1;
  }

  /** @internal */
  sawToken(token: string): void {
    if (this.tokens.size < MAX_REMEMBERED_TOKENS) this.tokens.add(token);
  }

  reset(): void {
    for (const key of Object.keys(this.requests)) delete this.requests[key];
    this.rateLimited = 0;
    this.tokens.clear();
  }

  toJSON(): Record<string, unknown> {
    return {
      requests: { ...this.requests },
      totalRequests: this.totalRequests,
      distinctAppTokens: this.distinctAppTokens,
      rateLimited: this.rateLimited,
    };
  }
}
