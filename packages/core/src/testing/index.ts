// Test support for adapters and embedders, by name: one contract kit per port, the in-memory doubles
// of core's unit tests, and the cheap scrypt parameters tests may use.
export { userRepositoryContract, type UserRepositoryKitSubject } from './kits/user-repository.kit.js';
export { loginThrottleContract, type LoginThrottleKitSubject } from './kits/login-throttle.kit.js';
export { chatProvisionerContract, type ChatProvisionerKitSubject } from './kits/chat-provisioner.kit.js';
export {
  tokenIssuerContract, type TokenIssuerKitOptions, type TokenIssuerKitSubject, type IssuedTokenContents,
} from './kits/token-issuer.kit.js';
export { passwordHasherContract, type PasswordHasherKitSubject } from './kits/password-hasher.kit.js';
export { chatUsernamePolicyContract } from './kits/chat-username-policy.kit.js';
export { clockContract } from './kits/clock.kit.js';
export { channelMemberStoreContract, type ChannelMemberStoreKitSubject } from './kits/channel-member-store.kit.js';
export { expectCode, type Teardown } from './kits/kit-support.js';
export { ManualClock } from './manual-clock.js';
export { InMemoryUserRepository } from './in-memory-user-repository.js';
export { FakeChatProvisioner } from './fake-chat-provisioner.js';
export { FakeTokenIssuer } from './fake-token-issuer.js';
export { aTestCore, CHEAP_SCRYPT_PARAMETERS, type TestCore } from './builders.js';
