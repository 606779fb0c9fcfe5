import { AccessToken2, ServiceChat, ServiceRtc } from 'agora-token/src/AccessToken2.js';
import { LRUCache } from 'lru-cache';
import {
  AGORA_UID_MAX,
  SystemClock,
  UnauthenticatedError,
  isValidAgoraUid,
  type ChatSubject,
  type Clock,
  type IssuedToken,
  type RtcGrant,
  type TokenIssuer,
  type VerifiedChatToken,
} from '@chat-app-server/core';
import { ChatPrivilege, privilegeExpiresAt, readAccessToken } from './access-token.js';
import { assertAgoraCredentials } from './credentials.js';

/** Options of {@link AgoraTokenIssuer}. */
export interface AgoraTokenIssuerOptions {
  /** Agora project App ID (32 hex characters). */
  readonly appId: string;
  /** Agora project App Certificate (32 hex characters); signs every token. */
  readonly appCertificate: string;
  /** Lifetime of issued tokens and of all their privileges, 1..86400 seconds. Default 86400. */
  readonly lifetimeSeconds?: number;
  /** Which chat identifier user tokens name. Default 'username' (current Agora docs). */
  readonly subjectKind?: 'username' | 'uuid';
  /** Source of the issue time. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Verified tokens remembered (least recently used first out), so that a client sending the same
   * bearer on every call pays for inflate and three HMACs once; 0 verifies every time.
   * @default 10000
   */
  readonly verifiedCacheSize?: number;
}

/** The longest token lifetime Agora accepts, and the default one. */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/**
 * How far in the future a bearer's issue time may lie: clocks of several instances disagree a little.
 * A token "issued" later than that was not issued by a server of this deployment.
 */
const MAX_CLOCK_SKEW_SECONDS = 60;
/** Default of {@link AgoraTokenIssuerOptions.verifiedCacheSize}. */
export const DEFAULT_VERIFIED_CACHE_SIZE = 10_000;

/**
 * {@link TokenIssuer} on agora-token's AccessToken2: chat user tokens, chat + RTC tokens, and
 * verification of our own chat user tokens (signature, App ID, expiry, user privilege).
 * @example
 * const tokens = new AgoraTokenIssuer({ appId, appCertificate, lifetimeSeconds: 3600 });
 * const { token, expireTimestamp } = await tokens.issueChatToken({ chatUsername: 'jack', chatUuid: null });
 */
export class AgoraTokenIssuer implements TokenIssuer {
  readonly subjectKind: 'username' | 'uuid';
  private readonly appId: string;
  private readonly appCertificate: string;
  private readonly lifetime: number;
  private readonly clock: Clock;
  // Keyed by the whole token, so a hit trusts nothing that was not verified before.
  private readonly verified: LRUCache<string, VerifiedChatToken> | undefined;

