import { parseNewPassword, parsePresentedPassword } from '../domain/password.js';
import { UnauthenticatedError } from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { PasswordHasher } from '../ports/password-hasher.js';
import type { IssuedToken } from '../ports/token-issuer.js';
import type { UserRepository } from '../ports/user-repository.js';
import { endChatSessions } from './chat-sessions.js';
import type { IssueChatToken } from './issue-chat-token.js';
import type { PasswordCheck } from './password-check.js';
import { principalOf, revocationBoundaryAt, type Principal } from './principal.js';
import type { VerifyChatToken } from './verify-chat-token.js';

export interface ChangePasswordCommand {
  /** The bearer chat token. */
  readonly chatToken: string;
  readonly currentPassword: string;
  readonly newPassword: string;
  /** The client's address, throttled alongside the account. */
  readonly clientAddress?: string;
}

export interface PasswordChanged {
  readonly principal: Principal;
  /** Valid although issued in the second of the revocation (see {@link revocationBoundaryAt}). */
  readonly chatToken: IssuedToken;
}

export interface ChangePasswordDeps {
  users: UserRepository;
  verifyChatToken: VerifyChatToken;
  passwordCheck: PasswordCheck;
  passwordHasher: PasswordHasher;
  passwordMinLength: number;
  issueChatToken: IssueChatToken;
  chatProvisioner: ChatProvisioner;
  clock: Clock;
  logger?: Logger;
}

/**
 * Replaces the password of the bearer's user, revokes every chat token issued to it so far, ends its
 * chat sessions and returns a fresh chat token (dated at the revocation boundary, so it is valid).
 * A wrong current password counts as a failed login.
 * @throws UnauthenticatedError, InvalidRequestError (field `password` or `newPassword`), InvalidCredentialsError, TooManyAttemptsError, ServerBusyError
 */
export class ChangePassword {
  constructor(private readonly deps: ChangePasswordDeps) {}

  async execute(input: ChangePasswordCommand): Promise<PasswordChanged> {
    const { users, verifyChatToken, passwordHasher, clock } = this.deps;
    const user = await verifyChatToken.activeOwnerOf(input.chatToken);
    const current = parsePresentedPassword(input.currentPassword, 'password');
    const next = parseNewPassword(input.newPassword, this.deps.passwordMinLength, 'newPassword');
    await this.deps.passwordCheck.verify(user, current, input.clientAddress);
    const passwordHash = await passwordHasher.hash(next);

    const now = clock.now();
    const changed = await users.changePassword(user.accountKey, {
      previousHash: user.passwordHash ?? '', passwordHash, tokensNotBefore: revocationBoundaryAt(now), at: new Date(now),
    });
    // Another change (password, disable, deletion) won the race and revoked this bearer.
    if (!changed) throw new UnauthenticatedError('This chat token was revoked; log in again.');
    verifyChatToken.forget(changed);
    await endChatSessions(this.deps.chatProvisioner, changed, this.deps.logger);

    const principal = principalOf(changed, now);
    return { principal, chatToken: await this.deps.issueChatToken.execute(principal) };
  }
}
