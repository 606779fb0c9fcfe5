// The public surface, by name: what an embedder or an adapter needs. Internals (the saga, the work
// limiter, the use case classes behind createCore) stay reachable only through their modules.
export {
  ERROR_CODES, PORT_ERROR_CODES, DomainError, isDomainError, isPortError, hasCode,
  InvalidRequestError, AccountExistsError, InvalidCredentialsError, UnauthenticatedError, ForbiddenError,
  TooManyAttemptsError, ChatServiceUnavailableError, ChatServiceMisconfiguredError, ChatUserExistsError,
  ChatUsernameTakenError, InvalidChatUsernameError, ServerBusyError, DatabaseUnavailableError, AccountNotFoundError, AccountStateError,
  type ErrorCode, type ClientErrorCode, type ErrorByCode, type DomainErrorOptions,
} from './errors.js';
export { parseAccount, accountKeyOf, isSameAccount, ACCOUNT_MAX_LENGTH, type Account } from './domain/account.js';
export {
  registrationLeaseSecondsFor, registrationLeaseProblem, resolveRegistrationLease, REGISTRATION_LEASE_MARGIN_SECONDS,
  UNBOUNDED_PROVISIONER_LEASE_SECONDS,
} from './registration-lease.js';
export { DEFAULT_PASSWORD_MIN_LENGTH, PASSWORD_MAX_BYTES } from './domain/password.js';
export { CHAT_USERNAME_PATTERN, isValidChatUsername } from './domain/chat-username.js';
export { AGORA_UID_MAX, AGORA_UID_DRAW_MAX, isValidAgoraUid } from './domain/agora-uid.js';

export {
  UserRepository, USER_STATUSES, type UserStatus, type UserRecord, type NewPendingUser, type NewActiveUser, type Takeover,
  type Activation, type PasswordChange, type StatusChange, type UserListQuery,
} from './ports/user-repository.js';
export { ChatProvisioner, type ChatUser, type ChatUserBatchResult, type ChatUserBatchFailure } from './ports/chat-provisioner.js';
export {
  TokenIssuer, checkedIssueSecond, type ChatSubject, type IssuedToken, type IssueOptions, type RtcGrant, type VerifiedChatToken,
} from './ports/token-issuer.js';
export { PasswordHasher, type HashReservation } from './ports/password-hasher.js';
export { Clock } from './ports/clock.js';
export { LoginThrottle, type ThrottleDecision, type ThrottleLimit } from './ports/login-throttle.js';
export { ChatUsernamePolicy } from './ports/chat-username-policy.js';
export { Logger } from './ports/logger.js';
export {
  Observer, notify, type ObservedEvent, type LoginOutcome, type RegistrationOutcome, type ChatServiceCallOutcome,
} from './ports/observer.js';
export type { BoundedCache } from './ports/bounded-cache.js';
export { ChannelMemberStore, type ChannelMember } from './ports/channel-member-store.js';

export {
  ScryptPasswordHasher, OWASP_SCRYPT_PARAMETERS, type ScryptParameters, type ScryptPasswordHasherOptions,
} from './adapters/scrypt-password-hasher.js';
export { DefaultChatUsernamePolicy, OpaqueChatUsernamePolicy } from './adapters/default-chat-username-policy.js';
export { SystemClock } from './adapters/system-clock.js';
export { InMemoryLoginThrottle } from './adapters/in-memory-login-throttle.js';
export { InMemoryChannelMemberStore } from './adapters/in-memory-channel-member-store.js';

export { principalOf, issueSecondFor, revocationBoundaryAt, type Principal } from './use-cases/principal.js';
export type { RtcRole, IssueRtcTokenCommand } from './use-cases/issue-rtc-token.js';
export { DEFAULT_LOGIN_LIMITS, type LoginLimits, type LoginUserCommand, type LoggedIn } from './use-cases/login-user.js';
export { DEFAULT_REGISTRATION_LIMITS, type RegistrationLimits, type RegisterUserCommand } from './use-cases/register-user.js';
export type { RenewTokenCommand, RenewedToken } from './use-cases/renew-token.js';
export type { ProvisionChatUserCommand } from './use-cases/provision-chat-user.js';
export { DEFAULT_CHANNEL_ROSTER, type ChannelRosterOptions } from './use-cases/channel-roster.js';
export type {
  ProvisionChatUsersItem, ProvisionChatUsersResult, ProvisionChatUsersProgress, ProvisionChatUsersOptions,
} from './use-cases/provision-chat-users.js';
export type {
  ImportUserItem, ImportFailureReason, ImportUsersResult, ImportUsersProgress, ImportUsersOptions,
} from './use-cases/import-users.js';
export { DEFAULT_PRINCIPAL_CACHE_TTL_SECONDS, type CachedPrincipal, type BearerOwner } from './use-cases/verify-chat-token.js';
export type { ChangePasswordCommand, PasswordChanged } from './use-cases/change-password.js';
export type { DeleteAccountCommand } from './use-cases/delete-account.js';
export type { AdministerAccounts } from './use-cases/administer-accounts.js';
export { createCore, type Core, type CoreDeps } from './create-core.js';