  constructor(options: AgoraTokenIssuerOptions) {
    assertAgoraCredentials(options.appId, options.appCertificate);
    const lifetime = options.lifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
      throw new RangeError(`lifetimeSeconds must be an integer from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}, got ${lifetime}.`);
    }
    const subjectKind = options.subjectKind ?? 'username';
    if (subjectKind !== 'username' && subjectKind !== 'uuid') {
      throw new TypeError(`subjectKind must be 'username' or 'uuid', got ${String(subjectKind)}.`);
    }
    this.appId = options.appId;
    this.appCertificate = options.appCertificate;
    this.lifetime = lifetime;
    this.subjectKind = subjectKind;
    this.clock = options.clock ?? new SystemClock();
    const cacheSize = options.verifiedCacheSize ?? DEFAULT_VERIFIED_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new RangeError(`verifiedCacheSize must be a non-negative integer, got ${cacheSize}.`);
    this.verified = cacheSize === 0 ? undefined : new LRUCache({ max: cacheSize });
  }

  async issueChatToken(subject: ChatSubject): Promise<IssuedToken> {
    const { token, issueTs } = this.newToken();
    token.add_service(this.chatService(subject));
    return this.build(token, issueTs);
  }

  async issueChatRtcToken(subject: ChatSubject, grant: RtcGrant): Promise<IssuedToken> {
    if (typeof grant.channelName !== 'string' || grant.channelName === '') {
      throw new TypeError('channelName must be a non-empty string.');
    }
    // uid 0 would be Agora's wildcard ("any uid may join"), so it is never a user's uid.
    if (!isValidAgoraUid(grant.agoraUid)) {
      throw new RangeError(`agoraUid must be an integer from 1 to ${AGORA_UID_MAX}.`);
    }
    const { token, issueTs } = this.newToken();
    token.add_service(this.chatService(subject));
    const rtc = new ServiceRtc(grant.channelName, grant.agoraUid);
    rtc.add_privilege(ServiceRtc.kPrivilegeJoinChannel, this.lifetime);
    if (grant.publisher) {
      rtc.add_privilege(ServiceRtc.kPrivilegePublishAudioStream, this.lifetime);
      rtc.add_privilege(ServiceRtc.kPrivilegePublishVideoStream, this.lifetime);
      rtc.add_privilege(ServiceRtc.kPrivilegePublishDataStream, this.lifetime);
    }
    token.add_service(rtc);
    return this.build(token, issueTs);
  }

  async verifyChatToken(token: string): Promise<VerifiedChatToken> {
    const now = this.clock.now();
    const cached = this.verified?.get(token);
    if (cached) {
      if (cached.expiresAt > now) return cached;
      this.verified?.delete(token);
      throw new UnauthenticatedError('The chat user token has expired.');
    }
    const parsed = readAccessToken(token, this.appId, this.appCertificate);
    if (!parsed) throw new UnauthenticatedError();
    const expiresAt = privilegeExpiresAt(parsed, ChatPrivilege.user);
    const subject = parsed.chat?.userId ?? '';
    if (expiresAt === undefined || subject === '') throw new UnauthenticatedError();
    // Signed with our certificate, yet not as this server issues tokens: it would live too long.
    if (parsed.issueTs > Math.floor(now / 1000) + MAX_CLOCK_SKEW_SECONDS) throw new UnauthenticatedError();
    const granted = Math.max(parsed.expire, parsed.chat?.privileges[ChatPrivilege.user] ?? 0);
    if (granted > this.lifetime) throw new UnauthenticatedError();
    if (expiresAt <= now) throw new UnauthenticatedError('The chat user token has expired.');
    const result: VerifiedChatToken = { subject, expiresAt };
    this.verified?.set(token, result);
    return result;
  }

  private newToken(): { token: AccessToken2; issueTs: number } {
    const issueTs = Math.floor(this.clock.now() / 1000);
    const token = new AccessToken2(this.appId, this.appCertificate, issueTs, this.lifetime);
    // The constructor replaces a falsy issueTs with the (fractional) current time.
    token.issueTs = issueTs;
    return { token, issueTs };
  }

  private chatService(subject: ChatSubject): ServiceChat {
    const id = this.subjectKind === 'uuid' ? subject.chatUuid : subject.chatUsername;
    // An empty id would silently build a token naming user "" (agora-token does not check).
    if (typeof id !== 'string' || id === '') {
      throw new TypeError(`A chat user token needs a non-empty chat ${this.subjectKind === 'uuid' ? 'uuid' : 'username'}.`);
    }
    const chat = new ServiceChat(id);
    chat.add_privilege(ServiceChat.kPrivilegeUser, this.lifetime);
    return chat;
  }

  private build(token: AccessToken2, issueTs: number): IssuedToken {
    const built = token.build();
    if (built === '') throw new Error('agora-token refused to build the token (App ID or App Certificate rejected).');
    return { token: built, expireTimestamp: (issueTs + this.lifetime) * 1000 };
  }
}
