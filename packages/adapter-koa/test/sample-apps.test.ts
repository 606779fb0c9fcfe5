import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import {
  CHAT_PRIVILEGE_USER, decodeAccessToken2, RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_DATA, RTC_PUBLISH_VIDEO,
  SERVICE_CHAT, SERVICE_RTC,
} from './support/access-token2.js';
import { DIALECTS, requirePostgres, startTestEmulator, startTestServer, TEST_AGORA, type TestServer } from './support/harness.js';
import { request } from './support/http.js';
import { android, iosObjc, iosSwift, reactNative, type SdkLogin } from './support/sample-apps.js';

const MODES = ['bearer', 'legacy'] as const;

/** The token is ours and lets the chat SDK log in as `username`. */
function expectChatLogin(login: SdkLogin | object): SdkLogin {
  expect(login, JSON.stringify(login)).to.have.property('token');
  const { username, token } = login as SdkLogin;
  const decoded = decodeAccessToken2(token, TEST_AGORA.appCertificate);
  expect(decoded.signatureValid).to.equal(true);
  const chat = decoded.services.find((s) => s.type === SERVICE_CHAT);
  expect(chat?.userId, 'the token names the user the app logs in as').to.equal(username);
  expect(Object.keys(chat!.privileges).map(Number)).to.deep.equal([CHAT_PRIVILEGE_USER]);
  return login as SdkLogin;
}

function expectRtcToken(token: unknown, channelName: string, agoraUid: number): void {
  expect(token).to.be.a('string');
  const decoded = decodeAccessToken2(token as string, TEST_AGORA.appCertificate);
  expect(decoded.signatureValid).to.equal(true);
  const rtc = decoded.services.find((s) => s.type === SERVICE_RTC)!;
  expect(rtc.channelName).to.equal(channelName);
  expect(rtc.uid).to.equal(String(agoraUid));
  expect(Object.keys(rtc.privileges).map(Number).sort()).to.deep.equal([RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_VIDEO, RTC_PUBLISH_DATA]);
}

