import { channelMemberStoreContract, loginThrottleContract, userRepositoryContract } from '@chat-app-server/core/testing';
import { KnexChannelMemberStore, KnexLoginThrottle, KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from './support/dialects.js';

// The core's executable contracts, on real databases: passing them makes these adapters interchangeable
// with any other implementation of the ports.
describeEachDialect('contract kits', (dialect) => {
  const knex = useMigratedDatabase(dialect);

  userRepositoryContract(`KnexUserRepository on ${dialect.name}`, async () => ({ repo: new KnexUserRepository(knex()) }));

  // Throttle keys are not unique per test, so each subject starts from an empty table.
  loginThrottleContract(`KnexLoginThrottle on ${dialect.name}`, async () => {
    await knex()('login_failures').delete();
    return { throttle: new KnexLoginThrottle(knex()), peer: new KnexLoginThrottle(knex()) };
  });

  channelMemberStoreContract(`KnexChannelMemberStore on ${dialect.name}`, async () => ({ store: new KnexChannelMemberStore(knex()) }));
});
