import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { endChatSessions } from './chat-sessions.js';
import { revocationBoundaryAt } from './principal.js';
import type { VerifyChatToken } from './verify-chat-token.js';

export interface RevokeTokensDeps {
  users: UserRepository;
  verifyChatToken: VerifyChatToken;
  chatProvisioner: ChatProvisioner;
  clock: Clock;
  logger?: Logger;
}

/**
 * "Log out everywhere": revokes every chat token issued to the bearer's user so far (up to and
 * including the current second) and ends its chat sessions.
 * @throws UnauthenticatedError
 */
export class RevokeTokens {
  constructor(private readonly deps: RevokeTokensDeps) {}

  async execute(command: { readonly chatToken: string }): Promise<void> {
    await this.revoke(await this.deps.verifyChatToken.activeOwnerOf(command.chatToken));
  }

  /** Revokes the tokens of `user` whatever its state. @returns the updated row, or undefined when it is gone */
  async revoke(user: UserRecord): Promise<UserRecord | undefined> {
    const { users, verifyChatToken, clock } = this.deps;
    const now = clock.now();
    const revoked = await users.revokeTokens(user.accountKey, revocationBoundaryAt(now), new Date(now));
    verifyChatToken.forget(user);
    if (revoked?.status === 'active' || revoked?.status === 'disabled') {
      await endChatSessions(this.deps.chatProvisioner, revoked, this.deps.logger);
    }
    return revoked;
  }
}