for (const dialect of DIALECTS) {
  for (const mode of MODES) {
    describe(`Agora's sample apps against the Java demo profile on ${dialect}, TOKEN_AUTH=${mode}`, function () {
      let emulator: AgoraEmulator;
      let server: TestServer;
      let base: string;

      before(async function () {
        if (dialect === 'postgres') await requirePostgres(this);
        emulator = await startTestEmulator();
        server = await startTestServer(dialect, emulator, { env: { TOKEN_AUTH: mode } });
        base = server.url;
      });

      after(async () => {
        await server?.stop();
        await emulator?.close();
      });

      it('Android quick start: signs up, is told about a duplicate, signs in and renews with the typed name', async () => {
        expect(await android.signUp(base, 'android-user', 'Password-1')).to.deep.equal({ ok: true });
        const duplicate = await android.signUp(base, 'android-user', 'Password-1');
        expect(duplicate.ok).to.equal(false);
        const shown = JSON.parse((duplicate as { shown: string }).shown);
        expect(shown).to.deep.equal({ code: 'RES_USER_ALREADY_EXISTS', statusCode: 400, errorInfo: shown.errorInfo });
        expect(shown.errorInfo).to.be.a('string').and.not.equal('');

        const first = expectChatLogin(await android.signIn(base, 'android-user', 'Password-1'));
        expect(first.username).to.equal('android-user');
        const renewed = expectChatLogin(await android.signIn(base, 'android-user', 'Password-1'));
        expect(renewed.token).to.be.a('string');
        expect(await android.signIn(base, 'android-user', 'wrong-password')).to.have.property('failed').that.includes('code: 401');
      });

      it('iOS Objective-C: signs up without crashing on `code`, reports a duplicate, logs in with chatUserName and renews', async () => {
        expect(await iosObjc.register(base, 'IosUser', 'Secret-pass')).to.deep.equal({ ok: true });
        expect(await iosObjc.register(base, 'IosUser', 'Secret-pass')).to.deep.equal({ ok: false, shown: 'login.signup.fail' });
        const login = expectChatLogin(await iosObjc.login(base, 'IosUser', 'Secret-pass'));
        expect(login.username).to.equal('iosuser');
        // The renewal callback logs in again with the same lower-cased credentials.
        expectChatLogin(await iosObjc.login(base, 'IosUser', 'Secret-pass'));
        expect(await iosObjc.login(base, 'IosUser', 'other-pass')).to.deep.equal({ failed: 'parseing token fail !' });
      });

      it('iOS Swift: registers then logs in, shows errorInfo for a failed login, logs in with chatUserName', async () => {
        const registered = expectChatLogin(await iosSwift.register(base, 'SwiftUser', 'Secret-Pass'));
        expect(registered.username).to.equal('swiftuser');
        // Registering again with the right password ends in a login all the same.
        expectChatLogin(await iosSwift.register(base, 'SwiftUser', 'Secret-Pass'));
        const wrong = await iosSwift.register(base, 'SwiftUser', 'not-the-pass');
        expect(wrong).to.have.property('shown').that.is.a('string').and.not.equal('');
        expectChatLogin(await iosSwift.login(base, 'SwiftUser', 'Secret-Pass'));
      });

      it('React Native: registers, gets a chat token, RTC tokens from both paths and the channel mapper', async () => {
        expect(await reactNative.registerAccount(base, 'rn-user', 'Password-1')).to.deep.equal({ data: {} });
        expect(await reactNative.registerAccount(base, 'rn-user', 'Password-1')).to.deep.equal({ error: { code: 'RES_USER_ALREADY_EXISTS' } });
        const account = await reactNative.getAccountToken(base, 'rn-user', 'Password-1');
        expect(account).to.have.nested.property('data.token').that.is.a('string');
        const accessToken = (account as { data: { token: string } }).data.token;
        const agoraUid = Number((await request(base, 'POST', '/app/chat/user/login', { body: { userAccount: 'rn-user', userPassword: 'Password-1' } })).body.agoraUid);

        const channelId = `rn-room-${mode}`;
        for (const rtcTokenUrl of ['/token/rtc/channel', '/app/chat/token/rtc/channel']) {
          const rtc = await reactNative.getRtcToken(base, { rtcTokenUrl, accessToken, userAccount: 'rn-user', channelId, appKey: emulator.appKey, userChannelId: agoraUid });
          expect(rtc, JSON.stringify(rtc)).to.have.property('data');
          expect((rtc as { data: { uid: unknown } }).data.uid).to.equal(agoraUid);
          expectRtcToken((rtc as { data: { token: unknown } }).data.token, channelId, agoraUid);
        }
        for (const mapUrl of ['/agora/channel/mapper', '/app/chat/agora/channel/mapper']) {
          const map = await reactNative.getRtcMap(base, { mapUrl, accessToken, userAccount: 'rn-user', channelId, appKey: emulator.appKey });
          expect(map).to.deep.equal({ data: { result: { [String(agoraUid)]: 'rn-user' } } });
        }

        const otherUid = agoraUid === 1 ? 2 : agoraUid - 1;
        const foreign = await reactNative.getRtcToken(base, {
          rtcTokenUrl: '/token/rtc/channel', accessToken, userAccount: 'rn-user', channelId, appKey: emulator.appKey, userChannelId: otherUid,
        });
        if (mode === 'bearer') {
          // A uid that is not the caller's would let it pose as someone else in the call.
          expect(foreign).to.deep.equal({ error: { code: 'RES_UNAUTHORIZED_ERROR' } });
        } else {
          // As the Java demo did: the client picks its uid.
          expectRtcToken((foreign as { data: { token: unknown } }).data.token, channelId, otherUid);
        }
      });
    });
  }
}
