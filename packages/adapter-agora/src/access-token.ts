import { inflateSync } from 'node:zlib';
import { AccessToken2, ServiceChat, kChatServiceType, kRtcServiceType } from 'agora-token/src/AccessToken2.js';

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

// Real tokens are a few hundred characters and inflate to under 300 bytes (a chat + RTC token with a
// 64-character user and a 63-character channel). agora-token's parser inflates without a limit and
// copies the rest of the buffer once per service (up to 65,535): a 2 KB bearer could cost seconds of
// CPU. These caps bound the work before agora-token sees the bytes.
const MAX_TOKEN_LENGTH = 2048;
const MAX_INFLATED_BYTES = 1024;
const MAX_SERVICES = 4;
const MAX_PRIVILEGES = 8;
// Standard base64 with padding, as agora-token writes it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses an AccessToken2 ("007...") and checks that it was signed for `appId` with `appCertificate`.
 * @returns undefined for anything else (garbage, another app, another certificate, tampered bytes)
 */
export function readAccessToken(token: unknown, appId: string, appCertificate: string): VerifiedAccessToken | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !token.startsWith('007')) return undefined;
  if (!hasBoundedShape(token.slice(3))) return undefined;
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

/**
 * True when `body` (the token after "007") inflates to at most {@link MAX_INFLATED_BYTES} and reads
 * as exactly one AccessToken2 layout: signature, App ID, three integers, at most {@link MAX_SERVICES}
 * chat or RTC services with at most {@link MAX_PRIVILEGES} privileges each, and no byte left over.
 */
function hasBoundedShape(body: string): boolean {
  if (!BASE64.test(body)) return false;
  let bytes: Buffer;
  try {
    bytes = inflateSync(Buffer.from(body, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    return false; // not zlib, truncated, or inflates beyond the cap
  }
  let at = 0;
  const skip = (length: number): boolean => {
    at += length;
    return at <= bytes.length;
  };
  const u16 = (): number | undefined => (skip(2) ? bytes.readUInt16LE(at - 2) : undefined);
  const string = (): boolean => {
    const length = u16();
    return length !== undefined && skip(length);
  };
  if (!string() || !string() || !skip(12)) return false; // signature, App ID, issueTs + expire + salt
  const services = u16();
  if (services === undefined || services > MAX_SERVICES) return false;
  for (let i = 0; i < services; i++) {
    const type = u16();
    const privileges = u16();
    if (privileges === undefined || privileges > MAX_PRIVILEGES || !skip(6 * privileges)) return false;
    if (type === kChatServiceType) {
      if (!string()) return false; // user id
    } else if (type === kRtcServiceType) {
      if (!string() || !string()) return false; // channel name, uid
    } else {
      return false; // a service that neither our tokens nor Agora's app tokens carry
    }
  }
  return at === bytes.length;
}

/** The expiry (ms since epoch) of a privilege, or undefined when it was not granted. */
export function privilegeExpiresAt(token: VerifiedAccessToken, privilege: number): number | undefined {
  const duration = token.chat?.privileges[privilege];
  if (duration === undefined) return undefined;
  return Math.min(token.issueTs + token.expire, token.issueTs + duration) * 1000;
}
