import { accountKeyOf } from '@chat-app-server/core';
import { AgoraTokenIssuer } from '@chat-app-server/adapter-agora';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import {
  CHAT_PRIVILEGE_USER, decodeAccessToken2, RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_DATA, RTC_PUBLISH_VIDEO,
  SERVICE_CHAT, SERVICE_RTC, type DecodedToken,
} from './support/access-token2.js';
import { DIALECTS, FAST_PROVISIONER, requirePostgres, sleep, startTestEmulator, startTestServer, TEST_AGORA, type TestServer } from './support/harness.js';
import { client, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';

function expectError(res: HttpResponse, status: number, error: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.body).to.be.an('object');
  expect(res.body.code).to.equal(status);
  expect(res.body.error).to.equal(error);
  expect(res.body.message).to.be.a('string').and.not.equal('');
  expect(Object.keys(res.body).sort()).to.deep.equal(['code', 'error', 'message']);
}

function chatService(token: DecodedToken) {
  return token.services.find((s) => s.type === SERVICE_CHAT);
}

for (const dialect of DIALECTS) {
  describe(`HTTP API over real HTTP on ${dialect}`, function () {
    let emulator: AgoraEmulator;
    let server: TestServer;
    let api: ReturnType<typeof client>;

    before(async function () {
      if (dialect === 'postgres') await requirePostgres(this);
      emulator = await startTestEmulator();
      server = await startTestServer(dialect, emulator);
      api = client(server.url);
    });

    after(async () => {
      await server?.stop();
      await emulator?.close();
    });

    afterEach(() => emulator?.faults.clear());

    async function registerAndLogin(account: string) {
      expect((await api.register(account, PASSWORD)).status).to.equal(200);
      const login = await api.login(account, PASSWORD);
      expect(login.status, login.text).to.equal(200);
      return login.body as { accessToken: string; expireTimestamp: number; chatUserName: string; agoraUid: string };
    }

    describe('media types', () => {
      it('reads JSON under any RFC 9110 spelling of application/json, and without a Content-Type', async () => {
        const spellings = [
          'application/json; charset=UTF-8',
          'Application/JSON',
          'application/json ; charset=utf-8',
          'APPLICATION/JSON;CHARSET="Utf-8"',
          'application/json;\tcharset=utf8',
          undefined, // the sample apps' clients send no Content-Type
        ];
        for (const [i, contentType] of spellings.entries()) {
          const account = `media${i}`;
          const headers: Record<string, string> = contentType === undefined ? {} : { 'Content-Type': contentType };
          const body = JSON.stringify({ userAccount: account, userPassword: PASSWORD });
          const registered = await api.request('POST', '/app/user/register', { headers, body });
          expect(registered.status, `${contentType}: ${registered.text}`).to.equal(200);
          const login = await api.request('POST', '/app/user/login', { headers, body });
          expect(login.status, `${contentType}: ${login.text}`).to.equal(200);
        }
      });
    });

    describe('the whole flow', () => {
      it('registers, logs in, issues publisher and subscriber tokens and renews, every token verified independently', async () => {
        const before = Date.now();
        const registered = await api.register('Jack', PASSWORD);
        expect(registered.status).to.equal(200);
        expect(registered.body).to.deep.equal({ code: 200 });

        const login = await api.login('jack', PASSWORD);
        expect(login.status).to.equal(200);
        expect(Object.keys(login.body).sort()).to.deep.equal(['accessToken', 'agoraUid', 'chatUserName', 'code', 'expireTimestamp']);
        const { accessToken, expireTimestamp, chatUserName, agoraUid } = login.body;
        expect(chatUserName).to.equal('jack');
        expect(agoraUid).to.match(/^[1-9]\d*$/);
        expect(Number(agoraUid)).to.be.within(1, 2 ** 31 - 1);

        const chat = decodeAccessToken2(accessToken, TEST_AGORA.appCertificate);
        expect(chat.signatureValid).to.equal(true);
        expect(chat.appId).to.equal(TEST_AGORA.appId);
        expect(chat.expire).to.equal(86_400);
        expect(expireTimestamp).to.equal((chat.issueTs + chat.expire) * 1000);
        expect(chat.issueTs * 1000).to.be.within(before - 2000, Date.now() + 1000);
        expect(chat.services).to.have.length(1);
        expect(chatService(chat)?.userId).to.equal(chatUserName);
        expect(chatService(chat)!.privileges).to.deep.equal({ [CHAT_PRIVILEGE_USER]: 86_400 });

        const user = emulator.users.get(chatUserName);
        expect(user, 'chat user in the emulator').to.not.equal(undefined);

        for (const publisher of [true, false]) {
          const res = await api.token(`channelName=room-1&publisherRole=${publisher}`, accessToken);
          expect(res.status, res.text).to.equal(200);
          expect(res.body.chatUserName).to.equal(chatUserName);
          expect(res.body.agoraUid).to.equal(agoraUid);
          const token = decodeAccessToken2(res.body.accessToken, TEST_AGORA.appCertificate);
          expect(token.signatureValid).to.equal(true);
          expect(token.appId).to.equal(TEST_AGORA.appId);
          expect(res.body.expireTimestamp).to.equal((token.issueTs + token.expire) * 1000);
          expect(token.services.map((s) => s.type)).to.deep.equal([SERVICE_RTC, SERVICE_CHAT]);
          const rtc = token.services.find((s) => s.type === SERVICE_RTC)!;
          expect(rtc.channelName).to.equal('room-1');
          expect(rtc.uid).to.equal(agoraUid);
          const expected = publisher
            ? [RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_VIDEO, RTC_PUBLISH_DATA]
            : [RTC_JOIN_CHANNEL];
          expect(Object.keys(rtc.privileges).map(Number).sort()).to.deep.equal(expected);
          for (const lifetime of Object.values(rtc.privileges)) expect(lifetime).to.equal(86_400);
          expect(chatService(token)?.userId).to.equal(chatUserName);
          expect(Object.keys(chatService(token)!.privileges).map(Number)).to.deep.equal([CHAT_PRIVILEGE_USER]);
        }

        const subscriberByDefault = await api.token('channelName=room-2', accessToken);
        expect(subscriberByDefault.status).to.equal(200);
        const rtc = decodeAccessToken2(subscriberByDefault.body.accessToken, TEST_AGORA.appCertificate).services.find((s) => s.type === SERVICE_RTC)!;
        expect(Object.keys(rtc.privileges).map(Number)).to.deep.equal([RTC_JOIN_CHANNEL]);

        const renewed = await api.renew(accessToken);
        expect(renewed.status, renewed.text).to.equal(200);
        expect(Object.keys(renewed.body).sort()).to.deep.equal(['accessToken', 'chatUserName', 'code', 'expireTimestamp']);
        const fresh = decodeAccessToken2(renewed.body.accessToken, TEST_AGORA.appCertificate);
        expect(fresh.signatureValid).to.equal(true);
        expect(chatService(fresh)?.userId).to.equal(chatUserName);
        expect(renewed.body.expireTimestamp).to.equal((fresh.issueTs + fresh.expire) * 1000);
        // The renewed token is a bearer like the first one.
        expect((await api.token('channelName=room-3', renewed.body.accessToken)).body.agoraUid).to.equal(agoraUid);

        const again = await api.login('JACK', PASSWORD);
        expect(again.body.agoraUid).to.equal(agoraUid);
        expect(again.body.chatUserName).to.equal(chatUserName);

        // Nothing secret in the logs: no password, no token, no Authorization header.
        const logs = server.logs.text;
        expect(logs).to.include('"path":"/app/user/login"');
        for (const secret of [PASSWORD, accessToken, renewed.body.accessToken, 'Bearer ']) expect(logs).to.not.include(secret);
      });

      it('treats accounts case-insensitively: a second registration is 409 account_exists', async () => {
        expect((await api.register('Marta', PASSWORD)).status).to.equal(200);
        expectError(await api.register('marta', 'another password'), 409, 'account_exists');
      });

      it('prepares accounts (RFC 8265 model): fullwidth ｓａｍ is sam, on register, login and /token alike', async () => {
        const chatUsers = emulator.users.size;
        expect((await api.register('sam', PASSWORD)).status).to.equal(200);
        expectError(await api.register('ｓａｍ', 'another password'), 409, 'account_exists');
        expectError(await api.register('ＳＡＭ', 'another password'), 409, 'account_exists');
        const login = await api.login('ｓａｍ', PASSWORD);
        expect(login.status, login.text).to.equal(200);
        expect(login.body.chatUserName).to.equal('sam');
        expect((await api.token('channelName=c&userAccount=%EF%BD%93%EF%BD%81%EF%BD%8D', login.body.accessToken as string)).status).to.equal(200);
        expect(emulator.users.size).to.equal(chatUsers + 1);
        // Different scripts stay different accounts: Cyrillic а (U+0430) is not Latin a.
        expect((await api.register('s\u0430m', PASSWORD)).status).to.equal(200);
      });

      it('refuses invisible, private-use and compatibility characters in userAccount with a 400 naming the field, storing nothing', async () => {
        const chatUsers = emulator.users.size;
        for (const [account, codePoint] of [['fuzz\u200Buser', 'U+200B'], ['fuzz\u202Euser', 'U+202E'], ['fuzz\uE000', 'U+E000'], ['𝐟𝐮𝐳𝐳', 'U+1D41F']]) {
          for (const res of [await api.register(account, PASSWORD), await api.login(account, PASSWORD)]) {
            expectError(res, 400, 'invalid_request');
            expect(res.body.message).to.match(/^userAccount must not contain /).and.include(codePoint);
          }
        }
        expectError(await api.login('fuzzuser', PASSWORD), 401, 'invalid_credentials');
        expect(emulator.users.size).to.equal(chatUsers);
      });

      it('answers 401 invalid_credentials alike for a wrong password and an unknown account', async () => {
        await registerAndLogin('wrong-pw');
        const wrong = await api.login('wrong-pw', 'not the password');
        const unknown = await api.login('nobody-here', PASSWORD);
        expectError(wrong, 401, 'invalid_credentials');
        expectError(unknown, 401, 'invalid_credentials');
        expect(wrong.body).to.deep.equal(unknown.body);
      });

      it('accepts userAccount on /token when it names the bearer (any case) and answers 403 otherwise', async () => {
        const owner = await registerAndLogin('owner');
        await registerAndLogin('stranger');
        expect((await api.token('channelName=c&userAccount=OWNER', owner.accessToken)).status).to.equal(200);
        expectError(await api.token('channelName=c&userAccount=stranger', owner.accessToken), 403, 'forbidden');
      });

      it('echoes a plain X-Request-Id and replaces an unsafe one', async () => {
        const kept = await api.request('GET', '/healthz', { headers: { 'X-Request-Id': 'trace-42.a' } });
        expect(kept.headers['x-request-id']).to.equal('trace-42.a');
        const replaced = await api.request('GET', '/healthz', { headers: { 'X-Request-Id': 'bad id <script>' } });
        expect(replaced.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
      });
    });

    describe('bad requests', () => {
      let bearer: string;
      let expired: string;
      let foreign: string;
      let ghost: string;

      before(async () => {
        bearer = (await registerAndLogin('table-user')).accessToken;
        const past = { now: () => Date.now() - 2 * 3600_000 };
        expired = (await new AgoraTokenIssuer({ ...TEST_AGORA, lifetimeSeconds: 60, clock: past })
          .issueChatToken({ chatUsername: 'table-user', chatUuid: null })).token;
        foreign = (await new AgoraTokenIssuer({ appId: TEST_AGORA.appId, appCertificate: 'a'.repeat(32) })
          .issueChatToken({ chatUsername: 'table-user', chatUuid: null })).token;
        ghost = (await new AgoraTokenIssuer(TEST_AGORA).issueChatToken({ chatUsername: 'ghost', chatUuid: null })).token;
      });

      interface Case {
        name: string;
        method: string;
        path: string;
        headers?: Record<string, string>;
        body?: unknown;
        auth?: 'valid' | 'expired' | 'foreign' | 'ghost';
        status: number;
        error: string;
        /** Text the message must contain (the field at fault). */
        mentions?: string;
      }
      const json = { 'Content-Type': 'application/json' };
      const reg = (body: unknown, extra: Partial<Case> = {}): Omit<Case, 'name'> =>
        ({ method: 'POST', path: '/app/user/register', headers: json, body, status: 400, error: 'invalid_request', ...extra });
      const login = (body: unknown, extra: Partial<Case> = {}): Omit<Case, 'name'> =>
        ({ method: 'POST', path: '/app/user/login', headers: json, body, status: 400, error: 'invalid_request', ...extra });
      const token = (query: string, extra: Partial<Case> = {}): Omit<Case, 'name'> =>
        ({ method: 'GET', path: `/token?${query}`, auth: 'valid', status: 400, error: 'invalid_request', ...extra });
      const ok = { userAccount: 'newcomer', userPassword: PASSWORD };

      const cases: Record<string, Omit<Case, 'name'>> = {
        'register: malformed JSON': reg('{"userAccount": "x",'),
        'register: JSON array': reg('[]'),
        'register: JSON string': reg('"newcomer"'),
        'register: JSON null': reg('null'),
        'register: JSON number': reg('42'),
        'register: empty body': reg(''),
        'register: whitespace body': reg('   '),
        'register: missing userAccount': reg({ userPassword: PASSWORD }, { mentions: 'userAccount' }),
        'register: missing userPassword': reg({ userAccount: 'newcomer' }, { mentions: 'userPassword' }),
        'register: userAccount is a number': reg({ ...ok, userAccount: 42 }, { mentions: 'userAccount' }),
        'register: userAccount is null': reg({ ...ok, userAccount: null }, { mentions: 'userAccount' }),
        'register: userAccount is an array': reg({ ...ok, userAccount: ['newcomer'] }, { mentions: 'userAccount' }),
        'register: userAccount is an object': reg({ ...ok, userAccount: { name: 'newcomer' } }, { mentions: 'userAccount' }),
        'register: userPassword is a number': reg({ ...ok, userPassword: 12345678 }, { mentions: 'userPassword' }),
        'register: userPassword is a boolean': reg({ ...ok, userPassword: true }, { mentions: 'userPassword' }),
        'register: empty userAccount': reg({ ...ok, userAccount: '' }, { mentions: 'userAccount' }),
        'register: 65-character userAccount': reg({ ...ok, userAccount: 'a'.repeat(65) }, { mentions: 'userAccount' }),
        'register: huge userAccount (10 000 characters)': reg({ ...ok, userAccount: 'a'.repeat(10_000) }, { mentions: 'userAccount' }),
        'register: NUL in userAccount': reg({ ...ok, userAccount: 'new\u0000comer' }, { mentions: 'userAccount' }),
        'register: newline in userAccount': reg({ ...ok, userAccount: 'new\ncomer' }, { mentions: 'userAccount' }),
        'register: DEL in userAccount': reg({ ...ok, userAccount: 'new\u007fcomer' }, { mentions: 'userAccount' }),
        'register: leading space in userAccount': reg({ ...ok, userAccount: ' newcomer' }, { mentions: 'userAccount' }),
        'register: short userPassword': reg({ ...ok, userPassword: 'short' }, { mentions: 'userPassword' }),
        'register: empty userPassword': reg({ ...ok, userPassword: '' }, { mentions: 'userPassword' }),
        'register: 1025-byte userPassword': reg({ ...ok, userPassword: 'x'.repeat(1025) }, { mentions: 'userPassword' }),
        'register: body over 16 KiB': reg({ ...ok, padding: 'x'.repeat(20_000) }, { status: 413, error: 'payload_too_large' }),
        'register: text/plain': reg(JSON.stringify(ok), { headers: { 'Content-Type': 'text/plain' }, status: 415, error: 'unsupported_media_type' }),
        'register: no Content-Type, malformed JSON': reg('{"userAccount": "x",', { headers: {} }),
        'register: application/jsonx': reg(JSON.stringify(ok), { headers: { 'Content-Type': 'application/jsonx' }, status: 415, error: 'unsupported_media_type' }),
        'register: JSON in UTF-16': reg(JSON.stringify(ok), {
          headers: { 'Content-Type': 'Application/JSON; Charset=UTF-16' }, status: 415, error: 'unsupported_media_type',
        }),
        'register: form-encoded': reg('userAccount=newcomer&userPassword=x', {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, status: 415, error: 'unsupported_media_type',
        }),
        'register: JSON in latin1': reg(JSON.stringify(ok), {
          headers: { 'Content-Type': 'application/json; charset=iso-8859-1' }, status: 415, error: 'unsupported_media_type',
        }),
        'register: gzip-encoded body': reg(JSON.stringify(ok), {
          headers: { ...json, 'Content-Encoding': 'gzip' }, status: 415, error: 'unsupported_media_type',
        }),
        'register: invalid UTF-8': reg(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
        'register: GET': { method: 'GET', path: '/app/user/register', status: 405, error: 'method_not_allowed' },
        'login: malformed JSON': login('{userAccount: newcomer}'),
        'login: JSON array': login('[{"userAccount":"a","userPassword":"b"}]'),
        'login: userPassword is a number': login({ userAccount: 'newcomer', userPassword: 1 }, { mentions: 'userPassword' }),
        'login: userAccount too long': login({ userAccount: 'b'.repeat(100), userPassword: PASSWORD }, { mentions: 'userAccount' }),
        'login: control character in userAccount': login({ userAccount: 'a\u0007b', userPassword: PASSWORD }, { mentions: 'userAccount' }),
        'login: text/plain': login(JSON.stringify(ok), { headers: { 'Content-Type': 'text/plain' }, status: 415, error: 'unsupported_media_type' }),
        'login: PUT': { method: 'PUT', path: '/app/user/login', headers: json, body: ok, status: 405, error: 'method_not_allowed' },
        'token: no channelName': token('publisherRole=true', { mentions: 'channelName' }),
        'token: empty channelName': token('channelName=', { mentions: 'channelName' }),
        'token: 64-character channelName': token(`channelName=${'c'.repeat(64)}`, { mentions: 'channelName' }),
        'token: channelName with a slash': token('channelName=a%2Fb', { mentions: 'channelName' }),
        'token: non-ASCII channelName': token('channelName=caf%C3%A9', { mentions: 'channelName' }),
        'token: NUL in channelName': token('channelName=a%00b', { mentions: 'channelName' }),
        'token: publisherRole=yes': token('channelName=c&publisherRole=yes', { mentions: 'publisherRole' }),
        'token: publisherRole=1': token('channelName=c&publisherRole=1', { mentions: 'publisherRole' }),
        'token: duplicate channelName': token('channelName=a&channelName=b', { mentions: 'channelName' }),
        'token: duplicate publisherRole': token('channelName=a&publisherRole=true&publisherRole=false', { mentions: 'publisherRole' }),
        'token: bad percent-encoding': token('channelName=%zz', { mentions: 'channelName' }),
        'token: truncated UTF-8 escape': token('channelName=%E0%A4%A', { mentions: 'channelName' }),
        'token: invalid userAccount': token('channelName=c&userAccount=a%01b', { mentions: 'userAccount' }),
        'token: no bearer': token('channelName=c', { auth: undefined, status: 401, error: 'unauthenticated' }),
        'token: garbled bearer': token('channelName=c', { auth: undefined, headers: { Authorization: 'Bearer not-a-token' }, status: 401, error: 'unauthenticated' }),
        'token: Basic scheme': token('channelName=c', { auth: undefined, headers: { Authorization: 'Basic dXNlcjpwYXNz' }, status: 401, error: 'unauthenticated' }),
        'token: empty bearer': token('channelName=c', { auth: undefined, headers: { Authorization: 'Bearer ' }, status: 401, error: 'unauthenticated' }),
        'token: expired bearer': token('channelName=c', { auth: 'expired', status: 401, error: 'unauthenticated' }),
        'token: bearer signed with another certificate': token('channelName=c', { auth: 'foreign', status: 401, error: 'unauthenticated' }),
        'token: bearer naming no user': token('channelName=c', { auth: 'ghost', status: 401, error: 'unauthenticated' }),
        'token: POST': { method: 'POST', path: '/token?channelName=c', status: 405, error: 'method_not_allowed' },
        'renew: no bearer': { method: 'POST', path: '/app/user/token/renew', status: 401, error: 'unauthenticated' },
        'renew: garbled bearer': { method: 'POST', path: '/app/user/token/renew', headers: { Authorization: 'Bearer 007!!' }, status: 401, error: 'unauthenticated' },
        'renew: expired bearer': { method: 'POST', path: '/app/user/token/renew', auth: 'expired', status: 401, error: 'unauthenticated' },
        'renew: bearer signed with another certificate': { method: 'POST', path: '/app/user/token/renew', auth: 'foreign', status: 401, error: 'unauthenticated' },
        'renew: GET': { method: 'GET', path: '/app/user/token/renew', auth: 'valid', status: 405, error: 'method_not_allowed' },
        'unknown path': { method: 'GET', path: '/app/user/delete', status: 404, error: 'not_found' },
        'bad percent-encoding in the path': { method: 'GET', path: '/app/%zz', status: 404, error: 'not_found' },
      };

      const userCount = async () => Number(((await server.knex('users').count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n);

      // One test per request, so a failure names the request; each checks that nothing was stored.
      for (const [name, c] of Object.entries(cases)) {
        it(`${name}: ${c.status} ${c.error}, nothing stored`, async () => {
          const usersBefore = await userCount();
          const chatUsersBefore = emulator.users.size;
          const logsBefore = server.logs.text.length;
          const headers: Record<string, string> = { ...c.headers };
          const auth = { valid: bearer, expired, foreign, ghost };
          if (c.auth) headers.Authorization = `Bearer ${auth[c.auth]}`;
          const res = await api.request(c.method, c.path, { headers, ...(c.body === undefined ? {} : { body: c.body }) });
          expectError(res, c.status, c.error);
          if (c.mentions) expect(res.body.message).to.include(c.mentions);
          if (c.status === 401) expect(res.headers['www-authenticate']).to.match(/^Bearer/);
          if (c.status === 405) expect(res.headers.allow).to.be.a('string');
          expect(await userCount(), 'local users').to.equal(usersBefore);
          expect(emulator.users.size, 'chat users').to.equal(chatUsersBefore);
          expect(server.logs.text.slice(logsBefore)).to.not.include('unexpected error');
        });
      }
    });

    describe('races', () => {
      it('lets one of 50 concurrent registrations of one account win; the others get 409', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, () => api.register('racer', PASSWORD)));
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === 200), statuses.join(',')).to.have.length(1);
        expect(statuses.filter((s) => s === 409), statuses.join(',')).to.have.length(49);
        for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'account_exists');
        expect(emulator.users.list().filter((u) => u.username === 'racer')).to.have.length(1);
        expect((await api.login('racer', PASSWORD)).status).to.equal(200);
      });
    });

    describe('the chat service failing during registration', () => {
      const tries = FAST_PROVISIONER.retries + 1;
      const faults: Record<string, (e: AgoraEmulator) => void> = {
        '503 answers': (e) => e.faults.failNext(tries, { status: 503 }),
        '429 answers': (e) => e.faults.failNext(tries, { status: 429, retryAfter: 1 }),
        'dropped connections': (e) => e.faults.dropNext(tries),
        'a hanging service': (e) => e.faults.delayNext(tries, 2500),
        'a proxy page naming an internal address': (e) => e.faults.failNext(tries, { status: 502, body: 'Bad Gateway: upstream 10.20.30.40:8080 refused' }),
      };
      // What must never reach a client: addresses, error codes, timeouts, upstream bodies.
      const UPSTREAM_DETAIL = /\d+\.\d+\.\d+\.\d+|ECONN|ETIMEDOUT|awaiting|timeout|HTTP \d|upstream|gateway/i;
      let n = 0;
      for (const [name, inject] of Object.entries(faults)) {
        it(`answers 503 with Retry-After on ${name}, leaves no active user, and succeeds once the service recovers`, async () => {
          const account = `faulty-${++n}`;
          inject(emulator);
          const started = Date.now();
          const res = await api.register(account, PASSWORD);
          const elapsed = Date.now() - started;
          expectError(res, 503, 'chat_service_unavailable');
          expect(res.body.message).to.match(/^The chat service .*; try again later\.$/).and.not.match(UPSTREAM_DETAIL);
          expect(Number(res.headers['retry-after'])).to.be.at.least(1);
          expect(elapsed, 'answered within the provisioner deadline').to.be.below(FAST_PROVISIONER.deadlineMs + 1000);
          const row = await server.users.findByAccountKey(accountKeyOf(account));
          expect(row?.status ?? 'none').to.not.equal('active');
          expectError(await api.login(account, 'wrong password!'), 401, 'invalid_credentials');

          emulator.faults.clear();
          const retried = await api.register(account, PASSWORD);
          expect(retried.status, retried.text).to.equal(200);
          const login = await api.login(account, PASSWORD);
          expect(login.status).to.equal(200);
          expect(emulator.users.list().filter((u) => u.username === login.body.chatUserName)).to.have.length(1);
          expect((await server.users.findByAccountKey(accountKeyOf(account)))?.status).to.equal('active');
        });
      }

      it('tells the client a fixed sentence when the chat service is unreachable, and the log the details under the request id', async () => {
        const unreachable = await startTestServer(dialect, emulator, { env: { AGORA_REST_API_URL: 'http://127.0.0.1:1' } });
        try {
          const res = await client(unreachable.url).register('unreachable', PASSWORD);
          expectError(res, 503, 'chat_service_unavailable');
          expect(res.body.message).to.equal('The chat service could not be reached; try again later.');
          const requestId = String(res.headers['x-request-id']);
          const logged = unreachable.logs.lines.filter((line) => line.includes(requestId)).join('');
          expect(logged).to.include('ECONNREFUSED').and.include('127.0.0.1:1');
        } finally {
          await unreachable.stop();
        }
      });

      it('adopts the chat user when the creation succeeded but its answer was lost', async () => {
        emulator.faults.createThenDropNext(1);
        const res = await api.register('lost-answer', PASSWORD);
        expect(res.status, res.text).to.equal(200);
        const login = await api.login('lost-answer', PASSWORD);
        expect(emulator.users.list().filter((u) => u.username === login.body.chatUserName)).to.have.length(1);
      });
    });

    describe('login throttling', () => {
      let throttled: TestServer;
      let t: ReturnType<typeof client>;
      const from = (address: string) => ({ headers: { 'X-Forwarded-For': address } });

      before(async () => {
        throttled = await startTestServer(dialect, emulator, {
          env: { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '5', LOGIN_FAILURE_WINDOW_SECONDS: '2', TRUST_PROXY: 'true' },
        });
        t = client(throttled.url);
        for (const account of ['victim', 'cleared', 'bystander']) expect((await t.register(account, PASSWORD)).status).to.equal(200);
      });
      after(async () => throttled?.stop());

      it('blocks an account after too many failures across addresses with 429 and Retry-After, then lets it in after the window', async () => {
        for (let i = 1; i <= 5; i++) expectError(await t.login('victim', 'wrong password', from(`10.0.0.${i}`)), 401, 'invalid_credentials');
        const blocked = await t.login('victim', PASSWORD, from('10.0.0.9'));
        expectError(blocked, 429, 'too_many_attempts');
        expect(Number(blocked.headers['retry-after'])).to.be.within(1, 2);
        await sleep(2100);
        expect((await t.login('victim', PASSWORD, from('10.0.0.9'))).status).to.equal(200);
      });

      it('forgets the failures of an address at an account after a successful login from it', async () => {
        for (let i = 1; i <= 2; i++) await t.login('cleared', 'wrong password', from('10.1.0.1'));
        expect((await t.login('cleared', PASSWORD, from('10.1.0.1'))).status).to.equal(200);
        for (let i = 1; i <= 2; i++) expectError(await t.login('cleared', 'wrong password', from('10.1.0.1')), 401, 'invalid_credentials');
        expect((await t.login('cleared', PASSWORD, from('10.1.0.1'))).status).to.equal(200);
      });

      it('blocks a client address that guesses across accounts, not other addresses', async () => {
        for (let i = 1; i <= 5; i++) await t.login(`unknown-${i}`, 'wrong password', from('10.2.0.1'));
        expectError(await t.login('bystander', PASSWORD, from('10.2.0.1')), 429, 'too_many_attempts');
        expect((await t.login('bystander', PASSWORD, from('10.2.0.2'))).status).to.equal(200);
      });
    });

    describe('health and readiness', () => {
      it('is live and ready, and not ready once the database is gone (still live)', async () => {
        const own = await startTestServer(dialect, emulator);
        try {
          const c = client(own.url);
          expect((await c.request('GET', '/healthz')).body).to.deep.equal({ code: 200, status: 'ok' });
          expect((await c.request('GET', '/readyz')).body).to.deep.equal({
            code: 200, status: 'ready', checks: { database: 'ok', chatService: 'ok' },
          });
          await own.knex.destroy();
          const notReady = await c.request('GET', '/readyz');
          expectError(notReady, 503, 'not_ready');
          expect(notReady.headers['retry-after']).to.equal('5');
          expect((await c.request('GET', '/healthz')).status).to.equal(200);
        } finally {
          await own.stop();
        }
      });
    });
  });
}
