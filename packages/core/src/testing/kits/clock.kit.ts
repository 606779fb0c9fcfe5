import { expect } from 'chai';
import type { Clock } from '../../ports/clock.js';

/** The {@link Clock} contract: whole milliseconds since the epoch that never run backwards. */
export function clockContract(label: string, factory: () => Clock): void {
  describe(`Clock contract: ${label}`, function () {
    it('tells integer milliseconds since the epoch, not going backwards', function () {
      const clock = factory();
      let last = clock.now();
      expect(Number.isInteger(last)).to.equal(true);
      expect(last).to.be.greaterThan(Date.UTC(2020, 0, 1));
      for (let i = 0; i < 100; i++) {
        const now = clock.now();
        expect(now).to.be.at.least(last);
        last = now;
      }
    });
  });
}
