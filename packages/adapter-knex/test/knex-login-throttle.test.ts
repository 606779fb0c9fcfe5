import { expect } from 'chai';
import { KnexLoginThrottle } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from './support/dialects.js';
import { later, T0, unique } from './support/fixtures.js';

describeEachDialect('KnexLoginThrottle', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const limit = (key: string, max = 3) => ({ key, max, windowSeconds: 60 });

  it('refuses at max within the window, with the remaining seconds rounded up', async function () {
    const throttle = new KnexLoginThrottle(knex());
    const key = unique('ip');
    for (const ms of [0, 1_000, 2_000]) expect(await throttle.claim([limit(key)], later(T0, ms))).to.deep.equal({ allowed: true });

    expect(await throttle.claim([limit(key)], later(T0, 2_500))).to.deep.equal({ allowed: false, retryAfterSeconds: 58 });
    expect(await throttle.claim([limit(key)], later(T0, 59_999))).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    expect(await throttle.claim([limit(key)], later(T0, 60_000))).to.deep.equal({ allowed: true });
  });

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

  it('admits exactly max of 50 concurrent claims from two server instances', async function () {
    const a = new KnexLoginThrottle(knex());
    const b = new KnexLoginThrottle(knex());
    const [key, other] = [unique('acct'), unique('ip')];

    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).claim([limit(key, 5), limit(other, 100)], later(T0, i))),
    );

    expect(decisions.filter((d) => d.allowed)).to.have.length(5);
    expect(Number((await knex()('login_failures').where('key', key).first()).count)).to.equal(5);
    expect(Number((await knex()('login_failures').where('key', other).first()).count)).to.equal(5);
  });

  it('prunes ended windows as claims keep coming, so the table stays bounded', async function () {
    const throttle = new KnexLoginThrottle(knex(), { longestWindowSeconds: 1 });
    const stale = unique('stale');
    await throttle.claim([{ key: stale, max: 5, windowSeconds: 1 }], T0);

    for (let i = 0; i < 100; i++) await throttle.claim([{ key: unique('flood'), max: 5, windowSeconds: 1 }], later(T0, 10_000));

    expect(await knex()('login_failures').where('key', stale).first()).to.equal(undefined);
  });
});
