import { createHash } from 'node:crypto';
import { isValidChatUsername } from '../domain/chat-username.js';
import type { ChatUsernamePolicy } from '../ports/chat-username-policy.js';

// A derived name starts with this prefix; an account key that starts with it is derived too, so a
// direct name can never equal a derived one.
const DERIVED_PREFIX = 'u.';

/**
 * Uses the case-folded account as chat username when Agora accepts it (`jack` -> `jack`); any other
 * account (upper case is folded already; unicode, `@`, spaces, too long) gets `u.` plus 40 hex
 * characters of its SHA-256, which is stable and collision-free in practice.
 */
export class DefaultChatUsernamePolicy implements ChatUsernamePolicy {
  usernameFor(accountKey: string): string {
    if (isValidChatUsername(accountKey) && !accountKey.startsWith(DERIVED_PREFIX)) return accountKey;
    return DERIVED_PREFIX + createHash('sha256').update(accountKey, 'utf8').digest('hex').slice(0, 40);
  }
}

/**
 * Always derives an opaque name, so that account names never reach the chat service (Agora's
 * security advice: do not use real user ids as chat usernames).
 */
export class OpaqueChatUsernamePolicy implements ChatUsernamePolicy {
  usernameFor(accountKey: string): string {
    return DERIVED_PREFIX + createHash('sha256').update(accountKey, 'utf8').digest('hex').slice(0, 40);
  }
}
