import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeToken, SERVICE_CHAT, SERVICE_RTC, RTC_PUBLISH_AUDIO, hasValidSignature } from '@chat-app-server/adapter-agora/testing';
import type { AgoraAdapters } from '@chat-app-server/adapter-agora';
import type { ErrorLogger } from '@chat-app-server/core/http';
import { expect } from 'chai';
import { startExample, type ExampleServer } from '../src/server.js';
import { call, startProcess, stopProcess, type Child } from './support.js';

const quiet: ErrorLogger = { warn: () => {}, error: () => {} };
let users = 0;
const newUser = () => `user-${process.pid}-${++users}`;

// Signed with `certificate`, or (development credentials are random per process) verified by the issuer.
async function expectChatToken(token: unknown, chatUserName: unknown, certificate: string | AgoraAdapters['tokens']) {
  expect(token).to.be.a('string');
  if (typeof certificate === 'string') expect(hasValidSignature(token as string, certificate), 'signature').to.equal(true);
  else expect((await certificate.verifyChatToken(token as string)).subject, 'signature').to.equal(chatUserName);
  const chat = decodeToken(token as string).services.find((s) => s.type === SERVICE_CHAT);
  expect(chat?.userId).to.equal(chatUserName);
}

describe('examples/express with the built-in emulator', function () {
  let dir: string;
  let server: ExampleServer;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'example-express-'));
    server = await startExample({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}` }, quiet);
    expect(server.agora.mode).to.equal('emulator');
  });
  after(async function () {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => server.agora.emulator?.faults.clear());

  it('answers 401 without X-User-Id, in the JSON error shape', async function () {
    for (const [method, path] of [['POST', '/api/chat/session'], ['GET', '/api/rtc/token?channelName=room-1']] as const) {
      const answer = await call(server.url, method, path);
      expect(answer.status).to.equal(401);
      expect(answer.body).to.deep.equal({ code: 401, error: 'unauthenticated', message: 'Sign in first (send X-User-Id).' });
    }
  });

  it('POST /api/chat/session provisions the caller once and returns a chat user token', async function () {
    const userId = newUser();
    const first = await call(server.url, 'POST', '/api/chat/session', userId);
    expect(first.status).to.equal(200);
    expect(first.body).to.have.all.keys('chatUserName', 'agoraUid', 'accessToken', 'expireTimestamp');
    expect(first.body.agoraUid).to.match(/^[1-9]\d*$/);
    expect(first.body.expireTimestamp).to.be.a('number').above(Date.now());
    expect(first.headers.get('cache-control')).to.equal('no-store');
    await expectChatToken(first.body.accessToken, first.body.chatUserName, server.agora.tokens);
    expect(server.agora.emulator?.users.has(first.body.chatUserName as string)).to.equal(true);

    const again = await call(server.url, 'POST', '/api/chat/session', userId);
    expect(again.body).to.deep.include({ chatUserName: first.body.chatUserName, agoraUid: first.body.agoraUid });
  });

  it('gives 20 concurrent first requests of one user the same chat user', async function () {
    const userId = newUser();
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(server.url, 'POST', '/api/chat/session', userId)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(20).fill(200));
    const identities = new Set(answers.map((a) => `${String(a.body.chatUserName)}/${String(a.body.agoraUid)}`));
    expect(identities.size).to.equal(1);
    expect(server.agora.emulator?.users.list().filter((u) => u.username === answers[0]?.body.chatUserName)).to.have.length(1);
  });

  it('GET /api/rtc/token returns a chat + RTC token for the channel, bound to the caller\'s agoraUid', async function () {
    const userId = newUser();
    const session = await call(server.url, 'POST', '/api/chat/session', userId);
    const answer = await call(server.url, 'GET', '/api/rtc/token?channelName=room-1&publisherRole=true', userId);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.have.all.keys('accessToken', 'expireTimestamp', 'agoraUid');
    expect(answer.body.agoraUid).to.equal(session.body.agoraUid);
    await expectChatToken(answer.body.accessToken, session.body.chatUserName, server.agora.tokens);
    const rtc = decodeToken(answer.body.accessToken as string).services.find((s) => s.type === SERVICE_RTC);
    expect(rtc).to.deep.include({ channelName: 'room-1', uid: session.body.agoraUid });
    expect(rtc?.privileges).to.have.property(String(RTC_PUBLISH_AUDIO));

    const subscriber = await call(server.url, 'GET', '/api/rtc/token?channelName=room-1', userId);
    const privileges = decodeToken(subscriber.body.accessToken as string).services.find((s) => s.type === SERVICE_RTC)?.privileges;
    expect(privileges).to.not.have.property(String(RTC_PUBLISH_AUDIO));
  });

  it('answers 400 invalid_request for a missing, repeated or bad channel name and a bad publisherRole', async function () {
    const userId = newUser();
    for (const query of ['', '?channelName=a&channelName=b', '?channelName=no%2Fslashes', `?channelName=${'x'.repeat(64)}`, '?channelName=c&publisherRole=yes']) {
      const answer = await call(server.url, 'GET', `/api/rtc/token${query}`, userId);
      expect(answer.status, query).to.equal(400);
      expect(answer.body, query).to.include({ code: 400, error: 'invalid_request' });
      expect(answer.body.message, query).to.match(/channelName|publisherRole/);
    }
  });

  it('answers 503 chat_service_unavailable with Retry-After while Agora fails, and provisions once it is back', async function () {
    const userId = newUser();
    server.agora.emulator?.faults.failNext(20, { status: 503 });
    const down = await call(server.url, 'POST', '/api/chat/session', userId);
    expect(down.status).to.equal(503);
    expect(down.body).to.include({ code: 503, error: 'chat_service_unavailable' });
    expect(Number(down.headers.get('retry-after'))).to.be.at.least(1);
    server.agora.emulator?.faults.clear();
    expect((await call(server.url, 'POST', '/api/chat/session', userId)).status).to.equal(200);
  });
});

describe('examples/express as a process, against the Agora emulator as a separate process', function () {
  const APP_ID = '0123456789abcdef0123456789abcdef';
  const APP_CERT = 'fedcba9876543210fedcba9876543210';
  let dir: string;
  let emulator: Child | undefined;
  let example: Child | undefined;
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'example-express-'));
  });
  after(async function () {
    if (example) await stopProcess(example);
    if (emulator) await stopProcess(emulator);
    await rm(dir, { recursive: true, force: true });
  });

  it('serves both endpoints with real AGORA_* settings, then stops cleanly on SIGTERM', async function () {
    const emulatorCli = join(createRequire(import.meta.url).resolve('@chat-app-server/adapter-agora'), '..', 'emulator', 'cli.js');
    const started = await startProcess(
      [emulatorCli, '--port', '0', '--app-id', APP_ID, '--app-cert', APP_CERT, '--app-key', 'acme#chat'],
      { PATH: process.env.PATH },
      /^AGORA_REST_API_URL=(\S+)$/,
    );
    emulator = started.child;
    const restApiUrl = started.match[1]!;

    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
    const env = {
      PATH: process.env.PATH, NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}`,
      AGORA_APP_ID: APP_ID, AGORA_APP_CERT: APP_CERT, AGORA_APP_KEY: 'acme#chat', AGORA_REST_API_URL: restApiUrl,
    };
    const running = await startProcess([main], env, /^example-express listening on (\S+)$/);
    example = running.child;
    const baseUrl = running.match[1]!;

    const session = await call(baseUrl, 'POST', '/api/chat/session', 'alice@example.com');
    expect(session.status).to.equal(200);
    await expectChatToken(session.body.accessToken, session.body.chatUserName, APP_CERT);
    const chatUsers = (await (await fetch(`${restApiUrl}/_emulator/users`)).json()) as { users: Array<{ username: string }> };
    expect(chatUsers.users.map((u) => u.username)).to.include(session.body.chatUserName);

    const rtc = await call(baseUrl, 'GET', '/api/rtc/token?channelName=room-1', 'alice@example.com');
    expect(rtc.status).to.equal(200);
    expect(rtc.body.agoraUid).to.equal(session.body.agoraUid);

    expect(await stopProcess(example)).to.equal(0);
    example = undefined;
    expect(running.output.join('\n')).to.not.include(APP_CERT);
  });
});
