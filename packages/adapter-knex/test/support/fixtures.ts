import type { NewPendingUser } from '@chat-app-server/core';

let sequence = 0;

/** A unique suffix per call, so tests sharing one database never meet. Deterministic within a run. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

export const T0 = new Date('2030-01-02T03:04:05.678Z');

export function later(base: Date, ms: number): Date {
  return new Date(base.getTime() + ms);
}

/** A pending user with fresh account key and chat username, overridable field by field. */
export function aPendingUser(overrides: Partial<NewPendingUser> = {}): NewPendingUser {
  const name = unique('user');
  return {
    account: name.toUpperCase(),
    accountKey: name,
    passwordHash: `hash-of-${name}`,
    chatUsername: name,
    leaseId: unique('lease'),
    leaseExpiresAt: later(T0, 30_000),
    now: T0,
    ...overrides,
  };
}

/** A drawAgoraUid that returns the given uids in order, then sequential ones from a high, unused range. */
export function drawing(...uids: number[]): () => number {
  let next = 4_000_000_000 + Math.floor(Math.random() * 200_000_000);
  return () => uids.shift() ?? next++;
}
