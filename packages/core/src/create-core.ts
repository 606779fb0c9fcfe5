import { DEFAULT_PASSWORD_MIN_LENGTH } from './domain/password.js';
import { DefaultChatUsernamePolicy } from './adapters/default-chat-username-policy.js';
import { InMemoryLoginThrottle } from './adapters/in-memory-login-throttle.js';
import { ScryptPasswordHasher } from './adapters/scrypt-password-hasher.js';
import { SystemClock } from './adapters/system-clock.js';
import { resolveRegistrationLease } from './registration-lease.js';
import type { BoundedCache } from './ports/bounded-cache.js';
import type { ChatProvisioner } from './ports/chat-provisioner.js';
import type { ChatUsernamePolicy } from './ports/chat-username-policy.js';
import type { Clock } from './ports/clock.js';
import type { LoginThrottle } from './ports/login-throttle.js';
import type { Logger } from './ports/logger.js';
import type { ObservedEvent, Observer } from './ports/observer.js';
import type { PasswordHasher } from './ports/password-hasher.js';
import type { TokenIssuer } from './ports/token-issuer.js';
import type { UserRepository } from './ports/user-repository.js';
import { InMemoryChannelMemberStore } from './adapters/in-memory-channel-member-store.js';
import type { ChannelMemberStore } from './ports/channel-member-store.js';
import { ChannelRoster, type ChannelRosterOptions } from './use-cases/channel-roster.js';
import { AccountDeletion } from './use-cases/account-deletion.js';
import { AdministerAccounts } from './use-cases/administer-accounts.js';
import { ChangePassword } from './use-cases/change-password.js';
import { ChatAccountSaga } from './use-cases/chat-account-saga.js';
import { DeleteAccount } from './use-cases/delete-account.js';
import { FindActiveUser } from './use-cases/find-active-user.js';
import { IssueChatToken } from './use-cases/issue-chat-token.js';
import { ImportUsers } from './use-cases/import-users.js';
import { IssueRtcToken } from './use-cases/issue-rtc-token.js';
import { ListChannelMembers } from './use-cases/list-channel-members.js';
import { DEFAULT_LOGIN_LIMITS, LoginUser, type LoginLimits } from './use-cases/login-user.js';
import { PasswordCheck } from './use-cases/password-check.js';
import { ProvisionChatUser } from './use-cases/provision-chat-user.js';
import { ProvisionChatUsers } from './use-cases/provision-chat-users.js';
import { DEFAULT_REGISTRATION_LIMITS, RegisterUser, type RegistrationLimits } from './use-cases/register-user.js';
import { RenewToken } from './use-cases/renew-token.js';
import { RevokeTokens } from './use-cases/revoke-tokens.js';
import { VerifyChatToken, type CachedPrincipal } from './use-cases/verify-chat-token.js';

export interface CoreDeps {
  users: UserRepository;
  chatProvisioner: ChatProvisioner;
  tokens: TokenIssuer;
  /** @default a {@link ScryptPasswordHasher} with OWASP parameters */
  passwordHasher?: PasswordHasher;
  /** @default the system clock */
  clock?: Clock;
  /** Where login and registration attempts are counted. @default an {@link InMemoryLoginThrottle} (one process only) */
  loginThrottle?: LoginThrottle;
  /** @default {@link DEFAULT_LOGIN_LIMITS} */
  loginLimits?: LoginLimits;
  /** Registrations per client address. @default {@link DEFAULT_REGISTRATION_LIMITS} */
  registrationLimits?: RegistrationLimits;
  /** @default {@link DefaultChatUsernamePolicy} */
  chatUsernamePolicy?: ChatUsernamePolicy;
  logger?: Logger;
  /**
   * Receives the events operators count (logins, registrations, cache hits; see {@link ObservedEvent}).
   * Also given to the default password hasher; pass it to your own adapters too.
   */
  observer?: Observer;
  /** @default 8 */
  passwordMinLength?: number;
  /**
   * How long one registration attempt owns its pending row: also how long an account stays locked
   * when a process dies mid-registration. Must be longer than `chatProvisioner.deadlineMs`.
   * @default the chat provisioner's deadline rounded up, plus 5 s ({@link registrationLeaseSecondsFor}); 60 without a deadline
   */
  registrationLeaseSeconds?: number;
  /**
   * Principals of verified bearers by token subject, with their revocation boundary, so the bearer
   * path reads no database; an LRU such as `new LRUCache({ max: 10_000 })` from lru-cache.
   * @default none: every bearer call reads the repository
   */
  principalCache?: BoundedCache<string, CachedPrincipal>;
  /**
   * How long a cached principal is trusted: also how long another instance may still accept a revoked
   * bearer (the instance that revokes forgets at once). @default 60
   */
  principalCacheTtlSeconds?: number;
  /**
   * Who holds RTC tokens for which channel (the channel mapper). Pass a shared store when several
   * instances serve one database. @default an {@link InMemoryChannelMemberStore}
   */
  channelMembers?: ChannelMemberStore;
  /** Bounds and write-behind timing of the channel mapper. @default {@link DEFAULT_CHANNEL_ROSTER} */
  channelRoster?: ChannelRosterOptions;
  /** Draws agoraUids (tests force collisions with it). @default uniform in 1..AGORA_UID_DRAW_MAX */
  drawAgoraUid?: () => number;
}

