import { ForbiddenError, InvalidRequestError, isSameAccount, parseAccount, UnauthenticatedError, type Principal } from '@chat-app-server/core';
import type { Context } from 'koa';
import { bearerTokenOf } from './input.js';
import type { HttpCore, TokenAuth } from './routes.js';

/**
 * The caller of a token endpoint. With a bearer: its principal, and `userAccount` (optional, as the
 * sample servers' clients send it) must name that same account. Without one: refused, except under
 * `legacy`, where the sample servers issued tokens for the named account unauthenticated.
 * @throws UnauthenticatedError, ForbiddenError, InvalidRequestError (field `userAccount`)
 */
export async function tokenCaller(ctx: Context, core: HttpCore, tokenAuth: TokenAuth, userAccount: string | undefined): Promise<Principal> {
  const bearer = bearerTokenOf(ctx);
  if (bearer !== undefined) {
    const principal = await core.verifyChatToken.execute(bearer);
    if (userAccount !== undefined && !isSameAccount(parseAccount(userAccount).account, principal.accountKey)) {
      throw new ForbiddenError('userAccount does not match the authenticated user.');
    }
    return principal;
  }
  if (tokenAuth !== 'legacy') {
    throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>" from login.');
  }
  if (userAccount === undefined || userAccount === '') {
    throw new InvalidRequestError('userAccount', 'userAccount is required without a bearer token.');
  }
  const principal = await core.findActiveUser.execute(userAccount);
  if (!principal) throw new UnauthenticatedError('No active user has this userAccount.');
  return principal;
}

/** The bearer's chat token, required. @throws UnauthenticatedError */
export function requiredBearer(ctx: Context): string {
  const bearer = bearerTokenOf(ctx);
  if (bearer === undefined) throw new UnauthenticatedError('A chat user token is required: send "Authorization: Bearer <token>".');
  return bearer;
}
