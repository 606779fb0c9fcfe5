export {
  decodeToken, encodeToken, hasValidSignature, type DecodedToken, type DecodedService,
  SERVICE_RTC, SERVICE_CHAT, CHAT_PRIVILEGE_USER, CHAT_PRIVILEGE_APP,
  RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_VIDEO, RTC_PUBLISH_DATA,
} from './access-token-codec.js';
