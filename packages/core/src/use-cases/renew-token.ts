import type { ChatTokenOutput, IssueChatToken } from './issue-chat-token.js';
import type { VerifyChatToken } from './verify-chat-token.js';

/**
 * A fresh chat user token for the holder of a valid one.
 * @throws UnauthenticatedError
 */
export class RenewToken {
  constructor(private readonly deps: { verifyChatToken: VerifyChatToken; issueChatToken: IssueChatToken }) {}

  async execute(bearer: unknown): Promise<ChatTokenOutput> {
    // Read afresh: the renewed token is dated now, and a revocation made on another instance is seen at once.
    const principal = await this.deps.verifyChatToken.execute(bearer, { fresh: true });
    return this.deps.issueChatToken.execute(principal);
  }
}
