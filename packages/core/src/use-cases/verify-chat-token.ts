import { UnauthenticatedError } from '../errors.js';
import type { TokenIssuer } from '../ports/token-issuer.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { principalOf, type Principal } from './principal.js';

/**
 * Authenticates a bearer chat user token: a valid token of ours naming an active user.
 * @throws UnauthenticatedError
 */
export class VerifyChatToken {
  constructor(private readonly deps: { tokens: TokenIssuer; users: UserRepository }) {}

  async execute(token: unknown): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new UnauthenticatedError();
    const { subject } = await this.deps.tokens.verifyChatToken(token);
    const { users, tokens } = this.deps;
    const user: UserRecord | undefined = tokens.subjectKind === 'uuid'
      ? await users.findByChatUuid(subject)
      : await users.findByChatUsername(subject);
    if (!user || user.status !== 'active') throw new UnauthenticatedError('The token names no active user.');
    return principalOf(user);
  }
}
