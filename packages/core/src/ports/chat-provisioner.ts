/** A user of the chat service as the chat service reports it. */
export interface ChatUser {
  readonly username: string;
  readonly uuid: string;
  /** Creation time reported by the chat service (ms since epoch), when it reports one. */
  readonly createdAt?: number;
}

/** Why one user of a batch was not created. */
export interface ChatUserBatchFailure {
  readonly username: string;
  /** The chat service's own words, for logs and reports. */
  readonly reason: string;
  /**
   * `chat_user_exists`: the name is registered already; `invalid_chat_username`: the service refused
   * the name; `unknown`: anything else (the user may or may not exist).
   */
  readonly code: 'chat_user_exists' | 'invalid_chat_username' | 'unknown';
  /**
   * True when this user's registration was sent again after a try whose outcome is unknown, so an
   * existing user may have been created by that earlier try (as for `createUser`).
   */
  readonly afterUnknownOutcome: boolean;
}

export interface ChatUserBatchResult {
  readonly created: ChatUser[];
  readonly failed: ChatUserBatchFailure[];
}

/**
 * Creates, reads, bans and deletes users of the chat service. Every failure is one of the documented domain
 * errors; transient trouble (timeouts, dropped connections, 5xx, rate limits after retries) is
 * always `chat_service_unavailable`.
 */
export interface ChatProvisioner {
  /**
   * The longest one call takes, in ms, its retries and waits included: every call settles (at the
   * latest with `chat_service_unavailable`) within it, however the chat service behaves. The
   * registration lease is derived from it (`registrationLeaseSecondsFor`). Undefined when the
   * provisioner cannot promise a bound; the lease is then the conservative 60 s.
   */
  readonly deadlineMs?: number;

  /**
   * Creates one chat user with a password the caller chose (never the app user's own).
   * @throws ChatUserExistsError when the username is registered already (`afterUnknownOutcome`
   *   is true when an earlier try of this call may have created it)
   * @throws InvalidChatUsernameError when the chat service rejects the name
   * @throws ChatServiceUnavailableError on transient failure: the user may or may not exist
   * @throws ChatServiceMisconfiguredError when the chat service rejects our credentials
   */
  createUser(username: string, password: string): Promise<ChatUser>;

  /** The chat user named `username`, or `undefined` when there is none. */
  getUser(username: string): Promise<ChatUser | undefined>;

  /** Deletes a chat user. @returns false when there was none. */
  deleteUser(username: string): Promise<boolean>;

  /**
   * Bans a chat user: it is logged out and cannot log in until activated again.
   * @returns false when there is no such user
   */
  deactivateUser(username: string): Promise<boolean>;

  /** Lifts a ban. @returns false when there is no such user */
  activateUser(username: string): Promise<boolean>;

  /**
   * Ends every session of a chat user (all devices); it must log in again.
   * @returns false when there is no such user
   */
  forceOffline(username: string): Promise<boolean>;

  /**
   * Creates up to 60 users in one call; per-user failures are reported, not thrown.
   * @throws ChatServiceUnavailableError when the whole batch failed (any user may or may not exist)
   * @throws ChatServiceMisconfiguredError when the chat service rejects our credentials
   * @throws RangeError for more than 60 users
   */
  createUsers(users: ReadonlyArray<{ readonly username: string; readonly password: string }>): Promise<ChatUserBatchResult>;
}

export const ChatProvisioner: unique symbol = Symbol.for('chat-app-server.ChatProvisioner');
