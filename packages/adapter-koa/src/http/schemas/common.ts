import { ACCOUNT_MAX_LENGTH, AGORA_UID_MAX, PASSWORD_MAX_BYTES } from '@chat-app-server/core';
import { Type } from '@sinclair/typebox';

// Field schemas shared by the profiles. The edge checks shapes; core checks the rules the
// descriptions state (and names the field when one is broken).

export const UserAccount = Type.String({
  description: `The account name: 1 to ${ACCOUNT_MAX_LENGTH} characters once prepared (fullwidth and halfwidth forms mapped to their standard forms, NFC), no control, invisible, private-use, unassigned or compatibility characters, no leading or trailing white space; compared case-insensitively.`,
  examples: ['jack'],
});

export const UserPassword = Type.String({
  description: `The password: at least the configured minimum length (PASSWORD_MIN_LENGTH, 8 by default), at most ${PASSWORD_MAX_BYTES} bytes in UTF-8.`,
  examples: ['correct horse battery'],
});

export const AccessToken = Type.String({
  description: 'An Agora AccessToken2 ("007" followed by base64).',
  pattern: '^007[A-Za-z0-9+/=_-]+$',
  examples: ['007eJxTYGBgkPH8Pr2f2YAAAAAA'],
});

export const ExpireTimestamp = Type.Integer({
  description: 'When the token expires, in milliseconds since the Unix epoch.',
  examples: [1767312000000],
});

export const ChatUserName = Type.String({ description: 'The Agora Chat user name of the account.', pattern: '^[a-z0-9_.-]{1,64}$', examples: ['jack'] });

export const AgoraUid = Type.String({
  description: `The account's persistent RTC uid, a decimal integer in 1..${AGORA_UID_MAX}.`,
  pattern: '^[1-9][0-9]{0,9}$',
  examples: ['1316722407'],
});

export const ChannelName = Type.String({
  description: 'The RTC channel: 1 to 64 characters of a-z A-Z 0-9 space and !#$%&()+-:;<=>.?@[]^_{|}~,',
  examples: ['lobby'],
});
