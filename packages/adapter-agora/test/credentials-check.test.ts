import { expect } from 'chai';
import { ChatServiceMisconfiguredError, ChatServiceUnavailableError, type ObservedEvent } from '@chat-app-server/core';
import { OTHER_CERT, freshName, provisionerFor, startEmulator, useEmulator } from './support.js';

describe('AgoraChatProvisioner credentials check and observed calls', function () {
  const emulator = useEmulator();

  it('passes with the right credentials, with one read-only call', async function () {
    await provisionerFor(emulator()).checkCredentials();
    expect(emulator().stats.requests).to.deep.equal({ 'GET /users': 1 });
  });

  it('reports a wrong certificate as misconfigured, naming the App Certificate', async function () {
    const err = await expect(provisionerFor(emulator(), { appCertificate: OTHER_CERT }).checkCredentials())
      .to.be.rejectedWith(ChatServiceMisconfiguredError);
    expect(String(err)).to.match(/App Certificate/);
  });

  it('reports a wrong App Key as misconfigured', async function () {
    await expect(provisionerFor(emulator(), { appKey: 'otherorg#otherapp' }).checkCredentials()).to.be.rejectedWith(ChatServiceMisconfiguredError, /App Key/);
  });

  it('reports a 403 as misconfigured and a failing service as unavailable', async function () {
    emulator().faults.failNext(1, { status: 403, body: { error: 'forbidden_op', error_description: 'no' } });
    await expect(provisionerFor(emulator()).checkCredentials()).to.be.rejectedWith(ChatServiceMisconfiguredError, /App Key/);
    emulator().faults.failNext(10, { status: 503 });
    await expect(provisionerFor(emulator(), { retries: 1 }).checkCredentials()).to.be.rejectedWith(ChatServiceUnavailableError);
  });

  it('reports an unreachable service as unavailable', async function () {
    const down = await startEmulator();
    await down.close();
    await expect(provisionerFor(down, { retries: 0 }).checkCredentials()).to.be.rejectedWith(ChatServiceUnavailableError);
  });

  it('reports each call to the observer with its operation, outcome, retries and duration', async function () {
    const events: ObservedEvent[] = [];
    const provisioner = provisionerFor(emulator(), { observer: { observe: (e) => events.push(e) } });
    const name = freshName();
    emulator().faults.failNext(1, { status: 503 });
    await provisioner.createUser(name, 'pw-random');
    await provisioner.getUser(freshName());
    emulator().faults.failNext(10, { status: 503 });
    await expect(provisioner.deleteUser(name)).to.be.rejectedWith(ChatServiceUnavailableError);
    emulator().faults.clear();
    await expect(provisionerFor(emulator(), { appCertificate: OTHER_CERT, observer: { observe: (e) => events.push(e) } }).checkCredentials()).to.be.rejected;
    const calls = events.map((e) => (e.kind === 'chat_service_call' ? [e.operation, e.outcome, e.retries] : e.kind));
    expect(calls).to.deep.equal([
      ['create_user', 'success', 1],
      ['get_user', 'refused', 0],
      ['delete_user', 'unavailable', 3],
      ['check_credentials', 'misconfigured', 1],
    ]);
    for (const e of events) if (e.kind === 'chat_service_call') expect(e.durationMs).to.be.greaterThan(0);
  });
});
