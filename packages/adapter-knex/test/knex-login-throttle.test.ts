import { expect } from 'chai';
import { KnexLoginThrottle } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';
import { later, T0, unique } from './support/fixtures.js';

describeEachDialect('KnexLoginThrottle', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const limit = (key: string, max = 3) => ({ key, max, windowSeconds: 60 });

  it('starts a new window at the first claim after the old one ended, and stores nothing for a refused one', async function () {
    const throttle = new KnexLoginThrottle(knex());
    const key = unique('acct');
    for (let i = 0; i < 4; i++) await throttle.claim([limit(key)], T0);
    expect(Number((await knex()('login_failures').where('key', key).first()).count)).to.equal(3);

    await throttle.claim([limit(key)], later(T0, 61_000));
    await throttle.claim([limit(key)], later(T0, 62_000));

    const row = await knex()('login_failures').where('key', key).first();
    expect(Number(row.count)).to.equal(2);
    expect(Number(row.window_started_at)).to.equal(later(T0, 61_000).getTime());
  });

  it('prunes ended windows as claims keep coming, so the table stays bounded', async function () {
    const throttle = new KnexLoginThrottle(knex(), { longestWindowSeconds: 1 });
    const stale = unique('stale');
    await throttle.claim([{ key: stale, max: 5, windowSeconds: 1 }], T0);

    for (let i = 0; i < 100; i++) await throttle.claim([{ key: unique('flood'), max: 5, windowSeconds: 1 }], later(T0, 10_000));

    expect(await knex()('login_failures').where('key', stale).first()).to.equal(undefined);
  });
});
