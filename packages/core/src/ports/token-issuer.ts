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

/** The identity proven by a verified chat user token. */
export interface VerifiedChatToken {
  /** What the token names: a chat username or a chat uuid, per {@link TokenIssuer.subjectKind}. */
  readonly subject: string;
  /** Expiry of the token, ms since epoch. */
  readonly expiresAt: number;
}

/** Mints and verifies Agora AccessToken2 tokens. */
export interface TokenIssuer {
  /** Which chat identifier the issued chat user tokens name. */
  readonly subjectKind: 'username' | 'uuid';

  /** A chat user token (Chat service, user privilege). */
  issueChatToken(subject: ChatSubject): Promise<IssuedToken>;

  /** One token with the chat user privilege and RTC privileges for one channel and uid. */
  issueChatRtcToken(subject: ChatSubject, grant: RtcGrant): Promise<IssuedToken>;

  /**
   * Verifies a chat user token issued with our credentials: format, signature, App ID, expiry and
   * the chat user privilege.
   * @throws UnauthenticatedError for anything else (including app tokens)
   */
  verifyChatToken(token: string): Promise<VerifiedChatToken>;
}

export const TokenIssuer: unique symbol = Symbol.for('chat-app-server.TokenIssuer');
