import { parsePresentedPassword } from '../domain/password.js';
import { UnauthenticatedError } from '../errors.js';
import type { AccountDeletion } from './account-deletion.js';
import type { PasswordCheck } from './password-check.js';
import type { VerifyChatToken } from './verify-chat-token.js';

export interface DeleteAccountCommand {
  readonly chatToken: string;
  readonly password: string;
  readonly clientAddress?: string;
}

/**
 * Deletes the bearer's own account and its chat user, after checking its password (throttled like a
 * login). When the chat service is down the account stays unusable and `deleting`; calling again
 * with a token of that user and the password, or waiting for the server's own retry, finishes it.
 * @throws UnauthenticatedError, InvalidRequestError (field `password`), InvalidCredentialsError, TooManyAttemptsError, ChatServiceUnavailableError
 */
export class DeleteAccount {
  constructor(private readonly deps: { verifyChatToken: VerifyChatToken; passwordCheck: PasswordCheck; deletion: AccountDeletion }) {}

  async execute(input: DeleteAccountCommand): Promise<void> {
    const { verifyChatToken, passwordCheck, deletion } = this.deps;
    const { user, issuedAt } = await verifyChatToken.ownerOf(input.chatToken);
    // Tokens are revoked when a deletion starts: one of that user's tokens may still finish it.
    const usable = user?.status === 'deleting' || (user?.status === 'active' && issuedAt >= user.tokensNotBefore);
    if (!user || !usable) throw new UnauthenticatedError('The token names no active user.');
    const password = parsePresentedPassword(input.password);
    await passwordCheck.verify(user, password, input.clientAddress);
    verifyChatToken.forget(user);
    await deletion.delete(user);
  }
}
