/** Whom a chat user token names. */
export interface ChatSubject {
  readonly chatUsername: string;
  readonly chatUuid: string | null;
}

export interface IssuedToken {
  readonly token: string;
  /** Issue time (whole seconds) plus lifetime, in milliseconds since epoch. */
  readonly expireTimestamp: number;
}

export interface RtcGrant {
  readonly channelName: string;
  readonly agoraUid: number;
  /** Publishers may publish audio, video and data; subscribers may only join. */
  readonly publisher: boolean;
}

/** How to issue one token. */
export interface IssueOptions {
  /**
   * The token's issue time, whole seconds since the epoch, when it must not be "now": core dates a
   * token after a revocation boundary or before a moment it knew the user's revocation state.
   * At most 60 s ahead of the issuer's clock, and recent enough that the token is not born expired.
   */
  readonly issuedAt?: number;
}

/** The identity proven by a verified chat user token. */
export interface VerifiedChatToken {
  /** What the token names: a chat username or a chat uuid, per {@link TokenIssuer.subjectKind}. */
  readonly subject: string;
  /** Issue time of the token, whole seconds since the epoch. */
  readonly issuedAt: number;
  /** Expiry of the token, ms since epoch. */
  readonly expiresAt: number;
}

/** Mints and verifies Agora AccessToken2 tokens. */
export interface TokenIssuer {
  /** Which chat identifier the issued chat user tokens name. */
  readonly subjectKind: 'username' | 'uuid';

  /**
   * A chat user token (Chat service, user privilege).
   * @throws RangeError when `options.issuedAt` is not a whole second within the allowed range
   */
  issueChatToken(subject: ChatSubject, options?: IssueOptions): Promise<IssuedToken>;

  /** One token with the chat user privilege and RTC privileges for one channel and uid. */
  issueChatRtcToken(subject: ChatSubject, grant: RtcGrant, options?: IssueOptions): Promise<IssuedToken>;

  /**
   * Verifies a chat user token issued with our credentials: format, signature, App ID, expiry and
   * the chat user privilege.
   * @throws UnauthenticatedError for anything else (including app tokens)
   */
  verifyChatToken(token: string): Promise<VerifiedChatToken>;
}

/**
 * For {@link TokenIssuer} implementations: the issue second of a new token: `issuedAt` when given (at most 60 s ahead, not already expired), else now.
 * @throws RangeError for any other `issuedAt`
 */
export function checkedIssueSecond(issuedAt: number | undefined, nowMs: number, lifetimeSeconds: number): number {
  const now = Math.floor(nowMs / 1000);
  if (issuedAt === undefined) return now;
  if (!Number.isInteger(issuedAt) || issuedAt > now + 60 || issuedAt + lifetimeSeconds <= now) {
    throw new RangeError(`issuedAt ${issuedAt} must be a whole second from ${now - lifetimeSeconds + 1} to ${now + 60}.`);
  }
  return issuedAt;
}

export const TokenIssuer: unique symbol = Symbol.for('chat-app-server.TokenIssuer');
