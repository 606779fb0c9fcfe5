import { expect } from 'chai';
import { ChatServiceMisconfiguredError, ChatUserExistsError, InvalidChatUsernameError, createCore, isPortError } from '../src/index.js';
import { aTestCore, expectCode, type TestCore } from '../src/testing/index.js';
import { hangAt, holdFirstCreate, until } from './support.js';

const register = (rig: TestCore, password = 'password1') =>
  rig.core.registerUser.execute({ account: 'jack', password });

describe('registration saga under failures', function () {
  it('provisioner fails before creating: row stays pending with its lease ended, a retry finishes', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate();
    const err = await expectCode(register(rig), 'chat_service_unavailable');
    expect(err).to.have.property('retryAfterSeconds').that.is.at.least(1);
    const [row] = rig.users.all();
    expect(row).to.deep.include({ status: 'pending', chatUuid: null });
    expect(row?.leaseExpiresAt?.getTime()).to.be.at.most(rig.clock.now());
    expect(row?.creationAttemptedAt).to.not.equal(null);
    expect(rig.chat.users.size).to.equal(0);

    await register(rig);
    expect(rig.users.all()).to.have.length(1);
    expect(rig.users.all()[0]).to.deep.include({ status: 'active', chatUuid: rig.chat.users.get('jack')?.uuid });
  });

  it('the chat user is created but the answer is lost: an immediate retry adopts it', async function () {
    const rig = aTestCore();
    rig.chat.loseNextCreateAnswer();
    await expectCode(register(rig), 'chat_service_unavailable');
    expect(rig.chat.users.size).to.equal(1);
    expect(rig.users.all()[0]).to.have.property('status', 'pending');

    const principal = await register(rig);
    expect(rig.chat.users.size).to.equal(1);
    expect(principal.chatUuid).to.equal(rig.chat.users.get('jack')?.uuid);
    expect(rig.users.all()[0]).to.have.property('status', 'active');
  });

  it('adopts within one attempt when the provisioner says a retry found the user it may have created', async function () {
    const rig = aTestCore();
    const existing = rig.chat.addForeignUser('jack');
    rig.chat.failNextCreate(new ChatUserExistsError('jack', { afterUnknownOutcome: true }));
    const principal = await register(rig);
    expect(principal.chatUuid).to.equal(existing.uuid);
  });

  it('activate fails after the chat user was created: pending with attempt recorded, a retry adopts', async function () {
    const rig = aTestCore();
    rig.users.failNext.activate = new Error('database went away');
    let thrown: unknown;
    await register(rig).catch((err: unknown) => { thrown = err; });
    expect(thrown).to.have.property('message', 'database went away');
    const [row] = rig.users.all();
    expect(row).to.deep.include({ status: 'pending', chatUuid: null });
    expect(row?.creationAttemptedAt).to.not.equal(null);
    expect(row?.leaseExpiresAt?.getTime()).to.be.at.most(rig.clock.now());
    expect(rig.chat.users.size).to.equal(1);

    const principal = await register(rig);
    expect(principal.chatUuid).to.equal(rig.chat.users.get('jack')?.uuid);
    expect(rig.chat.users.size).to.equal(1);
  });

  it('the process dies between steps: a second attempt waits for the lease, a later one finishes', async function () {
    for (const diesAt of ['markCreationAttempted', 'createUser', 'activate'] as const) {
      const rig = aTestCore();
      // The first process stops for good at one step: it shares the stores but never goes on.
      const dying = createCore({
        users: diesAt === 'createUser' ? rig.users : hangAt(rig.users, diesAt),
        chatProvisioner: diesAt === 'createUser' ? hangAt(rig.chat, 'createUser') : rig.chat,
        tokens: rig.tokens, clock: rig.clock, passwordHasher: rig.hasher, registrationLeaseSeconds: rig.leaseSeconds,
      });
      void dying.registerUser.execute({ account: 'jack', password: 'password1' });
      await until(() => rig.users.all().length === 1 && (diesAt !== 'activate' || rig.chat.users.size === 1));

      await expectCode(register(rig), 'account_exists');
      rig.clock.advance(rig.leaseSeconds * 1000);
      const principal = await register(rig);
      expect(principal.chatUuid, diesAt).to.equal(rig.chat.users.get('jack')?.uuid);
      expect(rig.chat.users.size, diesAt).to.equal(1);
      expect(rig.users.all()[0], diesAt).to.have.property('status', 'active');
    }
  });

  it('a chat user with the same name exists for a fresh reservation: conflict, not adopted, nothing kept', async function () {
    const rig = aTestCore();
    const stranger = rig.chat.addForeignUser('jack');
    await expectCode(register(rig), 'chat_username_taken');
    expect(rig.users.all()).to.deep.equal([]);
    expect(rig.chat.users.get('jack')).to.deep.equal(stranger);
    expect(rig.chat.calls.get).to.equal(0);
  });

  it('a second attempt during a live lease gets account_exists and changes nothing', async function () {
    const rig = aTestCore();
    const held = holdFirstCreate(rig.chat);
    const first = register(rig, 'first-password');
    await held.reached;
    await expectCode(register(rig, 'second-password'), 'account_exists');
    held.release();
    await first;
    const [row] = rig.users.all();
    expect(await rig.hasher.verify(row!.passwordHash!, 'first-password')).to.equal(true);
    expect(row).to.have.property('status', 'active');
  });

  it('takes over an abandoned row with the new password', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate();
    await expectCode(register(rig, 'first-password'), 'chat_service_unavailable');
    await register(rig, 'second-password');
    const [row] = rig.users.all();
    expect(await rig.hasher.verify(row!.passwordHash!, 'second-password')).to.equal(true);
    expect(await rig.hasher.verify(row!.passwordHash!, 'first-password')).to.equal(false);
  });

  it('a login with the right password on a failed registration\'s row completes it', async function () {
    const rig = aTestCore();
    rig.chat.loseNextCreateAnswer();
    await expectCode(register(rig, 'the-password'), 'chat_service_unavailable');
    await expectCode(rig.core.loginUser.execute({ account: 'jack', password: 'wrong-password' }), 'invalid_credentials');
    expect(rig.users.all()[0]).to.have.property('status', 'pending');

    const login = await rig.core.loginUser.execute({ account: 'jack', password: 'the-password' });
    expect(login.principal.chatUsername).to.equal('jack');
    expect(rig.users.all()[0]).to.deep.include({ status: 'active', chatUuid: rig.chat.users.get('jack')?.uuid });
    expect(rig.chat.users.size).to.equal(1);
  });

  it('a login during a live registration lease answers chat_service_unavailable with the wait', async function () {
    const rig = aTestCore();
    const held = holdFirstCreate(rig.chat);
    const first = register(rig, 'the-password');
    await held.reached;
    const err = await expectCode(rig.core.loginUser.execute({ account: 'jack', password: 'the-password' }), 'chat_service_unavailable');
    expect(err).to.have.property('retryAfterSeconds', rig.leaseSeconds);
    held.release();
    await first;
  });

  it('a chat service refusal of the name releases the reservation and answers with a client-facing code', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate(new InvalidChatUsernameError('jack'));
    const err = await expectCode(register(rig), 'invalid_request');
    expect(err).to.have.property('field', 'account');
    expect(rig.users.all()).to.deep.equal([]);
  });

  it('never lets a port\'s error code escape, whatever the provisioner throws', async function () {
    const rig = aTestCore();
    // "exists" after an unknown outcome, yet the lookup finds nobody: the saga must not pass "exists" on.
    rig.chat.failNextCreate(new ChatUserExistsError('jack', { afterUnknownOutcome: true }));
    const err = await expectCode(register(rig), 'chat_service_unavailable');
    expect(isPortError(err)).to.equal(false);
  });

  it('a misconfigured chat service fails the attempt and leaves a row the next attempt can take', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate(new ChatServiceMisconfiguredError('bad App Certificate'));
    await expectCode(register(rig), 'chat_service_misconfigured');
    await register(rig);
    expect(rig.users.all()[0]).to.have.property('status', 'active');
  });

  it('when adoption cannot find the user it fails as unavailable and keeps the row', async function () {
    const rig = aTestCore();
    rig.chat.loseNextCreateAnswer();
    await expectCode(register(rig), 'chat_service_unavailable');
    rig.chat.users.delete('jack');
    rig.chat.failNextCreate(new ChatUserExistsError('jack'));
    await expectCode(register(rig), 'chat_service_unavailable');
    expect(rig.users.all()[0]).to.have.property('status', 'pending');
    await register(rig);
    expect(rig.users.all()[0]).to.have.property('status', 'active');
  });

  it('an attempt that lost its lease to a takeover does not activate the row', async function () {
    const rig = aTestCore();
    const held = holdFirstCreate(rig.chat);
    const slow = register(rig, 'slow-password');
    await held.reached;
    rig.clock.advance(rig.leaseSeconds * 1000);
    // The slow attempt's lease expired: a new attempt takes over, finds no chat user yet and creates it.
    await register(rig, 'fast-password');
    held.release();
    // Its late create finds the chat user of the attempt that took over: that is no stranger's.
    await expectCode(slow, 'account_exists');
    const [row] = rig.users.all();
    expect(await rig.hasher.verify(row!.passwordHash!, 'fast-password')).to.equal(true);
    expect(rig.chat.users.size).to.equal(1);
  });
});
