import { InMemoryLoginThrottle } from '../adapters/in-memory-login-throttle.js';
import { ScryptPasswordHasher, type ScryptParameters } from '../adapters/scrypt-password-hasher.js';
import { createCore, type Core, type CoreDeps } from '../create-core.js';
import { FakeChatProvisioner } from './fake-chat-provisioner.js';
import { FakeTokenIssuer } from './fake-token-issuer.js';
import { InMemoryUserRepository } from './in-memory-user-repository.js';
import { ManualClock } from './manual-clock.js';

/** scrypt parameters that cost about a millisecond: for tests only, never for stored passwords. */
export const CHEAP_SCRYPT_PARAMETERS: ScryptParameters = Object.freeze({ logN: 4, r: 8, p: 1 });

export interface TestCore {
  core: Core;
  users: InMemoryUserRepository;
  chat: FakeChatProvisioner;
  tokens: FakeTokenIssuer;
  clock: ManualClock;
  throttle: InMemoryLoginThrottle;
  hasher: ScryptPasswordHasher;
  /** Registration lease used (seconds). */
  leaseSeconds: number;
}

/** A core on in-memory adapters, a manual clock and cheap scrypt: the unit-test rig. */
export function aTestCore(overrides: Partial<CoreDeps> = {}): TestCore {
  const clock = new ManualClock();
  const users = new InMemoryUserRepository();
  const chat = new FakeChatProvisioner();
  const tokens = new FakeTokenIssuer(clock);
  const throttle = new InMemoryLoginThrottle();
  const hasher = new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS });
  const leaseSeconds = overrides.registrationLeaseSeconds ?? 60;
  const core = createCore({
    users, chatProvisioner: chat, tokens, clock, loginThrottle: throttle, passwordHasher: hasher,
    registrationLeaseSeconds: leaseSeconds, ...overrides,
  });
  return { core, users, chat, tokens, clock, throttle, hasher, leaseSeconds };
}
