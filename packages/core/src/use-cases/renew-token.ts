import type { IssuedToken } from '../ports/token-issuer.js';
import type { IssueChatToken } from './issue-chat-token.js';
import type { Principal } from './principal.js';
import type { VerifyChatToken } from './verify-chat-token.js';

export interface RenewTokenCommand {
  /** A chat user token this server issued, still valid. */
  readonly chatToken: string;
}

export interface RenewedToken {
  readonly principal: Principal;
  readonly chatToken: IssuedToken;
}

/**
 * A fresh chat user token for the holder of a valid one.
 * @throws UnauthenticatedError
 */
export class RenewToken {
  constructor(private readonly deps: { verifyChatToken: VerifyChatToken; issueChatToken: IssueChatToken }) {}

  async execute(command: RenewTokenCommand): Promise<RenewedToken> {
    const principal = await this.deps.verifyChatToken.execute(command.chatToken);
    return { principal, chatToken: await this.deps.issueChatToken.execute(principal) };
  }
}
