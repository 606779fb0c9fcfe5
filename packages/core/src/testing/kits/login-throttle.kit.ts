import { expect } from 'chai';
import type { LoginThrottleLimits } from '../../adapters/in-memory-login-throttle.js';
import type { LoginThrottle } from '../../ports/login-throttle.js';
import { eachTest, uniqueName, type Teardown } from './kit-support.js';

export interface LoginThrottleKitSubject extends Teardown {
  throttle: LoginThrottle;
}

const LIMITS: LoginThrottleLimits = { maxFailures: 3, windowSeconds: 60 };
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

/** The {@link LoginThrottle} contract; `factory` builds a throttle with the limits it is given. */
export function loginThrottleContract(label: string, factory: (limits: LoginThrottleLimits) => Promise<LoginThrottleKitSubject>): void {
  describe(`LoginThrottle contract: ${label}`, function () {
    const subject = eachTest(() => factory(LIMITS));
    const throttle = () => subject.get().throttle;

    it('allows a key with no failures', async function () {
      expect(await throttle().check([uniqueName('k')], at(0))).to.deep.equal({ allowed: true });
    });

    it('allows up to maxFailures - 1 failures and blocks at maxFailures', async function () {
      const key = uniqueName('k');
      await throttle().recordFailure([key], at(0));
      await throttle().recordFailure([key], at(1));
      expect(await throttle().check([key], at(2))).to.deep.equal({ allowed: true });
      await throttle().recordFailure([key], at(2));
      expect(await throttle().check([key], at(3))).to.deep.equal({ allowed: false, retryAfterSeconds: 57 });
    });

    it('lifts the block when the window that began with the first failure ends', async function () {
      const key = uniqueName('k');
      for (const s of [0, 10, 20]) await throttle().recordFailure([key], at(s));
      expect(await throttle().check([key], at(59))).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
      expect(await throttle().check([key], at(60))).to.deep.equal({ allowed: true });
    });

    it('starts a new window after the old one ended', async function () {
      const key = uniqueName('k');
      for (const s of [0, 1]) await throttle().recordFailure([key], at(s));
      await throttle().recordFailure([key], at(61));
      await throttle().recordFailure([key], at(62));
      expect(await throttle().check([key], at(63))).to.deep.equal({ allowed: true });
      await throttle().recordFailure([key], at(63));
      expect(await throttle().check([key], at(64))).to.deep.equal({ allowed: false, retryAfterSeconds: 57 });
    });

    it('blocks when any of several keys is blocked, with the longest wait', async function () {
      const [a, b, c] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
      for (const s of [0, 1, 2]) await throttle().recordFailure([a], at(s));
      for (const s of [10, 11, 12]) await throttle().recordFailure([b], at(s));
      expect(await throttle().check([c, a, b], at(20))).to.deep.equal({ allowed: false, retryAfterSeconds: 50 });
      expect(await throttle().check([c], at(20))).to.deep.equal({ allowed: true });
    });

    it('counts one failure for each key given', async function () {
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      for (const s of [0, 1, 2]) await throttle().recordFailure([a, b], at(s));
      expect(await throttle().check([a], at(3))).to.have.property('allowed', false);
      expect(await throttle().check([b], at(3))).to.have.property('allowed', false);
    });

    it('counts concurrent failures without losing any', async function () {
      const key = uniqueName('k');
      await Promise.all([0, 0, 0].map(() => throttle().recordFailure([key], at(0))));
      expect(await throttle().check([key], at(1))).to.have.property('allowed', false);
    });

    it('forgets a key on reset, and only that key', async function () {
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      for (const s of [0, 1, 2]) await throttle().recordFailure([a, b], at(s));
      await throttle().reset(a);
      expect(await throttle().check([a], at(3))).to.deep.equal({ allowed: true });
      expect(await throttle().check([b], at(3))).to.have.property('allowed', false);
    });

    it('accepts keys with any characters', async function () {
      const key = `${uniqueName('k')}:ü😀\u0000'"; --`;
      for (const s of [0, 1, 2]) await throttle().recordFailure([key], at(s));
      expect(await throttle().check([key], at(3))).to.have.property('allowed', false);
    });
  });
}
