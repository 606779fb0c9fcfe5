import {
  DefaultChatUsernamePolicy, InMemoryChannelMemberStore, InMemoryLoginThrottle, OpaqueChatUsernamePolicy, ScryptPasswordHasher, SystemClock,
} from '../src/index.js';
import {
  CHEAP_SCRYPT_PARAMETERS, FakeChatProvisioner, FakeTokenIssuer, InMemoryUserRepository, ManualClock,
  chatProvisionerContract, chatUsernamePolicyContract, clockContract, loginThrottleContract, passwordHasherContract,
  tokenIssuerContract, userRepositoryContract, channelMemberStoreContract,
} from '../src/testing/index.js';

// Every kit runs against core's own adapters, which keeps the unit-test doubles honest.
userRepositoryContract('InMemoryUserRepository', async () => {
  const repo = new InMemoryUserRepository();
  return { repo, readRow: async (accountKey) => repo.all().find((row) => row.accountKey === accountKey) };
});
loginThrottleContract('InMemoryLoginThrottle', async () => ({ throttle: new InMemoryLoginThrottle() }));
chatProvisionerContract('FakeChatProvisioner', async () => {
  const provisioner = new FakeChatProvisioner({ deadlineMs: 200 });
  return { provisioner, hang: () => void provisioner.hang() };
});
tokenIssuerContract('FakeTokenIssuer', async ({ clock, lifetimeSeconds, subjectKind }) => {
  const issuer = new FakeTokenIssuer(clock, { lifetimeSeconds, subjectKind });
  return {
    issuer,
    foreignIssuer: new FakeTokenIssuer(clock, { lifetimeSeconds, subjectKind, secret: 'someone-else' }),
    read: (token) => {
      const { sub, exp, rtc } = issuer.decode(token);
      const expiresAt = exp * 1000;
      return {
        subject: sub,
        chatExpiresAt: expiresAt,
        rtc: rtc && { channelName: rtc.channelName, uid: rtc.agoraUid, publisher: rtc.publisher, expiresAt },
      };
    },
  };
});
passwordHasherContract('ScryptPasswordHasher', async () => ({
  hasher: new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }),
  strongerHasher: new ScryptPasswordHasher({ parameters: { ...CHEAP_SCRYPT_PARAMETERS, logN: CHEAP_SCRYPT_PARAMETERS.logN + 1 } }),
}));
chatUsernamePolicyContract('DefaultChatUsernamePolicy', () => new DefaultChatUsernamePolicy());
chatUsernamePolicyContract('OpaqueChatUsernamePolicy', () => new OpaqueChatUsernamePolicy());
clockContract('SystemClock', () => new SystemClock());
clockContract('ManualClock', () => new ManualClock());
channelMemberStoreContract('InMemoryChannelMemberStore', async () => ({ store: new InMemoryChannelMemberStore() }));
