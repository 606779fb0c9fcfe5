import { AccessToken2, ServiceChat, kChatServiceType } from 'agora-token/src/AccessToken2.js';

/** Chat service privileges: a user token carries `user`, an app (REST admin) token carries `app`. */
export const ChatPrivilege = { user: ServiceChat.kPrivilegeUser, app: ServiceChat.kPrivilegeApp } as const;

/** The Chat service part of an AccessToken2 that passed the signature check. */
export interface VerifiedChatService {
  /** '' for app tokens. */
  readonly userId: string;
  /** Privilege -> duration in seconds after issueTs. */
  readonly privileges: Readonly<Record<number, number>>;
}

/** An AccessToken2 whose format, App ID and signature were checked; expiry is the caller's to check. */
export interface VerifiedAccessToken {
  readonly issueTs: number;
  readonly expire: number;
  readonly chat: VerifiedChatService | undefined;
}

// Real tokens are a few hundred characters; the cap bounds the inflate work an attacker can cause.
const MAX_TOKEN_LENGTH = 2048;

/**
 * Parses an AccessToken2 ("007...") and checks that it was signed for `appId` with `appCertificate`.
 * @returns undefined for anything else (garbage, another app, another certificate, tampered bytes)
 */
export function readAccessToken(token: unknown, appId: string, appCertificate: string): VerifiedAccessToken | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !token.startsWith('007')) return undefined;
  const parsed = new AccessToken2();
  if (!parsed.from_string(token)) return undefined;
  // verifySignature checks neither the App ID nor expiry.
  if (String(parsed.appId) !== appId || !parsed.verifySignature(appCertificate)) return undefined;
  const service = parsed.getServices(kChatServiceType)[0];
  return {
    issueTs: parsed.issueTs,
    expire: parsed.expire,
    chat: service && { userId: String(service.__user_id ?? ''), privileges: service.__privileges },
  };
}

/** The expiry (ms since epoch) of a privilege, or undefined when it was not granted. */
export function privilegeExpiresAt(token: VerifiedAccessToken, privilege: number): number | undefined {
  const duration = token.chat?.privileges[privilege];
  if (duration === undefined) return undefined;
  return Math.min(token.issueTs + token.expire, token.issueTs + duration) * 1000;
}
