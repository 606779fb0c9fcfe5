import { expect } from 'chai';
import { got } from 'got';
import {
  ChatServiceMisconfiguredError,
  ChatServiceUnavailableError,
  ChatUserExistsError,
  InvalidChatUsernameError,
  type Logger,
} from '@chat-app-server/core';
import { ManualClock, chatProvisionerContract } from '@chat-app-server/core/testing';
import { AgoraChatProvisioner } from '../src/index.js';
import { APP_CERT, APP_ID, OTHER_CERT, dumpErrorChain, freshName, provisionerFor, useEmulator } from './support.js';

describe('AgoraChatProvisioner against the emulator', function () {
  const emulator = useEmulator();

  chatProvisionerContract('Agora Chat emulator() over loopback', async () => ({
    provisioner: provisionerFor(emulator(), { timeoutMs: 400, deadlineMs: 1500 }),
    // Requests hang until the emulator closes; the suite clears the queue after each test.
    hang: () => emulator().faults.delayNext(1000, 3_600_000),
  }));

  describe('happy paths', function () {
    it('creates a user and returns the uuid and creation time Agora reports', async function () {
      const username = freshName();
      const user = await provisionerFor(emulator()).createUser(username, 'random-chat-pw');
      const stored = emulator().users.get(username);
      expect(user).to.deep.equal({ username, uuid: stored?.uuid, createdAt: stored?.created });
      expect(stored?.password).to.equal('random-chat-pw');
    });

    it('bans, unbans and forces offline at the emulator, reporting an unknown user as false', async function () {
      const username = freshName();
      emulator().users.add(username);
      const provisioner = provisionerFor(emulator());
      expect(await provisioner.deactivateUser(username)).to.equal(true);
      expect(emulator().users.get(username)?.activated).to.equal(false);
      expect(await provisioner.forceOffline(username)).to.equal(true);
      expect(emulator().users.disconnects.filter((u) => u === username)).to.have.length(1);
      expect(await provisioner.activateUser(username)).to.equal(true);
      expect(emulator().users.get(username)?.activated).to.equal(true);
      const missing = freshName('missing');
      expect([await provisioner.deactivateUser(missing), await provisioner.activateUser(missing), await provisioner.forceOffline(missing)])
        .to.deep.equal([false, false, false]);
    });

    it('builds one app token for many calls', async function () {
      const provisioner = provisionerFor(emulator());
      for (let i = 0; i < 5; i += 1) await provisioner.createUser(freshName(), 'pw-random');
      await provisioner.getUser(freshName());
      expect(provisioner.appTokenBuilds).to.equal(1);
      expect(emulator().stats.distinctAppTokens).to.equal(1);
      expect(emulator().stats.requests['POST /users']).to.equal(5);
    });

    it('renews the app token once half its lifetime has passed, not before', async function () {
      const clock = new ManualClock();
      const provisioner = provisionerFor(emulator(), { clock, appTokenLifetimeSeconds: 3600 });
      await provisioner.getUser(freshName());
      clock.advance(1799_000);
      await provisioner.getUser(freshName());
      expect(provisioner.appTokenBuilds).to.equal(1);
      clock.advance(2_000);
      await provisioner.getUser(freshName());
      expect(provisioner.appTokenBuilds).to.equal(2);
      expect(emulator().stats.distinctAppTokens).to.equal(2);
    });

    it('accepts the Console\'s bare domain form of the REST URL', function () {
      expect(() => new AgoraChatProvisioner({ restApiUrl: 'a61.chat.agora.io', appKey: 'o#a', appId: APP_ID, appCertificate: APP_CERT }))
        .to.not.throw();
    });
  });

  describe('refusals', function () {
    it('reports a taken name as chat_user_exists without an unknown outcome', async function () {
      const username = freshName();
      emulator().users.add(username);
      const err = await expect(provisionerFor(emulator()).createUser(username, 'pw-random')).to.be.rejectedWith(ChatUserExistsError);
      expect(err).to.include({ code: 'chat_user_exists', afterUnknownOutcome: false, chatUsername: username });
    });

    it('reports an illegal name as invalid_chat_username without retrying', async function () {
      await expect(provisionerFor(emulator()).createUser('Not Legal', 'pw-random')).to.be.rejectedWith(InvalidChatUsernameError);
      expect(emulator().stats.requests['POST /users']).to.equal(1);
    });

    it('does not retry other 4xx answers', async function () {
      emulator().faults.failNext(1, { status: 403, body: { error: 'forbidden_op', error_description: 'no' } });
      await expect(provisionerFor(emulator()).getUser(freshName())).to.be.rejectedWith(ChatServiceUnavailableError);
      expect(emulator().stats.requests['GET /users/{username}']).to.equal(1);
    });

    it('reports a wrong App Key as misconfigured', async function () {
      const provisioner = provisionerFor(emulator(), { appKey: 'otherorg#otherapp' });
      const err = await expect(provisioner.getUser(freshName())).to.be.rejectedWith(ChatServiceMisconfiguredError);
      expect(String(err)).to.match(/App Key/);
    });

    it('rebuilds the app token once on 401, then reports the credentials as misconfigured', async function () {
      const provisioner = provisionerFor(emulator(), { appCertificate: OTHER_CERT });
      const err = await expect(provisioner.createUser(freshName(), 'pw-random')).to.be.rejectedWith(ChatServiceMisconfiguredError);
      expect(String(err)).to.match(/App ID and App Certificate/);
      expect(provisioner.appTokenBuilds).to.equal(2);
      expect(emulator().stats.distinctAppTokens).to.equal(2);
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('recovers when one 401 was a stale token', async function () {
      emulator().faults.failNext(1, { status: 401 });
      const provisioner = provisionerFor(emulator());
      await provisioner.createUser(freshName(), 'pw-random');
      expect(provisioner.appTokenBuilds).to.equal(2);
    });

    it('refuses batches above 60 users', async function () {
      const users = Array.from({ length: 61 }, () => ({ username: freshName(), password: 'pw' }));
      await expect(provisionerFor(emulator()).createUsers(users)).to.be.rejectedWith(RangeError);
    });
  });

  describe('batches', function () {
    it('reports partial failures from data[].registerUserFailReason', async function () {
      const taken = freshName();
      emulator().users.add(taken);
      const fresh = freshName();
      const result = await provisionerFor(emulator()).createUsers([
        { username: fresh, password: 'pw-1' },
        { username: taken, password: 'pw-2' },
        { username: 'BAD NAME', password: 'pw-3' },
      ]);
      expect(result.created.map((u) => u.username)).to.deep.equal([fresh]);
      expect(result.failed.map((f) => [f.username, f.code, f.afterUnknownOutcome])).to.deep.equal([
        [taken, 'chat_user_exists', false], ['BAD NAME', 'invalid_chat_username', false],
      ]);
      expect(result.failed[0]?.reason).to.match(/already exists/);
      expect(emulator().stats.requests['POST /users']).to.equal(1);
    });

    it('falls back to one by one when the service fails the whole batch for one taken name', async function () {
      emulator().settings.batchAllOrNothing = true;
      const taken = freshName();
      emulator().users.add(taken);
      const fresh = [freshName(), freshName()];
      const result = await provisionerFor(emulator()).createUsers([
        { username: fresh[0]!, password: 'pw-1' },
        { username: taken, password: 'pw-2' },
        { username: fresh[1]!, password: 'pw-3' },
      ]);
      expect(result.created.map((u) => u.username)).to.deep.equal(fresh);
      expect(result.failed.map((f) => [f.username, f.code])).to.deep.equal([[taken, 'chat_user_exists']]);
      for (const name of fresh) expect(emulator().users.has(name)).to.equal(true);
    });

    it('marks the names of a batch resent after a lost answer as possibly created by us', async function () {
      emulator().faults.createThenDropNext(1);
      const names = [freshName(), freshName()];
      const result = await provisionerFor(emulator()).createUsers(names.map((username) => ({ username, password: 'pw' })));
      expect(result.created).to.deep.equal([]);
      expect(result.failed.map((f) => [f.username, f.code, f.afterUnknownOutcome])).to.deep.equal([
        [names[0], 'chat_user_exists', true], [names[1], 'chat_user_exists', true],
      ]);
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('fails the whole batch as unavailable when Agora keeps answering 503', async function () {
      emulator().faults.failNext(10, { status: 503 });
      const err = await provisionerFor(emulator()).createUsers([{ username: freshName(), password: 'pw' }]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ChatServiceUnavailableError);
    });

    it('needs no call for an empty batch', async function () {
      expect(await provisionerFor(emulator()).createUsers([])).to.deep.equal({ created: [], failed: [] });
      expect(emulator().stats.totalRequests).to.equal(0);
    });
  });

  describe('faults', function () {
    it('retries a 503 and succeeds', async function () {
      emulator().faults.failNext(1, { status: 503 });
      const username = freshName();
      await provisionerFor(emulator()).createUser(username, 'pw-random');
      expect(emulator().users.has(username)).to.equal(true);
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('retries the ban and force-offline calls on 5xx and reports lasting trouble as unavailable', async function () {
      const username = freshName();
      emulator().users.add(username);
      emulator().faults.failNext(1, { status: 503 });
      expect(await provisionerFor(emulator()).deactivateUser(username)).to.equal(true);
      expect(emulator().stats.requests['POST /users/{username}/deactivate']).to.equal(2);
      emulator().faults.failNext(10, { status: 500 });
      const err = await provisionerFor(emulator(), { retries: 1 }).forceOffline(username).catch((e: unknown) => e);
      expect(err).to.have.property('code', 'chat_service_unavailable');
      emulator().faults.clear();
    });

    it('retries a gateway page that is not JSON', async function () {
      emulator().faults.failNext(2, { status: 502, body: '<html>Bad Gateway</html>' });
      expect(await provisionerFor(emulator()).getUser(freshName())).to.equal(undefined);
      expect(emulator().stats.requests['GET /users/{username}']).to.equal(3);
    });

    it('waits for Retry-After on 429 before retrying', async function () {
      emulator().faults.failNext(1, { status: 429, retryAfter: 1 });
      const started = Date.now();
      await provisionerFor(emulator()).createUser(freshName(), 'pw-random');
      expect(Date.now() - started).to.be.at.least(950);
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('treats Agora\'s 400 "too many queries" as rate limiting', async function () {
      emulator().faults.failNext(1, { status: 400, body: { error_description: 'too many queries' } });
      await provisionerFor(emulator()).createUser(freshName(), 'pw-random');
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('gives up at once when Retry-After is beyond the deadline, passing the hint on', async function () {
      emulator().faults.failNext(1, { status: 429, retryAfter: 30 });
      const err = await expect(provisionerFor(emulator()).createUser(freshName(), 'pw-random'))
        .to.be.rejectedWith(ChatServiceUnavailableError);
      expect(err).to.include({ code: 'chat_service_unavailable', retryAfterSeconds: 30 });
      expect(emulator().stats.requests['POST /users']).to.equal(1);
    });

    it('retries a dropped connection', async function () {
      emulator().faults.dropNext(1);
      const username = freshName();
      await provisionerFor(emulator()).createUser(username, 'pw-random');
      expect(emulator().users.has(username)).to.equal(true);
      expect(emulator().stats.requests['POST /users']).to.equal(2);
    });

    it('ends a hanging service as chat_service_unavailable within the deadline', async function () {
      this.timeout(3000);
      emulator().faults.delayNext(10, 5000);
      const provisioner = provisionerFor(emulator(), { timeoutMs: 150, deadlineMs: 1000, retries: 10 });
      const err = await expect(provisioner.getUser(freshName())).to.be.rejectedWith(ChatServiceUnavailableError);
      expect(err.cause).to.have.property('code', 'ETIMEDOUT');
    });

    it('stops after the configured number of retries', async function () {
      emulator().faults.failNext(10, { status: 500 });
      await expect(provisionerFor(emulator(), { retries: 2 }).getUser(freshName())).to.be.rejectedWith(ChatServiceUnavailableError);
      expect(emulator().stats.requests['GET /users/{username}']).to.equal(3);
    });

    it('reports "exists" after a lost answer as possibly created by this call', async function () {
      emulator().faults.createThenDropNext(1);
      const username = freshName();
      const err = await expect(provisionerFor(emulator()).createUser(username, 'pw-random')).to.be.rejectedWith(ChatUserExistsError);
      expect(err).to.include({ afterUnknownOutcome: true, chatUsername: username });
      expect(emulator().users.has(username)).to.equal(true);
    });

    it('reports "exists" after a 5xx as possibly created by this call', async function () {
      const username = freshName();
      emulator().users.add(username);
      emulator().faults.failNext(1, { status: 504 });
      const err = await expect(provisionerFor(emulator()).createUser(username, 'pw-random')).to.be.rejectedWith(ChatUserExistsError);
      expect(err).to.have.property('afterUnknownOutcome', true);
    });

    it('reports "exists" after a 429 as a plain conflict (a refusal has no effect)', async function () {
      const username = freshName();
      emulator().users.add(username);
      emulator().faults.failNext(1, { status: 429 });
      const err = await expect(provisionerFor(emulator()).createUser(username, 'pw-random')).to.be.rejectedWith(ChatUserExistsError);
      expect(err).to.have.property('afterUnknownOutcome', false);
    });

    it('logs each retry without secrets', async function () {
      const warnings: string[] = [];
      const logger: Logger = { warn: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`) };
      emulator().faults.failNext(2, { status: 503 });
      await provisionerFor(emulator(), { logger }).createUser(freshName(), 'pw-random');
      expect(warnings).to.have.length(2);
      for (const w of warnings) expect(w).to.not.include(APP_CERT);
    });
  });

  describe('secrets', function () {
    function capturingProvisioner(options: Parameters<typeof provisionerFor>[1] = {}) {
      const sent: string[] = [];
      const client = got.extend({
        hooks: { beforeRequest: [(o) => void sent.push(String(o.headers['authorization']).replace(/^Bearer /, ''))] },
      });
      return { provisioner: provisionerFor(emulator(), { got: client, ...options }), sent };
    }

    function expectNoSecrets(err: unknown, tokens: string[], certificate = APP_CERT): void {
      const dump = dumpErrorChain(err);
      expect(tokens).to.not.be.empty;
      for (const secret of [certificate, ...tokens]) expect(dump).to.not.include(secret);
    }

    it('keeps the certificate and the app token out of network errors', async function () {
      emulator().faults.dropNext(10);
      const { provisioner, sent } = capturingProvisioner({ retries: 1 });
      const err = await expect(provisioner.createUser(freshName(), 'pw-random')).to.be.rejectedWith(ChatServiceUnavailableError);
      expectNoSecrets(err, sent);
    });

    it('keeps them out of timeouts', async function () {
      emulator().faults.delayNext(3, 2000);
      const { provisioner, sent } = capturingProvisioner({ retries: 1, timeoutMs: 100 });
      const err = await expect(provisioner.getUser(freshName())).to.be.rejectedWith(ChatServiceUnavailableError);
      expectNoSecrets(err, sent);
    });

    it('keeps them out of misconfiguration errors', async function () {
      const { provisioner, sent } = capturingProvisioner({ appCertificate: OTHER_CERT });
      const err = await expect(provisioner.createUser(freshName(), 'pw-random')).to.be.rejectedWith(ChatServiceMisconfiguredError);
      expectNoSecrets(err, sent, OTHER_CERT);
    });

    it('redacts them when a server echoes them back', async function () {
      const { provisioner, sent } = capturingProvisioner({ retries: 0 });
      await provisioner.getUser(freshName());
      const token = sent[0]!;
      emulator().faults.failNext(1, { status: 500, body: { error: 'boom', error_description: `cert=${APP_CERT} token=${token}` } });
      const err = await expect(provisioner.getUser(freshName())).to.be.rejectedWith(ChatServiceUnavailableError);
      expectNoSecrets(err, sent);
      expect(dumpErrorChain(err)).to.include('[redacted]');
    });

    it('names no secret when the credentials are malformed', function () {
      expect(() => provisionerFor(emulator(), { appCertificate: 'not-hex-secret-value' }))
        .to.throw(TypeError, /App Certificate must be 32 hexadecimal/)
        .with.property('message').that.does.not.include('not-hex-secret-value');
    });
  });
});
