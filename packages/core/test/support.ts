import { expect } from 'chai';
import type { FakeChatProvisioner } from '../src/testing/index.js';

/** `target` whose `method` never settles, as if the process died while calling it. */
export function hangAt<T extends object>(target: T, method: keyof T): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop === method) return () => new Promise(() => {});
      const value = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition(), 'condition never became true').to.equal(true);
}

/** Holds the first chat-user creation until `release()`; `reached` resolves when it is being held. */
export function holdFirstCreate(chat: FakeChatProvisioner): { reached: Promise<void>; release: () => void } {
  let release = () => {};
  let reachedResolve = () => {};
  const reached = new Promise<void>((resolve) => { reachedResolve = resolve; });
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const create = chat.createUser.bind(chat);
  let calls = 0;
  chat.createUser = async (username, password) => {
    if (calls++ === 0) {
      reachedResolve();
      await gate;
    }
    return create(username, password);
  };
  return { reached, release: () => release() };
}

