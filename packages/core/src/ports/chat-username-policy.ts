/** Chooses the chat username for an account. */
export interface ChatUsernamePolicy {
  /**
   * A valid chat username (`^[a-z0-9_.-]{1,64}$`), the same every time for the same account key,
   * and different for different account keys.
   */
  usernameFor(accountKey: string): string;
}

export const ChatUsernamePolicy: unique symbol = Symbol.for('chat-app-server.ChatUsernamePolicy');
