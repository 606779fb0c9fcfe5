import type { PasswordHasher } from '@chat-app-server/core';

/** Counts the passwords a server hashes and checks, and its capacity checks: the work a client can make it do. */
export class CountingHasher implements PasswordHasher {
  hashes = 0;
  verifications = 0;
  capacityChecks = 0;
  constructor(private readonly inner: PasswordHasher) {}
  hash(password: string, client?: string) {
    this.hashes++;
    return this.inner.hash(password, client);
  }
  verify(hash: string, password: string, client?: string) {
    this.verifications++;
    return this.inner.verify(hash, password, client);
  }
  needsRehash(hash: string) {
    return this.inner.needsRehash(hash);
  }
  checkCapacity(client?: string) {
    this.capacityChecks++;
    this.inner.checkCapacity?.(client);
  }
}
