import { isDomainError } from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Logger } from '../ports/logger.js';
import type { UserRecord } from '../ports/user-repository.js';

/**
 * Ends the user's chat sessions at the chat service after a revocation. The revocation itself is
 * already stored, so a chat service outage only leaves devices connected until their chat token
 * expires: it is logged, not failed.
 */
export async function endChatSessions(chat: ChatProvisioner, user: UserRecord, logger?: Logger): Promise<boolean> {
  try {
    return await chat.forceOffline(user.chatUsername);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    logger?.warn({ account: user.accountKey, chatUsername: user.chatUsername, err }, 'could not force the chat user offline');
    return false;
  }
}
