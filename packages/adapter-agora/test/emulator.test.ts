import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import agoraToken from 'agora-token';
import type { AgoraEmulator } from '../src/emulator/index.js';
import { EmulatorStats, MAX_REMEMBERED_TOKENS } from '../src/emulator/emulator-stats.js';
import { encodeToken } from '../src/testing/access-token-codec.js';
import { APP_CERT, APP_ID, OTHER_APP_ID, OTHER_CERT, freshName, startEmulator, tokenBomb } from './support.js';

const { ChatTokenBuilder } = agoraToken;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('Agora Chat emulator', function () {
  let emulator: AgoraEmulator;
  let token: string;

  before(async function () {
    emulator = await startEmulator();
    token = ChatTokenBuilder.buildAppToken(APP_ID, APP_CERT, 600);
  });
  after(async function () {
    await emulator.close();
  });
  afterEach(function () {
    emulator.reset();
    emulator.settings.rateLimitPerSecond = undefined;
  });

  async function call(method: string, path: string, o: { body?: unknown; bearer?: string | null; contentType?: string | null } = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = o.bearer === undefined ? token : o.bearer;
    if (bearer !== null) headers['authorization'] = `Bearer ${bearer}`;
    const contentType = o.contentType === undefined ? 'application/json' : o.contentType;
    if (o.body !== undefined && contentType !== null) headers['content-type'] = contentType;
    const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const response = await fetch(`${emulator.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  function expectErrorBody(answer: Answer, status: number, error: string): void {
    expect(answer.status).to.equal(status);
    expect(answer.body).to.have.all.keys('error', 'exception', 'timestamp', 'duration', 'error_description');
    expect(answer.body['error']).to.equal(error);
    expect(answer.body['timestamp']).to.be.a('number');
    expect(answer.body['error_description']).to.be.a('string');
  }

  describe('wire format', function () {
    it('registers a user with Agora\'s envelope', async function () {
      const username = freshName();
      const answer = await call('POST', '/testorg/testapp/users', { body: { username, password: 'pw' } });
      expect(answer.status).to.equal(200);
      expect(answer.body).to.include({ action: 'post', applicationName: 'testapp', organization: 'testorg', path: '/users' });
      expect(answer.body['uri']).to.equal(`${emulator.url}/testorg/testapp/users`);
      for (const field of ['application', 'timestamp', 'duration']) expect(answer.body).to.have.property(field);
      const [user] = answer.body['entities'] as Array<Record<string, unknown>>;
      expect(user).to.have.all.keys('uuid', 'type', 'created', 'modified', 'username', 'activated');
      expect(user).to.include({ type: 'user', username, activated: true });
    });

    it('reads a user with count, and deletes it', async function () {
      const username = freshName();
      const seeded = emulator.users.add(username);
      const got = await call('GET', `/testorg/testapp/users/${username}`);
      expect(got.status).to.equal(200);
      expect(got.body).to.include({ action: 'get', count: 1 });
      expect((got.body['entities'] as Array<Record<string, unknown>>)[0]).to.include({ uuid: seeded?.uuid, username });
      const deleted = await call('DELETE', `/testorg/testapp/users/${username}`);
      expect(deleted.body).to.include({ action: 'delete' });
      expectErrorBody(await call('GET', `/testorg/testapp/users/${username}`), 404, 'service_resource_not_found');
      expectErrorBody(await call('DELETE', `/testorg/testapp/users/${username}`), 404, 'service_resource_not_found');
    });

    it('registers a batch with partial failures in data', async function () {
      const [a, b] = [freshName(), freshName()];
      emulator.users.add(b);
      const answer = await call('POST', '/testorg/testapp/users', { body: [{ username: a, password: 'p' }, { username: b, password: 'p' }] });
      expect(answer.status).to.equal(200);
      expect((answer.body['entities'] as Array<{ username: string }>).map((e) => e.username)).to.deep.equal([a]);
      expect(answer.body['data']).to.deep.equal([{ username: b, registerUserFailReason: `the ${b} already exists` }]);
      const tooMany = Array.from({ length: 61 }, () => ({ username: freshName() }));
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: tooMany }), 400, 'illegal_argument');
    });

    it('bans, unbans and forces a user offline with Agora\'s paths and bodies, and shows it in its state', async function () {
      const username = freshName();
      const seeded = emulator.users.add(username);
      const banned = await call('POST', `/testorg/testapp/users/${username}/deactivate`);
      expect(banned.status).to.equal(200);
      expect(banned.body).to.include({ action: 'Deactivate user' });
      expect((banned.body['entities'] as Array<Record<string, unknown>>)[0]).to.include({ uuid: seeded?.uuid, username, activated: false });
      expect(emulator.users.get(username)?.activated).to.equal(false);
      const got = await call('GET', `/testorg/testapp/users/${username}`);
      expect((got.body['entities'] as Array<Record<string, unknown>>)[0]).to.include({ activated: false });

      const offline = await call('GET', `/testorg/testapp/users/${username}/disconnect`);
      expect(offline.status).to.equal(200);
      expect(offline.body).to.deep.include({ action: 'get', entities: [], data: { result: true } });
      expect(emulator.users.disconnects).to.deep.equal([username]);

      const unbanned = await call('POST', `/testorg/testapp/users/${username}/activate`);
      expect(unbanned.status).to.equal(200);
      expect(unbanned.body).to.include({ action: 'activate user' });
      expect(emulator.users.get(username)?.activated).to.equal(true);
      expect(emulator.stats.requests).to.include({
        'POST /users/{username}/deactivate': 1, 'GET /users/{username}/disconnect': 1, 'POST /users/{username}/activate': 1,
      });
      const state = await fetch(`${emulator.url}/_emulator/users`).then((r) => r.json() as Promise<Record<string, unknown>>);
      expect(state['disconnects']).to.deep.equal([username]);
    });

    it('answers 404 for those actions on an unknown user, 405 for the wrong method and 404 for unknown actions', async function () {
      const missing = freshName('missing');
      for (const [method, action] of [['POST', 'deactivate'], ['POST', 'activate'], ['GET', 'disconnect']] as const) {
        expectErrorBody(await call(method, `/testorg/testapp/users/${missing}/${action}`), 404, 'service_resource_not_found');
      }
      const username = freshName();
      emulator.users.add(username);
      expectErrorBody(await call('GET', `/testorg/testapp/users/${username}/deactivate`), 405, 'unsupported_service_operation');
      expectErrorBody(await call('POST', `/testorg/testapp/users/${username}/disconnect`), 405, 'unsupported_service_operation');
      expectErrorBody(await call('POST', `/testorg/testapp/users/${username}/explode`), 404, 'service_resource_not_found');
      expectErrorBody(await call('POST', `/testorg/testapp/users/${username}/deactivate`, { bearer: null }), 401, 'unauthorized');
      expect(emulator.users.get(username)?.activated).to.equal(true);
      expect(emulator.users.disconnects).to.deep.equal([]);
    });

    it('answers Agora\'s errors for bad input', async function () {
      const username = freshName();
      emulator.users.add(username);
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: { username } }), 400, 'duplicate_unique_property_exists');
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: { username: 'Upper' } }), 400, 'illegal_argument');
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: { username: 'a'.repeat(65) } }), 400, 'illegal_argument');
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: {} }), 400, 'illegal_argument');
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: '{"username":' }), 400, 'json_parse');
      expectErrorBody(await call('POST', '/testorg/testapp/users', { body: { username: 'x' }, contentType: null }), 415, 'web_application');
      expectErrorBody(await call('GET', '/otherorg/testapp/users/x'), 404, 'organization_application_not_found');
      expectErrorBody(await call('PUT', '/testorg/testapp/users/x'), 405, 'unsupported_service_operation');
    });
  });

  describe('app tokens', function () {
    it('answers 401 unauthorized without a token', async function () {
      const answer = await call('POST', '/testorg/testapp/users', { body: { username: freshName() }, bearer: null });
      expectErrorBody(answer, 401, 'unauthorized');
      expect(answer.body['error_description']).to.equal('Registration is not open, please contact the app admin.');
    });

    it('answers 401 for tokens that are not our valid app tokens', async function () {
      const bad = [
        'garbage',
        ChatTokenBuilder.buildAppToken(APP_ID, OTHER_CERT, 600),
        ChatTokenBuilder.buildAppToken(OTHER_APP_ID, APP_CERT, 600),
        ChatTokenBuilder.buildUserToken(APP_ID, APP_CERT, 'jack', 600),
      ];
      for (const bearer of bad) expectErrorBody(await call('GET', '/testorg/testapp/users/x', { bearer }), 401, 'unauthorized');
      expect(emulator.stats.distinctAppTokens).to.equal(bad.length);
    });

    it('remembers a bounded number of distinct bearers, however many are sent', function () {
      const stats = new EmulatorStats();
      for (let i = 0; i < MAX_REMEMBERED_TOKENS + 500; i++) stats.sawToken(`bearer-${i}`);
      stats.sawToken('bearer-0');
      expect(stats.distinctAppTokens).to.equal(MAX_REMEMBERED_TOKENS);
    });

    it('answers 401 to token bombs at once (bounded parsing), and keeps serving', async function () {
      // A liveness bound with a wide margin: an unbounded parser spends tens of seconds on one bomb.
      this.timeout(3000);
      const bombs = [tokenBomb(APP_ID), tokenBomb(APP_ID, { padding: 0 })];
      for (const bearer of bombs) expectErrorBody(await call('GET', '/testorg/testapp/users/x', { bearer }), 401, 'unauthorized');
      expect((await call('GET', '/testorg/testapp/users/x')).status).to.equal(404);
    });

    it('answers 401 for an expired app token', async function () {
      const issueTs = Math.floor(Date.now() / 1000) - 100;
      const services = [{ type: 5, privileges: { 2: 10 }, userId: '' }];
      const expired = encodeToken({ appId: APP_ID, issueTs, expire: 10, salt: 1, services }, APP_CERT);
      const valid = encodeToken({ appId: APP_ID, issueTs, expire: 1000, salt: 1, services: [{ ...services[0]!, privileges: { 2: 1000 } }] }, APP_CERT);
      expect((await call('GET', '/testorg/testapp/users/x', { bearer: valid })).status).to.equal(404);
      expectErrorBody(await call('GET', '/testorg/testapp/users/x', { bearer: expired }), 401, 'unauthorized');
    });
  });

  it('rate limits with 429 reach_limit', async function () {
    emulator.settings.rateLimitPerSecond = 2;
    const answers = await Promise.all(Array.from({ length: 8 }, () => call('GET', '/testorg/testapp/users/nobody')));
    const limited = answers.filter((a) => a.status === 429);
    // Even if the burst straddles a second boundary, at most 2 + 2 get through.
    expect(limited.length).to.be.at.least(4);
    expectErrorBody(limited[0]!, 429, 'reach_limit');
    expect(emulator.stats.rateLimited).to.equal(limited.length);
  });

  describe('fault injection', function () {
    it('serves queued failures in order, with Retry-After and a custom body', async function () {
      emulator.faults.failNext(1, { status: 503, retryAfter: 7 });
      emulator.faults.failNext(1, { status: 500, body: { error: 'custom' } });
      const first = await call('GET', '/testorg/testapp/users/x');
      expect(first.status).to.equal(503);
      expect(first.headers.get('retry-after')).to.equal('7');
      expect((await call('GET', '/testorg/testapp/users/x')).body).to.deep.equal({ error: 'custom' });
      expect((await call('GET', '/testorg/testapp/users/x')).status).to.equal(404);
    });

    it('drops a connection without effect, or after taking effect', async function () {
      const [a, b] = [freshName(), freshName()];
      emulator.faults.dropNext(1);
      await expect(call('POST', '/testorg/testapp/users', { body: { username: a } })).to.be.rejected;
      expect(emulator.users.has(a)).to.equal(false);
      emulator.faults.createThenDropNext(1);
      await expect(call('POST', '/testorg/testapp/users', { body: { username: b } })).to.be.rejected;
      expect(emulator.users.has(b)).to.equal(true);
    });

    it('hangs a request, then handles it', async function () {
      emulator.faults.delayNext(1, 50);
      const username = freshName();
      const answer = await call('POST', '/testorg/testapp/users', { body: { username } });
      expect(answer.status).to.equal(200);
    });
  });

  describe('control API', function () {
    async function control(method: string, path: string, body?: unknown): Promise<Answer> {
      const response = await fetch(`${emulator.url}/_emulator${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
    }

    it('seeds and lists users', async function () {
      const username = freshName();
      expect((await control('POST', '/users', { username })).status).to.equal(201);
      expect((await control('POST', '/users', { username })).status).to.equal(409);
      const list = (await control('GET', '/users')).body['users'] as Array<{ username: string }>;
      expect(list.map((u) => u.username)).to.deep.equal([username]);
      expect((await call('GET', `/testorg/testapp/users/${username}`)).status).to.equal(200);
    });

    it('queues faults, reports stats and resets', async function () {
      expect((await control('POST', '/faults', { kind: 'fail', status: 502, count: 2 })).body).to.deep.equal({ pending: 2 });
      expect((await call('GET', '/testorg/testapp/users/x')).status).to.equal(502);
      expect((await control('GET', '/stats')).body).to.deep.include({ requests: { 'GET /users/{username}': 1 }, distinctAppTokens: 1 });
      expect((await control('POST', '/faults', { kind: 'explode' })).status).to.equal(400);
      await control('POST', '/reset');
      expect(emulator.faults.pending).to.equal(0);
      expect(emulator.stats.totalRequests).to.equal(0);
      expect((await call('GET', '/testorg/testapp/users/x')).status).to.equal(404);
    });

    it('mints an app token the emulator accepts', async function () {
      const { accessToken } = (await control('POST', '/app-token')).body as { accessToken: string };
      expect((await call('GET', '/testorg/testapp/users/x', { bearer: accessToken })).status).to.equal(404);
    });
  });

  it('prints a random certificate it made, never one it read from the environment', async function () {
    const run = async (env: NodeJS.ProcessEnv): Promise<string> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/cli.ts', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      try {
        for await (const chunk of child.stdout) {
          out += String(chunk);
          if (out.includes('AGORA_APP_CERT')) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // the rest of the last line
        return out;
      } finally {
        child.kill('SIGTERM');
        if (child.exitCode === null) await once(child, 'exit');
      }
    };
    const withSecret = await run({ ...process.env, AGORA_APP_ID: APP_ID, AGORA_APP_CERT: APP_CERT });
    expect(withSecret).to.include(`AGORA_APP_ID=${APP_ID}`).and.include('AGORA_APP_CERT').and.not.include(APP_CERT);
    const { AGORA_APP_CERT: _, ...rest } = process.env;
    expect(await run(rest)).to.match(/AGORA_APP_CERT=[0-9a-f]{32}/);
  });

  it('runs from the command line and prints its URL', async function () {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/cli.ts', '--port', '0', '--app-key', 'cliorg#cliapp'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const url = /listening on (\S+)/.exec(chunk.toString())?.[1];
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${url}/_emulator/stats`);
      expect(response.status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
