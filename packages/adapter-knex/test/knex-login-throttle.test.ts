import { expect } from 'chai';
import { KnexLoginThrottle } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from './support/dialects.js';
import { later, T0, unique } from './support/fixtures.js';

describeEachDialect('KnexLoginThrottle', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const limits = { maxFailures: 3, windowSeconds: 60 };

  it('blocks at maxFailures within the window, with the remaining seconds rounded up', async function () {
    const throttle = new KnexLoginThrottle(knex(), limits);
    const key = unique('ip');

    await throttle.recordFailure([key], T0);
    await throttle.recordFailure([key], later(T0, 1_000));
    const beforeThird = await throttle.check([key], later(T0, 2_000));
    await throttle.recordFailure([key], later(T0, 2_000));

    expect(beforeThird).to.deep.equal({ allowed: true });
    expect(await throttle.check([key], later(T0, 2_500))).to.deep.equal({ allowed: false, retryAfterSeconds: 58 });
    expect(await throttle.check([key], later(T0, 59_999))).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    expect(await throttle.check([key], later(T0, 60_000))).to.deep.equal({ allowed: true });
  });

  it('starts a new window at the first failure after the old one ended', async function () {
    const throttle = new KnexLoginThrottle(knex(), limits);
    const key = unique('acct');
    for (let i = 0; i < 3; i++) await throttle.recordFailure([key], T0);

    await throttle.recordFailure([key], later(T0, 61_000));
    await throttle.recordFailure([key], later(T0, 62_000));

    expect(await throttle.check([key], later(T0, 62_000))).to.deep.equal({ allowed: true });
    const row = await knex()('login_failures').where('key', key).first();
    expect(Number(row.count)).to.equal(2);
    expect(Number(row.window_started_at)).to.equal(later(T0, 61_000).getTime());
  });

  it('counts 50 concurrent failures from two server instances without losing one', async function () {
    const a = new KnexLoginThrottle(knex(), { maxFailures: 50, windowSeconds: 60 });
    const b = new KnexLoginThrottle(knex(), { maxFailures: 50, windowSeconds: 60 });
    const key = unique('acct');

    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).recordFailure([key], later(T0, i))));

    expect(Number((await knex()('login_failures').where('key', key).first()).count)).to.equal(50);
    expect(await b.check([key], later(T0, 100))).to.have.property('allowed', false);
  });

  it('counts a key repeated in one call once per occurrence, like the in-memory throttle', async function () {
    const throttle = new KnexLoginThrottle(knex(), limits);
    const key = unique('acct');

    await throttle.recordFailure([key, key, key], T0);

    expect(await throttle.check([key], T0)).to.deep.equal({ allowed: false, retryAfterSeconds: 60 });
  });

  it('forgets only the reset key', async function () {
    const throttle = new KnexLoginThrottle(knex(), { maxFailures: 1, windowSeconds: 60 });
    const [x, y] = [unique('acct'), unique('ip')];
    await throttle.recordFailure([x, y], T0);

    await throttle.reset(x);

    expect(await throttle.check([x], T0)).to.deep.equal({ allowed: true });
    expect(await throttle.check([y], T0)).to.have.property('allowed', false);
  });

  it('prunes ended windows as failures keep coming, so the table stays bounded', async function () {
    const throttle = new KnexLoginThrottle(knex(), { maxFailures: 5, windowSeconds: 1 });
    const stale = unique('stale');
    await throttle.recordFailure([stale], T0);

    for (let i = 0; i < 100; i++) await throttle.recordFailure([unique('flood')], later(T0, 10_000));

    expect(await knex()('login_failures').where('key', stale).first()).to.equal(undefined);
  });
});
