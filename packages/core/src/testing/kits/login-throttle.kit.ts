import { expect } from 'chai';
import type { LoginThrottle, ThrottleLimit } from '../../ports/login-throttle.js';
import { eachTest, uniqueName, type Teardown } from './kit-support.js';

export interface LoginThrottleKitSubject extends Teardown {
  throttle: LoginThrottle;
  /** A second throttle on the same store (another server instance), when the adapter can share one. */
  peer?: LoginThrottle;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const limit = (key: string, max = 3, windowSeconds = 60): ThrottleLimit => ({ key, max, windowSeconds });

/** The {@link LoginThrottle} contract. */
export function loginThrottleContract(label: string, factory: () => Promise<LoginThrottleKitSubject>): void {
  describe(`LoginThrottle contract: ${label}`, function () {
    const subject = eachTest(factory);
    const throttle = () => subject.get().throttle;
    const claims = async (limits: ThrottleLimit[], seconds: number[]) => {
      const out = [];
      for (const s of seconds) out.push(await throttle().claim(limits, at(s)));
      return out;
    };

    it('allows max claims in a window and refuses the next with the seconds left', async function () {
      const key = uniqueName('k');
      const decisions = await claims([limit(key)], [0, 1, 2, 3]);
      expect(decisions.slice(0, 3)).to.deep.equal([{ allowed: true }, { allowed: true }, { allowed: true }]);
      expect(decisions[3]).to.deep.equal({ allowed: false, retryAfterSeconds: 57 });
      expect(await throttle().claim([limit(key)], at(59.5))).to.deep.equal({ allowed: false, retryAfterSeconds: 1 });
    });

    it('starts a new window with the first claim after the old one ended', async function () {
      const key = uniqueName('k');
      await claims([limit(key)], [0, 1, 2]);
      expect(await claims([limit(key)], [60, 61, 62])).to.deep.equal([{ allowed: true }, { allowed: true }, { allowed: true }]);
      expect(await throttle().claim([limit(key)], at(63))).to.deep.equal({ allowed: false, retryAfterSeconds: 57 });
    });

    it('counts a refused claim against no key, and an allowed one against every key', async function () {
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      await claims([limit(a, 1)], [0]);
      expect(await throttle().claim([limit(b, 2), limit(a, 1)], at(1))).to.deep.equal({ allowed: false, retryAfterSeconds: 59 });
      expect(await claims([limit(b, 2)], [2, 3])).to.deep.equal([{ allowed: true }, { allowed: true }]);
      expect(await throttle().claim([limit(b, 2)], at(4))).to.have.property('allowed', false);
    });

    it('refuses with the longest wait among the exhausted keys, each with its own limit and window', async function () {
      const [a, b, c] = [uniqueName('a'), uniqueName('b'), uniqueName('c')];
      await claims([limit(a, 1, 60)], [0]);
      await claims([limit(b, 2, 600)], [10, 11]);
      expect(await throttle().claim([limit(c), limit(a, 1, 60), limit(b, 2, 600)], at(20))).to.deep.equal({
        allowed: false, retryAfterSeconds: 590,
      });
      expect(await throttle().claim([limit(c)], at(20))).to.deep.equal({ allowed: true });
    });

    it('admits exactly max of many concurrent claims', async function () {
      const key = uniqueName('k');
      const { peer } = subject.get();
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (peer && i % 2 === 1 ? peer : throttle()).claim([limit(key, 3), limit(uniqueName('x'), 50)], at(0))),
      );
      expect(decisions.filter((d) => d.allowed)).to.have.length(3);
    });

    it('gives back one claim per key on release', async function () {
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      await claims([limit(a), limit(b)], [0, 1, 2]);
      await throttle().release([a]);
      expect(await throttle().claim([limit(a)], at(3))).to.deep.equal({ allowed: true });
      expect(await throttle().claim([limit(a)], at(4))).to.have.property('allowed', false);
      expect(await throttle().claim([limit(b)], at(4))).to.have.property('allowed', false);
    });

    it('forgets a key on reset, and only that key', async function () {
      const [a, b] = [uniqueName('a'), uniqueName('b')];
      await claims([limit(a), limit(b)], [0, 1, 2]);
      await throttle().reset(a);
      expect(await throttle().claim([limit(a)], at(3))).to.deep.equal({ allowed: true });
      expect(await throttle().claim([limit(b)], at(3))).to.have.property('allowed', false);
    });

    it('ignores a release or reset of an unknown key', async function () {
      const key = uniqueName('k');
      await throttle().release([key]);
      await throttle().reset(key);
      expect(await claims([limit(key, 1)], [0])).to.deep.equal([{ allowed: true }]);
    });

    it('accepts keys with any characters', async function () {
      const key = `${uniqueName('k')}:ü😀\u0000'"; --`;
      await claims([limit(key, 1)], [0]);
      expect(await throttle().claim([limit(key, 1)], at(1))).to.have.property('allowed', false);
      expect(await throttle().claim([limit(`${key}x`, 1)], at(1))).to.have.property('allowed', true);
    });
  });
}
