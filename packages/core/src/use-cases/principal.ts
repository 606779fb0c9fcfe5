import type { UserRecord } from '../ports/user-repository.js';

/** An active user, as proven by a verified chat token or a successful login. */
export interface Principal {
  readonly account: string;
  readonly accountKey: string;
  readonly chatUsername: string;
  readonly chatUuid: string | null;
  readonly agoraUid: number;
  /** The user's revocation boundary (whole seconds) as known at {@link Principal.knownAt}. */
  readonly tokensNotBefore: number;
  /** When (ms since epoch) the user's state was read, or the issue time of the bearer if later. */
  readonly knownAt: number;
}

export function principalOf(user: UserRecord, knownAt: number): Principal {
  return {
    account: user.account,
    accountKey: user.accountKey,
    chatUsername: user.chatUsername,
    chatUuid: user.chatUuid,
    agoraUid: user.agoraUid,
    tokensNotBefore: user.tokensNotBefore,
    knownAt,
  };
}

/**
 * The issue time of a token minted for `principal` (whole seconds): never before its revocation
 * boundary, so a token issued right after a revocation is valid; and never after the moment its
 * revocation state was known, so that a revocation this server instance has not learnt yet also
 * revokes every token it mints meanwhile (see README, "Revocation").
 */
export function issueSecondFor(principal: Principal): number {
  return Math.max(Math.floor(principal.knownAt / 1000), principal.tokensNotBefore);
}

/** The boundary that revokes every token issued up to and including the second of `nowMs`. */
export function revocationBoundaryAt(nowMs: number): number {
  return Math.floor(nowMs / 1000) + 1;
}
