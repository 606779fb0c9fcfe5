import { ForbiddenError, InvalidRequestError, isSameAccount, parseAccount, UnauthenticatedError, type Principal } from '@chat-app-server/core';
import type { Context } from 'koa';
import { bearerTokenOf } from './input.js';
import type { HttpCore, TokenAuth } from './routes.js';

/** Who calls a token endpoint, and whether a bearer proved it. */
export interface Caller {
  readonly principal: Principal;
  /** False only under `legacy`, for a caller named by `userAccount` without a bearer. */
  readonly authenticated: boolean;
}

/**
 * The caller of a token endpoint. With a bearer: its principal, and `userAccount` (optional, as the
 * sample servers' clients send it) must name that same account. Without one: refused, except under
 * `legacy`, where the sample servers issued tokens for the named account unauthenticated.
 * @param options.acceptChatUsername `userAccount` may also be the caller's chat user name (the Java
 *   demo's clients send whichever name they logged in to the chat SDK with)
 * @throws UnauthenticatedError, ForbiddenError, InvalidRequestError (field `userAccount`)
 */
export async function tokenCaller(
  ctx: Context, core: HttpCore, tokenAuth: TokenAuth, userAccount: string | undefined, options: { acceptChatUsername?: boolean } = {},
): Promise<Caller> {
  const bearer = bearerTokenOf(ctx);
  if (bearer !== undefined) {
    const principal = await core.verifyChatToken.execute(bearer);
    if (userAccount !== undefined && !names(principal, userAccount, options.acceptChatUsername ?? false)) {
      throw new ForbiddenError('userAccount does not match the authenticated user.');
    }
    return { principal, authenticated: true };
  }
  if (tokenAuth !== 'legacy') {
    throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>" from login.');
  }
  if (userAccount === undefined || userAccount === '') {
    throw new InvalidRequestError('userAccount', 'userAccount is required without a bearer token.');
  }
  const principal = await core.findActiveUser.execute(userAccount);
  if (!principal) throw new UnauthenticatedError('No active user has this userAccount.');
  return { principal, authenticated: false };
}

/** Under `legacy`, a bearer is optional but, when sent, must be valid. @throws UnauthenticatedError */
export async function optionalCaller(ctx: Context, core: HttpCore): Promise<Principal | undefined> {
  const bearer = bearerTokenOf(ctx);
  return bearer === undefined ? undefined : core.verifyChatToken.execute(bearer);
}

/** The bearer's chat token, required. @throws UnauthenticatedError */
export function requiredBearer(ctx: Context): string {
  const bearer = bearerTokenOf(ctx);
  if (bearer === undefined) throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>".');
  return bearer;
}

function names(principal: Principal, userAccount: string, acceptChatUsername: boolean): boolean {
  if (acceptChatUsername && userAccount === principal.chatUsername) return true;
  return isSameAccount(parseAccount(userAccount).account, principal.accountKey);
}
