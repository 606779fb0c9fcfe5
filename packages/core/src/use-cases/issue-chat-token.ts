import type { IssuedToken, TokenIssuer } from '../ports/token-issuer.js';
import type { Principal } from './principal.js';

/** A chat user token (AccessToken2, Chat service, user privilege) for an authenticated user. */
export class IssueChatToken {
  constructor(private readonly deps: { tokens: TokenIssuer }) {}

  execute(principal: Principal): Promise<IssuedToken> {
    return this.deps.tokens.issueChatToken(principal);
  }
}
