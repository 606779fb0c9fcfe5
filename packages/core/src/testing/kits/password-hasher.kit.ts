import { expect } from 'chai';
import type { PasswordHasher } from '../../ports/password-hasher.js';
import { eachTest, type Teardown } from './kit-support.js';

export interface PasswordHasherKitSubject extends Teardown {
  hasher: PasswordHasher;
  /** The same kind of hasher with stronger parameters (its hashes supersede `hasher`'s). */
  strongerHasher: PasswordHasher;
}

/** The {@link PasswordHasher} contract. */
export function passwordHasherContract(label: string, factory: () => Promise<PasswordHasherKitSubject>): void {
  describe(`PasswordHasher contract: ${label}`, function () {
    const subject = eachTest(factory);
    const hasher = () => subject.get().hasher;

    it('verifies the password it hashed, and no other', async function () {
      const hash = await hasher().hash('correct horse battery staple');
      expect(await hasher().verify(hash, 'correct horse battery staple')).to.equal(true);
      expect(await hasher().verify(hash, 'correct horse battery stapl')).to.equal(false);
      expect(await hasher().verify(hash, 'Correct horse battery staple')).to.equal(false);
    });

    it('salts: the same password hashes differently every time', async function () {
      expect(await hasher().hash('same password')).to.not.equal(await hasher().hash('same password'));
    });

    it('never stores the password in the hash', async function () {
      const hash = await hasher().hash('visible-secret-123');
      expect(hash).to.not.contain('visible-secret-123');
    });

    it('handles unicode and long passwords', async function () {
      const password = `pässwörd-😀-${'x'.repeat(1000)}`;
      const hash = await hasher().hash(password);
      expect(await hasher().verify(hash, password)).to.equal(true);
      expect(await hasher().verify(hash, password.normalize('NFD'))).to.equal(false);
    });

    it('answers false, not a throw, for a tampered or malformed hash', async function () {
      const hash = await hasher().hash('password-1');
      const tampered = (hash[10] === 'A' ? 'B' : 'A');
      for (const bad of [hash.slice(0, 10) + tampered + hash.slice(11), hash.slice(0, -8), '', 'not-a-hash', '$2b$10$abc']) {
        expect(await hasher().verify(bad, 'password-1')).to.equal(false);
      }
    });

    it('asks for a rehash of weaker hashes only', async function () {
      const weak = await hasher().hash('password-1');
      const strong = await subject.get().strongerHasher.hash('password-1');
      expect(hasher().needsRehash(weak)).to.equal(false);
      expect(subject.get().strongerHasher.needsRehash(weak)).to.equal(true);
      expect(subject.get().strongerHasher.needsRehash(strong)).to.equal(false);
      expect(hasher().needsRehash('garbage')).to.equal(true);
    });
  });
}
