/**
 * Every expected outcome of a use case is a {@link DomainError} with a stable `code`.
 * Codes (not classes) are the contract: they survive process boundaries and duplicate module copies.
 * {@link PORT_ERROR_CODES} belong to the ports' contracts: use cases turn them into client-facing
 * outcomes, so they never leave core.
 */
export const ERROR_CODES = [
  'invalid_request',
  'account_exists',
  'invalid_credentials',
  'unauthenticated',
  'forbidden',
  'too_many_attempts',
  'chat_service_unavailable',
  'chat_service_misconfigured',
  'chat_user_exists',
  'chat_username_taken',
  'invalid_chat_username',
  'server_busy',
  'database_unavailable',
  'account_not_found',
  'account_state_conflict',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that adapters raise to core through a port; no use case lets them escape. */
export const PORT_ERROR_CODES = ['chat_user_exists', 'invalid_chat_username'] as const satisfies readonly ErrorCode[];

/** The codes a use case can end with: what an API maps to its statuses and names. */
export type ClientErrorCode = Exclude<ErrorCode, (typeof PORT_ERROR_CODES)[number]>;

export interface DomainErrorOptions {
  cause?: unknown;
  /** Seconds after which a retry may succeed (429/503 style outcomes). */
  retryAfterSeconds?: number;
  /** The input field at fault, for `invalid_request`. */
  field?: string;
}

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.field = options.field;
  }
}

const codes = new Set<string>(ERROR_CODES);

/** True for any domain error, also one created by another copy of this module. */
export function isDomainError(err: unknown): err is DomainError {
  if (!(err instanceof Error) || !('retryAfterSeconds' in err)) return false;
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === 'string' && codes.has(code);
}

const portCodes = new Set<string>(PORT_ERROR_CODES);

/** True for an error of a port's contract ({@link PORT_ERROR_CODES}), which use cases must not let escape. */
export function isPortError(err: unknown): err is DomainError {
  return isDomainError(err) && portCodes.has(err.code);
}

/** Narrows to the error class of `code`, also for errors from another copy of this module. */
export function hasCode<C extends ErrorCode>(err: unknown, code: C): err is ErrorByCode[C] {
  return isDomainError(err) && err.code === code;
}

export class InvalidRequestError extends DomainError {
  readonly code = 'invalid_request' as const;
  /**
   * What is wrong, without naming the field ("must not be empty."), when the rule is the domain's:
   * each API then names the field in its own words (`account` is `userAccount` on the wire).
   */
  readonly problem: string | undefined;
  constructor(field: string, message: string, options: { problem?: string } = {}) {
    super(message, { field });
    this.problem = options.problem;
  }

  /** A domain rule broken by `field`: the message is `${field} ${problem}`. */
  static rule(field: string, problem: string): InvalidRequestError {
    return new InvalidRequestError(field, `${field} ${problem}`, { problem });
  }
}

export class AccountExistsError extends DomainError {
  readonly code = 'account_exists' as const;
  constructor(message = 'This account is already registered.') {
    super(message);
  }
}

export class InvalidCredentialsError extends DomainError {
  readonly code = 'invalid_credentials' as const;
  constructor() {
    super('The account or password is wrong.');
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated' as const;
  constructor(message = 'A valid chat user token is required.') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'forbidden' as const;
  constructor(message = 'This request is not allowed for the authenticated user.') {
    super(message);
  }
}

export class TooManyAttemptsError extends DomainError {
  readonly code = 'too_many_attempts' as const;
  constructor(retryAfterSeconds: number, message = 'Too many failed attempts; try again later.') {
    super(message, { retryAfterSeconds });
  }
}

export class ChatServiceUnavailableError extends DomainError {
  readonly code = 'chat_service_unavailable' as const;
  constructor(message = 'The chat service is unavailable; try again later.', options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { retryAfterSeconds: options.retryAfterSeconds ?? 5, cause: options.cause });
  }
}

/** The chat service rejected our own credentials: App ID, App Certificate or App Key is wrong. */
export class ChatServiceMisconfiguredError extends DomainError {
  readonly code = 'chat_service_misconfigured' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** Raised by a {@link ChatProvisioner} when the chat username is already registered with the chat service. */
export class ChatUserExistsError extends DomainError {
  readonly code = 'chat_user_exists' as const;
  /**
   * True when an earlier try of this same call ended without a known outcome (timeout, dropped
   * connection, 5xx) before the service answered "exists": the user may have been created by us.
   */
  readonly afterUnknownOutcome: boolean;
  constructor(readonly chatUsername: string, options: { afterUnknownOutcome?: boolean; cause?: unknown } = {}) {
    super(`The chat user "${chatUsername}" already exists.`, { cause: options.cause });
    this.afterUnknownOutcome = options.afterUnknownOutcome ?? false;
  }
}

/** The chat username derived for this account belongs to someone else (locally or at the chat service). */
export class ChatUsernameTakenError extends DomainError {
  readonly code = 'chat_username_taken' as const;
  constructor(message = 'The chat user name for this account is already taken.') {
    super(message);
  }
}

export class InvalidChatUsernameError extends DomainError {
  readonly code = 'invalid_chat_username' as const;
  constructor(readonly chatUsername: string, options: { cause?: unknown } = {}) {
    super(`"${chatUsername}" is not a valid chat user name.`, options);
  }
}

/** Load shedding: the server is saturated (for example the password hashing queue is full). */
export class ServerBusyError extends DomainError {
  readonly code = 'server_busy' as const;
  constructor(retryAfterSeconds = 1) {
    super('The server is busy; try again shortly.', { retryAfterSeconds });
  }
}

/**
 * The database could not be reached, failed, or did not answer in time (a pool acquisition or query
 * timeout). Transient: the client retries after `retryAfterSeconds`. The message is for clients and
 * says nothing about the database; the driver's error is the `cause`, for the log only.
 */
export class DatabaseUnavailableError extends DomainError {
  readonly code = 'database_unavailable' as const;
  constructor(options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super('The service is temporarily unavailable (database); try again later.', {
      retryAfterSeconds: options.retryAfterSeconds ?? 5, cause: options.cause,
    });
  }
}

/** An operator named an account that does not exist. */
export class AccountNotFoundError extends DomainError {
  readonly code = 'account_not_found' as const;
  constructor(account: string) {
    super(`No account "${account}".`);
  }
}

/** The account is not in a state that allows this change (e.g. enabling an account being deleted). */
export class AccountStateError extends DomainError {
  readonly code = 'account_state_conflict' as const;
  constructor(message: string) {
    super(message);
  }
}

/** The class of each code; a new code without a class here does not compile. */
export interface ErrorByCode {
  invalid_request: InvalidRequestError;
  account_exists: AccountExistsError;
  invalid_credentials: InvalidCredentialsError;
  unauthenticated: UnauthenticatedError;
  forbidden: ForbiddenError;
  too_many_attempts: TooManyAttemptsError;
  chat_service_unavailable: ChatServiceUnavailableError;
  chat_service_misconfigured: ChatServiceMisconfiguredError;
  chat_user_exists: ChatUserExistsError;
  chat_username_taken: ChatUsernameTakenError;
  invalid_chat_username: InvalidChatUsernameError;
  server_busy: ServerBusyError;
  database_unavailable: DatabaseUnavailableError;
  account_not_found: AccountNotFoundError;
  account_state_conflict: AccountStateError;
}
type AssertAllCodesHaveClasses = ErrorByCode[ErrorCode];