/** Every use case of the core, wired. */
export interface Core {
  /** The registration lease in use, in seconds (configured, or derived from the chat provisioner's deadline). */
  readonly registrationLeaseSeconds: number;
  readonly provisionChatUser: ProvisionChatUser;
  /** Many accounts at once, through the chat service's batch registration. */
  readonly provisionChatUsers: ProvisionChatUsers;
  /** Users of another server whose chat users exist (Agora's sample servers). */
  readonly importUsers: ImportUsers;
  readonly issueChatToken: IssueChatToken;
  readonly issueRtcToken: IssueRtcToken;
  readonly verifyChatToken: VerifyChatToken;
  readonly registerUser: RegisterUser;
  readonly loginUser: LoginUser;
  readonly renewToken: RenewToken;
  readonly changePassword: ChangePassword;
  /** Log out everywhere. */
  readonly revokeTokens: RevokeTokens;
  readonly deleteAccount: DeleteAccount;
  /** The deletion saga, also to finish deletions left unfinished ({@link AccountDeletion.finishPending}). */
  readonly accountDeletion: AccountDeletion;
  /** Operators' list, show, disable, enable, revoke and delete. */
  readonly administerAccounts: AdministerAccounts;
  readonly findActiveUser: FindActiveUser;
  readonly listChannelMembers: ListChannelMembers;
  /** Writes what is still buffered (channel members); call before closing the databases. */
  close(): Promise<void>;
}

/**
 * The embedding API: pass your adapters, get the use cases.
 * @example
 * const core = createCore({ users: new KnexUserRepository(knex), chatProvisioner, tokens });
 * const principal = await core.provisionChatUser.execute({ account: req.user.id });
 * const { token, expireTimestamp } = await core.issueChatToken.execute(principal);
 * @throws RangeError when `registrationLeaseSeconds` is not longer than the chat provisioner's deadline
 */
export function createCore(deps: CoreDeps): Core {
  const clock = deps.clock ?? new SystemClock();
  const passwordHasher = deps.passwordHasher ?? new ScryptPasswordHasher(deps.observer ? { observer: deps.observer } : {});
  const observed = deps.observer ? { observer: deps.observer } : {};
  const { users, tokens, chatProvisioner } = deps;
  const logger = deps.logger ? { logger: deps.logger } : {};
  const passwordMinLength = deps.passwordMinLength ?? DEFAULT_PASSWORD_MIN_LENGTH;
  const loginLimits = deps.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const loginThrottle = deps.loginThrottle ?? new InMemoryLoginThrottle();
  // The lease follows the provisioner's real deadline, so a crash locks an account only that long.
  const leaseSeconds = resolveRegistrationLease(deps.registrationLeaseSeconds, chatProvisioner.deadlineMs);
  const chatUsernamePolicy = deps.chatUsernamePolicy ?? new DefaultChatUsernamePolicy();
  const saga = new ChatAccountSaga({
    users,
    chatProvisioner,
    chatUsernamePolicy,
    clock,
    leaseSeconds,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...observed,
    ...(deps.drawAgoraUid ? { drawAgoraUid: deps.drawAgoraUid } : {}),
  });
  const issueChatToken = new IssueChatToken({ tokens });
  const roster = new ChannelRoster({
    store: deps.channelMembers ?? new InMemoryChannelMemberStore(),
    clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.channelRoster ? { options: deps.channelRoster } : {}),
  });
  const verifyChatToken = new VerifyChatToken({
    tokens, users, clock,
    ...(deps.principalCache ? { cache: deps.principalCache } : {}),
    ...(deps.principalCacheTtlSeconds === undefined ? {} : { cacheTtlSeconds: deps.principalCacheTtlSeconds }),
    ...observed,
  });
  const passwordCheck = new PasswordCheck({ passwordHasher, loginThrottle, limits: loginLimits, clock, ...logger });
  const revokeTokens = new RevokeTokens({ users, verifyChatToken, chatProvisioner, clock, ...logger });
  const accountDeletion = new AccountDeletion({ users, chatProvisioner, clock, ...logger });
  return {
    registrationLeaseSeconds: leaseSeconds,
    provisionChatUser: new ProvisionChatUser({ users, saga, clock, leaseSeconds }),
    provisionChatUsers: new ProvisionChatUsers({ users, saga, chatProvisioner, chatUsernamePolicy, clock, leaseSeconds }),
    importUsers: new ImportUsers({ users, chatProvisioner, passwordHasher, clock, ...(deps.drawAgoraUid ? { drawAgoraUid: deps.drawAgoraUid } : {}) }),
    issueChatToken,
    issueRtcToken: new IssueRtcToken({ tokens, roster }),
    verifyChatToken,
    registerUser: new RegisterUser({
      saga, passwordHasher, clock, throttle: loginThrottle, passwordMinLength,
      limits: deps.registrationLimits ?? DEFAULT_REGISTRATION_LIMITS,
    }),
    loginUser: new LoginUser({
      users, passwordHasher, clock, saga, issueChatToken, loginThrottle, limits: loginLimits, ...logger, ...observed,
    }),
    renewToken: new RenewToken({ verifyChatToken, issueChatToken }),
    changePassword: new ChangePassword({
      users, verifyChatToken, passwordCheck, passwordHasher, passwordMinLength, issueChatToken, chatProvisioner, clock, ...logger,
    }),
    revokeTokens,
    deleteAccount: new DeleteAccount({ verifyChatToken, passwordCheck, deletion: accountDeletion }),
    accountDeletion,
    administerAccounts: new AdministerAccounts({
      users, chatProvisioner, verifyChatToken, revokeTokens, deletion: accountDeletion, clock, ...logger,
    }),
    findActiveUser: new FindActiveUser({ users, clock }),
    listChannelMembers: new ListChannelMembers({ roster }),
    close: () => roster.close(),
  };
}
