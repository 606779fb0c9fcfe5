/** The states of a user row: `pending` while its registration runs, `active` once its chat user exists. */
export const USER_STATUSES = ['pending', 'active'] as const;

export type UserStatus = (typeof USER_STATUSES)[number];

/** One app user and its chat identity, as stored. */
export interface UserRecord {
  readonly account: string;
  readonly accountKey: string;
  /** `null` for users provisioned by an embedding backend that authenticates them itself. */
  readonly passwordHash: string | null;
  readonly chatUsername: string;
  /** The chat service's uuid, known once the row is `active`. */
  readonly chatUuid: string | null;
  readonly agoraUid: number;
  readonly status: UserStatus;
  /** Identifies the registration attempt that owns a `pending` row; `null` once `active`. */
  readonly leaseId: string | null;
  /** End of the owning attempt's lease; after it another attempt may take the row over. */
  readonly leaseExpiresAt: Date | null;
  /** When a chat-user creation was first attempted for this row (kept across takeovers). */
  readonly creationAttemptedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewPendingUser {
  readonly account: string;
  readonly accountKey: string;
  readonly passwordHash: string | null;
  readonly chatUsername: string;
  readonly leaseId: string;
  readonly leaseExpiresAt: Date;
  readonly now: Date;
  /** Records the chat-user creation attempt with the insert (a batch registration does). @default null */
  readonly creationAttemptedAt?: Date;
}

/** One row of {@link UserRepository.activateMany}. */
export interface Activation {
  readonly accountKey: string;
  readonly leaseId: string;
  readonly chatUuid: string;
}

/** A user whose chat user exists already (an imported user): stored `active` at once. */
export interface NewActiveUser {
  readonly account: string;
  readonly accountKey: string;
  readonly passwordHash: string | null;
  readonly chatUsername: string;
  readonly chatUuid: string;
  /** An RTC uid to keep (one that clients already hold); a free one is drawn when it is taken. */
  readonly agoraUid?: number;
  readonly now: Date;
}

export interface Takeover {
  readonly leaseId: string;
  readonly leaseExpiresAt: Date;
  readonly passwordHash: string | null;
  readonly now: Date;
}

/**
 * Stores app users and their chat identities. Absent rows are `undefined`, never a throw.
 * Account keys are compared exactly: the caller has already case-folded them.
 */
export interface UserRepository {
  /** The user whose case-folded account key is `accountKey`. */
  findByAccountKey(accountKey: string): Promise<UserRecord | undefined>;

  /** The user whose chat username is exactly `chatUsername`. */
  findByChatUsername(chatUsername: string): Promise<UserRecord | undefined>;

  /** The user whose chat uuid is exactly `chatUuid`. */
  findByChatUuid(chatUuid: string): Promise<UserRecord | undefined>;

  /**
   * Inserts a `pending` row with `user.creationAttemptedAt` (default null) and an agoraUid from `drawAgoraUid`.
   * When the drawn uid is taken, draws again (at least 5 times) until one is free.
   * @throws RangeError when `drawAgoraUid` returns anything but an integer in 1..AGORA_UID_MAX
   * @throws AccountExistsError when a row with this account key exists, whatever its state
   * @throws ChatUsernameTakenError when another row has this chat username
   */
  insertPending(user: NewPendingUser, drawAgoraUid: () => number): Promise<UserRecord>;

  /**
   * {@link insertPending} for many users, each with its own outcome as if inserted alone, in one
   * transaction where the store has them (a batch costs one commit, not one per user).
   * @returns per user, in order: the stored row, or the error insertPending throws for that user
   *   (AccountExistsError, ChatUsernameTakenError, InvalidRequestError, RangeError)
   * @throws anything else (the store is unavailable): then none is inserted
   */
  insertPendingMany(users: readonly NewPendingUser[], drawAgoraUid: () => number): Promise<Array<UserRecord | Error>>;

  /**
   * Inserts an `active` row for an existing chat user, in one statement (a crash leaves the row
   * either stored whole or not at all). The agoraUid is `user.agoraUid` when it is free, otherwise
   * one from `drawAgoraUid`, redrawn as {@link insertPending} does.
   * @throws RangeError when `user.agoraUid` or a drawn uid is not an integer in 1..2^32-1
   * @throws AccountExistsError when a row with this account key exists, whatever its state
   * @throws ChatUsernameTakenError when another row has this chat username or chat uuid
   */
  insertActive(user: NewActiveUser, drawAgoraUid: () => number): Promise<UserRecord>;

  /**
   * Compare-and-swap takeover of a `pending` row still owned by `expectedLeaseId`: installs the new
   * lease and password hash, keeps chat username, agoraUid and `creationAttemptedAt`.
   * Of concurrent takeovers with the same `expectedLeaseId`, exactly one succeeds.
   * @returns the updated row, or `undefined` when the row is gone, active or owned by another lease
   */
  takeOverPending(accountKey: string, expectedLeaseId: string, takeover: Takeover): Promise<UserRecord | undefined>;

  /**
   * Records that a chat-user creation is being attempted for this `pending` row. Keeps an earlier
   * `creationAttemptedAt` when there is one.
   * @returns false when the row is not pending under `leaseId`
   */
  markCreationAttempted(accountKey: string, leaseId: string, at: Date): Promise<boolean>;

  /**
   * Ends the lease of a `pending` row at `at`, so the next attempt may take it over at once.
   * @returns false when the row is not pending under `leaseId`
   */
  endLease(accountKey: string, leaseId: string, at: Date): Promise<boolean>;

  /**
   * Marks a `pending` row owned by `leaseId` as `active` with its chat uuid and clears the lease
   * (even when the lease has expired but nobody took the row over).
   * @returns the active row, or `undefined` when the row is not pending under `leaseId`
   * @throws ChatUsernameTakenError when another row already holds `chatUuid`
   */
  activate(accountKey: string, leaseId: string, chatUuid: string, at: Date): Promise<UserRecord | undefined>;

  /**
   * {@link activate} for many rows, each with its own outcome, in one transaction where the store has them.
   * @returns per row, in order: what activate returns, or the error it throws for that row (ChatUsernameTakenError)
   * @throws anything else (the store is unavailable): then none is activated
   */
  activateMany(rows: readonly Activation[], at: Date): Promise<Array<UserRecord | undefined | Error>>;

  /**
   * Deletes a `pending` row owned by `leaseId` (a reservation that must not stand).
   * @returns false when there was no such row
   */
  deletePending(accountKey: string, leaseId: string): Promise<boolean>;

  /** Replaces the password hash of an existing row (rehash after a parameter upgrade). */
  updatePasswordHash(accountKey: string, passwordHash: string, at: Date): Promise<void>;
}

export const UserRepository: unique symbol = Symbol.for('chat-app-server.UserRepository');
