// Tokens are read with adapter-agora's independent AccessToken2 codec (node zlib + crypto, not
// agora-token), so a bug in agora-token or in our issuer cannot hide behind the same parser.
import { decodeToken, hasValidSignature, type DecodedToken } from '@chat-app-server/adapter-agora/testing';

export {
  CHAT_PRIVILEGE_USER, RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_DATA, RTC_PUBLISH_VIDEO, SERVICE_CHAT, SERVICE_RTC,
  type DecodedToken,
} from '@chat-app-server/adapter-agora/testing';

/** The token's fields, and whether its signature was made with `certificate`. */
export function decodeAccessToken2(token: string, certificate: string): DecodedToken & { signatureValid: boolean } {
  return { ...decodeToken(token), signatureValid: hasValidSignature(token, certificate) };
}
