import { expect } from 'chai';

/** What every kit factory may hand back besides its subject. */
export interface Teardown {
  teardown?: () => Promise<void>;
}

let counter = 0;

/** Names unique within a process run and across runs, so kits can share one database or emulator. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter.toString(36)}`;
}

/** Runs `factory` before each test and its teardown after it; `get()` returns the current subject. */
export function eachTest<T extends Teardown>(factory: () => Promise<T>): { get(): T } {
  let current: T | undefined;
  beforeEach(async function () {
    current = await factory();
  });
  afterEach(async function () {
    await current?.teardown?.();
    current = undefined;
  });
  return {
    get(): T {
      if (!current) throw new Error('the kit subject is only available inside a test');
      return current;
    },
  };
}

/** Awaits `promise` and asserts that it rejected with a domain error of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error, `expected a rejection with ${code}`).to.be.instanceOf(Error);
  expect(error).to.have.property('code', code);
  return error as Error;
}
