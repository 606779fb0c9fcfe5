import { expect } from 'chai';
import { isValidChatUsername } from '../../domain/chat-username.js';
import type { ChatUsernamePolicy } from '../../ports/chat-username-policy.js';

const KEYS = [
  'jack', 'jack.smith', 'j_a-c.k', 'ünïcødé', '日本語', 'user@example.com', 'with space', '😀', '-', '.',
  'a'.repeat(64), 'a'.repeat(65), 'u.0123456789abcdef0123456789abcdef01234567', 'x\u0000y', 'ǆ', 'strasse',
];

/** The {@link ChatUsernamePolicy} contract: valid, stable and injective on a spread of account keys. */
export function chatUsernamePolicyContract(label: string, factory: () => ChatUsernamePolicy): void {
  describe(`ChatUsernamePolicy contract: ${label}`, function () {
    it('gives a valid Agora username for every account key', function () {
      const policy = factory();
      for (const key of KEYS) expect(isValidChatUsername(policy.usernameFor(key)), key).to.equal(true);
    });

    it('gives the same name for the same key, also from a new instance', function () {
      for (const key of KEYS) expect(factory().usernameFor(key)).to.equal(factory().usernameFor(key));
    });

    it('gives different names to different keys', function () {
      const policy = factory();
      const names = KEYS.map((key) => policy.usernameFor(key));
      expect(new Set(names).size).to.equal(KEYS.length);
    });
  });
}
