import { channelMemberStoreContract, loginThrottleContract, userRepositoryContract } from '@chat-app-server/core/testing';
import { KnexChannelMemberStore, KnexLoginThrottle, KnexUserRepository } from '../src/index.js';
import { toUserRecord, type UserRow } from '../src/user-row.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';

// The core's executable contracts, on real databases: passing them makes these adapters interchangeable
// with any other implementation of the ports.
describeEachDialect('contract kits', (dialect) => {
  const knex = useMigratedDatabase(dialect);

  userRepositoryContract(`KnexUserRepository on ${dialect.name}`, async () => ({
    repo: new KnexUserRepository(knex()),
    readRow: async (accountKey) => {
      const row: UserRow | undefined = await knex()('users').where({ account_key: accountKey }).first();
      return row && toUserRecord(row);
    },
  }));

  // The kit uses fresh keys in every test, so the subjects share one table.
  loginThrottleContract(`KnexLoginThrottle on ${dialect.name}`, async () => {
    return { throttle: new KnexLoginThrottle(knex()), peer: new KnexLoginThrottle(knex()) };
  });

  channelMemberStoreContract(`KnexChannelMemberStore on ${dialect.name}`, async () => ({ store: new KnexChannelMemberStore(knex()) }));
});
