import {
  DefaultChatUsernamePolicy, InMemoryChannelMemberStore, InMemoryLoginThrottle, OpaqueChatUsernamePolicy, ScryptPasswordHasher, SystemClock,
} from '../src/index.js';
import {
  CHEAP_SCRYPT_PARAMETERS, FakeChatProvisioner, FakeTokenIssuer, InMemoryUserRepository, ManualClock,
  chatProvisionerContract, chatUsernamePolicyContract, clockContract, loginThrottleContract, passwordHasherContract,
  tokenIssuerContract, userRepositoryContract, channelMemberStoreContract,
} from '../src/testing/index.js';

// Every kit runs against core's own adapters, which keeps the unit-test doubles honest.
userRepositoryContract('InMemoryUserRepository', async () => ({ repo: new InMemoryUserRepository() }));
loginThrottleContract('InMemoryLoginThrottle', async () => ({ throttle: new InMemoryLoginThrottle() }));
chatProvisionerContract('FakeChatProvisioner', async () => ({ provisioner: new FakeChatProvisioner() }));
tokenIssuerContract('FakeTokenIssuer', async ({ clock, lifetimeSeconds, subjectKind }) => ({
  issuer: new FakeTokenIssuer(clock, { lifetimeSeconds, subjectKind }),
  foreignIssuer: new FakeTokenIssuer(clock, { lifetimeSeconds, subjectKind, secret: 'someone-else' }),
}));
passwordHasherContract('ScryptPasswordHasher', async () => ({
  hasher: new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }),
  strongerHasher: new ScryptPasswordHasher({ parameters: { ...CHEAP_SCRYPT_PARAMETERS, logN: CHEAP_SCRYPT_PARAMETERS.logN + 1 } }),
}));
chatUsernamePolicyContract('DefaultChatUsernamePolicy', () => new DefaultChatUsernamePolicy());
chatUsernamePolicyContract('OpaqueChatUsernamePolicy', () => new OpaqueChatUsernamePolicy());
clockContract('SystemClock', () => new SystemClock());
clockContract('ManualClock', () => new ManualClock());
channelMemberStoreContract('InMemoryChannelMemberStore', async () => ({ store: new InMemoryChannelMemberStore() }));
