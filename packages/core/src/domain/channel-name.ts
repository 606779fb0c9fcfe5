import { InvalidRequestError } from '../errors.js';

// Agora RTC channel names: under 64 bytes of a-z A-Z 0-9, space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,
const CHANNEL_NAME = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,]{1,63}$/;

/** @throws InvalidRequestError naming `field` */
export function parseChannelName(value: unknown, field = 'channelName'): string {
  if (typeof value !== 'string' || value.length === 0) throw InvalidRequestError.rule(field, 'is required.');
  if (!CHANNEL_NAME.test(value)) {
    throw InvalidRequestError.rule(field, 'must be 1-63 characters of a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,');
  }
  return value;
}
