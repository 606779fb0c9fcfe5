import { expect } from 'chai';
import {
  createCore, registrationLeaseProblem, registrationLeaseSecondsFor, resolveRegistrationLease, REGISTRATION_LEASE_MARGIN_SECONDS,
} from '../src/index.js';
import {
  CHEAP_SCRYPT_PARAMETERS, FakeChatProvisioner, FakeTokenIssuer, InMemoryUserRepository, ManualClock, expectCode,
} from '../src/testing/index.js';
import { ScryptPasswordHasher } from '../src/index.js';
import { hangAt, until } from './support.js';

describe('the registration lease', function () {
  it('is the provisioner deadline rounded up to whole seconds, plus the margin', function () {
    expect(REGISTRATION_LEASE_MARGIN_SECONDS).to.equal(5);
    expect(registrationLeaseSecondsFor(10_000)).to.equal(15);
    expect(registrationLeaseSecondsFor(10_001)).to.equal(16);
    expect(registrationLeaseSecondsFor(1500)).to.equal(7);
    expect(registrationLeaseSecondsFor(1)).to.equal(6);
    expect(registrationLeaseSecondsFor(10_000, 2)).to.equal(12);
  });

  it('stays 60 s for a provisioner that declares no deadline', function () {
    expect(registrationLeaseSecondsFor(undefined)).to.equal(60);
  });

  it('refuses a deadline or margin that is not a positive number', function () {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => registrationLeaseSecondsFor(bad)).to.throw(RangeError, /deadlineMs/);
    expect(() => registrationLeaseSecondsFor(1000, 0)).to.throw(RangeError, /margin/);
  });

  it('accepts a configured lease only when it is longer than the deadline, saying which lease to use otherwise', function () {
    expect(registrationLeaseProblem(11, 10_000)).to.equal(undefined);
    expect(registrationLeaseProblem(10, 10_000)).to.match(/longer than the chat service deadline \(10000 ms/).and.match(/15 s/);
    expect(registrationLeaseProblem(3, 10_000)).to.include('(3 s)');
    expect(registrationLeaseProblem(0, undefined)).to.match(/positive whole number/);
    expect(registrationLeaseProblem(1.5, undefined)).to.match(/positive whole number/);
    expect(resolveRegistrationLease(undefined, 10_000)).to.equal(15);
    expect(resolveRegistrationLease(30, 10_000)).to.equal(30);
    expect(() => resolveRegistrationLease(10, 10_000)).to.throw(RangeError, /^registrationLeaseSeconds \(10 s\) must be longer/);
  });

  describe('in createCore', function () {
    const deps = (chatProvisioner: FakeChatProvisioner, clock = new ManualClock()) => ({
      users: new InMemoryUserRepository(), chatProvisioner, tokens: new FakeTokenIssuer(clock), clock,
      passwordHasher: new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS }),
    });

    it('derives the lease from the chat provisioner\'s deadline', function () {
      expect(createCore(deps(new FakeChatProvisioner({ deadlineMs: 10_000 }))).registrationLeaseSeconds).to.equal(15);
      expect(createCore(deps(new FakeChatProvisioner({ deadlineMs: 2500 }))).registrationLeaseSeconds).to.equal(8);
      expect(createCore(deps(new FakeChatProvisioner())).registrationLeaseSeconds).to.equal(60);
    });

    it('refuses to be built with a configured lease that is not longer than the deadline', function () {
      const chat = new FakeChatProvisioner({ deadlineMs: 10_000 });
      expect(() => createCore({ ...deps(chat), registrationLeaseSeconds: 10 })).to.throw(RangeError, /registrationLeaseSeconds/);
      expect(createCore({ ...deps(chat), registrationLeaseSeconds: 11 }).registrationLeaseSeconds).to.equal(11);
    });

    it('lets the account be registered again one derived lease after a process died in the chat-user creation, with one chat user', async function () {
      const clock = new ManualClock();
      const chat = new FakeChatProvisioner({ deadlineMs: 10_000 });
      const shared = deps(chat, clock);
      // The first process stops for good while creating the chat user (its request reached the service).
      const dying = createCore({ ...shared, chatProvisioner: hangAt(chat, 'createUser') });
      void dying.registerUser.execute({ account: 'jack', password: 'password1' });
      await until(() => shared.users.all()[0]?.creationAttemptedAt != null);
      chat.addForeignUser('jack');

      const next = createCore(shared);
      clock.advance(14_999);
      await expectCode(next.registerUser.execute({ account: 'jack', password: 'password1' }), 'account_exists');
      clock.advance(1);
      const principal = await next.registerUser.execute({ account: 'jack', password: 'password1' });
      expect(principal.chatUuid).to.equal(chat.users.get('jack')?.uuid);
      expect(chat.users.size).to.equal(1);
      expect(shared.users.all()[0]).to.have.property('status', 'active');
    });
  });
});
