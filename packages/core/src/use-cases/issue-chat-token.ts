import type { TokenIssuer } from '../ports/token-issuer.js';
import { issueSecondFor, type Principal } from './principal.js';

export interface ChatTokenOutput {
  readonly accessToken: string;
  /** ms since epoch */
  readonly expireTimestamp: number;
  readonly chatUserName: string;
}

/** A chat user token (AccessToken2, Chat service, user privilege) for an authenticated user. */
export class IssueChatToken {
  constructor(private readonly deps: { tokens: TokenIssuer }) {}

  async execute(principal: Principal): Promise<ChatTokenOutput> {
    const issued = await this.deps.tokens.issueChatToken(principal, { issuedAt: issueSecondFor(principal) });
    return { accessToken: issued.token, expireTimestamp: issued.expireTimestamp, chatUserName: principal.chatUsername };
  }
}
