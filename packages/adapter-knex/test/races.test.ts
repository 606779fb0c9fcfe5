import { AccountExistsError } from '@chat-app-server/core';
import { expect } from 'chai';
import { KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';
import { aPendingUser, later, T0, unique } from './support/fixtures.js';

const CONCURRENCY = 50;

describeEachDialect('races', (dialect) => {
  const knex = useMigratedDatabase(dialect);

  it(`lets exactly one of ${CONCURRENCY} concurrent reservations of one account key win`, async function () {
    const accountKey = unique('jack');
    const results = await Promise.allSettled(
      Array.from({ length: CONCURRENCY }, (_, i) =>
        // Case variants of one display name fold to the same key; each attempt has its own chat username.
        new KnexUserRepository(knex()).insertPending(
          aPendingUser({ accountKey, account: i % 2 === 0 ? accountKey.toUpperCase() : accountKey, chatUsername: unique('chat') }),
          () => 1 + Math.floor(Math.random() * (2 ** 32 - 2)),
        ),
      ),
    );

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).to.have.length(1);
    expect(lost.map((r) => (r.reason as Error).constructor)).to.deep.equal(Array(CONCURRENCY - 1).fill(AccountExistsError));
    expect(await knex()('users').where('account_key', accountKey).count({ n: '*' }).first()).to.satisfy((r: { n: unknown }) => Number(r.n) === 1);
  });

  it(`gives ${CONCURRENCY} concurrent reservations whose first draws all collide distinct agoraUids`, async function () {
    const constant = 42 + (process.pid % 1000);
    const firstThenRandom = () => {
      let first = true;
      return () => {
        if (!first) return 1 + Math.floor(Math.random() * (2 ** 32 - 2));
        first = false;
        return constant;
      };
    };
    await knex()('users').where('agora_uid', constant).delete();

    const rows = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => new KnexUserRepository(knex()).insertPending(aPendingUser(), firstThenRandom())),
    );

    expect(new Set(rows.map((r) => r.agoraUid)).size).to.equal(CONCURRENCY);
    expect(rows.filter((r) => r.agoraUid === constant)).to.have.length(1);
  });

  it(`lets exactly one of ${CONCURRENCY} concurrent takeovers under the same expected lease win`, async function () {
    const user = aPendingUser();
    await new KnexUserRepository(knex()).insertPending(user, () => 1 + Math.floor(Math.random() * (2 ** 32 - 2)));

    const results = await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, i) =>
        new KnexUserRepository(knex()).takeOverPending(user.accountKey, user.leaseId, {
          leaseId: `${user.leaseId}-takeover-${i}`,
          leaseExpiresAt: later(T0, 120_000),
          passwordHash: `hash-${i}`,
          now: later(T0, 60_000),
        }),
      ),
    );

    const winners = results.filter((r) => r !== undefined);
    expect(winners).to.have.length(1);
    expect(await new KnexUserRepository(knex()).findByAccountKey(user.accountKey)).to.deep.equal(winners[0]);
  });
});
