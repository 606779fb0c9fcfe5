import { expect } from 'chai';
import agoraToken from 'agora-token';
import { UnauthenticatedError } from '@chat-app-server/core';
import { ManualClock, tokenIssuerContract, type IssuedTokenContents } from '@chat-app-server/core/testing';
import { AgoraTokenIssuer } from '../src/index.js';
import {
  CHAT_PRIVILEGE_USER, RTC_JOIN_CHANNEL, RTC_PUBLISH_AUDIO, RTC_PUBLISH_DATA, RTC_PUBLISH_VIDEO, SERVICE_CHAT, SERVICE_RTC,
  decodeToken, encodeToken, hasValidSignature,
} from '../src/testing/access-token-codec.js';
import { APP_CERT, APP_ID, OTHER_APP_ID, OTHER_CERT, tokenBomb } from './support.js';

const { ChatTokenBuilder } = agoraToken;

tokenIssuerContract('AgoraTokenIssuer', async ({ clock, lifetimeSeconds, subjectKind }) => ({
  issuer: new AgoraTokenIssuer({ appId: APP_ID, appCertificate: APP_CERT, clock, lifetimeSeconds, subjectKind }),
  foreignIssuer: new AgoraTokenIssuer({ appId: APP_ID, appCertificate: OTHER_CERT, clock, lifetimeSeconds, subjectKind }),
  read: readWithCodec,
}));

// The kit's probe: what a token grants, read by the independent codec (never by agora-token).
function readWithCodec(token: string): IssuedTokenContents {
  if (!hasValidSignature(token, APP_CERT)) throw new Error('the token is not signed with the App Certificate');
  const { appId, issueTs, expire, services } = decodeToken(token);
  if (appId !== APP_ID) throw new Error(`the token names App ID ${appId}`);
  const endOf = (seconds: number | undefined): number => {
    if (seconds === undefined) throw new Error('a privilege the token should carry is missing');
    return (issueTs + Math.min(expire, seconds)) * 1000;
  };
  const chat = services.find((s) => s.type === SERVICE_CHAT);
  const rtc = services.find((s) => s.type === SERVICE_RTC);
  if (!chat || services.length !== (rtc ? 2 : 1)) throw new Error(`unexpected services ${services.map((s) => s.type).join(',')}`);
  expect(Object.keys(chat.privileges).map(Number), 'chat privileges').to.deep.equal([CHAT_PRIVILEGE_USER]);
  if (!rtc) return { subject: chat.userId ?? '', chatExpiresAt: endOf(chat.privileges[CHAT_PRIVILEGE_USER]), rtc: undefined };
  const publishing = [RTC_PUBLISH_AUDIO, RTC_PUBLISH_VIDEO, RTC_PUBLISH_DATA].filter((p) => rtc.privileges[p] !== undefined);
  if (publishing.length !== 0 && publishing.length !== 3) throw new Error(`partial publish privileges ${publishing.join(',')}`);
  const ends = new Set(Object.values(rtc.privileges));
  if (ends.size !== 1) throw new Error('the RTC privileges end at different times');
  return {
    subject: chat.userId ?? '',
    chatExpiresAt: endOf(chat.privileges[CHAT_PRIVILEGE_USER]),
    rtc: { channelName: rtc.channelName ?? '', uid: Number(rtc.uid), publisher: publishing.length === 3, expiresAt: endOf(rtc.privileges[RTC_JOIN_CHANNEL]) },
  };
}

describe('AgoraTokenIssuer', function () {
  const NOW = Date.UTC(2026, 5, 1, 8, 30, 0) + 456;
  const NOW_S = Math.floor(NOW / 1000);
  const LIFETIME = 7200;
  const jack = { chatUsername: 'jack', chatUuid: '0f0e0d0c-0000-4000-8000-0000000000aa' };
  let clock: ManualClock;
  let issuer: AgoraTokenIssuer;

  beforeEach(function () {
    clock = new ManualClock(NOW);
    issuer = new AgoraTokenIssuer({ appId: APP_ID, appCertificate: APP_CERT, clock, lifetimeSeconds: LIFETIME });
  });

  describe('issued tokens, read by an independent decoder', function () {
    it('a chat user token: our App ID, whole-second issue time, Chat service with the user privilege', async function () {
      const { token, expireTimestamp } = await issuer.issueChatToken(jack);
      const decoded = decodeToken(token);
      expect(hasValidSignature(token, APP_CERT)).to.equal(true);
      expect(hasValidSignature(token, OTHER_CERT)).to.equal(false);
      expect(decoded).to.include({ appId: APP_ID, issueTs: NOW_S, expire: LIFETIME });
      expect(decoded.salt).to.be.within(1, 99_999_999);
      expect(decoded.services).to.deep.equal([{ type: 5, privileges: { 1: LIFETIME }, userId: 'jack' }]);
      expect(expireTimestamp).to.equal((NOW_S + LIFETIME) * 1000);
    });

    it('names the chat uuid when configured to', async function () {
      const byUuid = new AgoraTokenIssuer({ appId: APP_ID, appCertificate: APP_CERT, clock, subjectKind: 'uuid' });
      const { token, expireTimestamp } = await byUuid.issueChatToken(jack);
      const decoded = decodeToken(token);
      expect(decoded.services[0]).to.include({ type: 5, userId: jack.chatUuid });
      expect(decoded.expire).to.equal(86_400);
      expect(expireTimestamp).to.equal((NOW_S + 86_400) * 1000);
      await expect(byUuid.issueChatToken({ chatUsername: 'jack', chatUuid: null })).to.be.rejectedWith(TypeError, /uuid/);
    });

    it('a publisher chat+RTC token: chat user, channel, numeric uid, join and publish privileges', async function () {
      const { token } = await issuer.issueChatRtcToken(jack, { channelName: 'room-1', agoraUid: 4_000_000_001, publisher: true });
      const decoded = decodeToken(token);
      expect(hasValidSignature(token, APP_CERT)).to.equal(true);
      expect(decoded.services).to.deep.equal([
        { type: 1, privileges: { 1: LIFETIME, 2: LIFETIME, 3: LIFETIME, 4: LIFETIME }, channelName: 'room-1', uid: '4000000001' },
        { type: 5, privileges: { 1: LIFETIME }, userId: 'jack' },
      ]);
    });

    it('a subscriber chat+RTC token may only join', async function () {
      const { token } = await issuer.issueChatRtcToken(jack, { channelName: 'room-1', agoraUid: 42, publisher: false });
      expect(decodeToken(token).services[0]).to.deep.equal({ type: 1, privileges: { 1: LIFETIME }, channelName: 'room-1', uid: '42' });
    });

    it('refuses uids that would be a wildcard or out of range', async function () {
      for (const agoraUid of [0, -1, 2 ** 32, 1.5]) {
        await expect(issuer.issueChatRtcToken(jack, { channelName: 'room', agoraUid, publisher: true })).to.be.rejectedWith(RangeError);
      }
    });
  });

  describe('verification', function () {
    it('accepts a token built by an independent encoder with our credentials', async function () {
      const token = encodeToken(
        { appId: APP_ID, issueTs: NOW_S - 10, expire: 600, salt: 12345, services: [{ type: 5, privileges: { 1: 300 }, userId: 'jill' }] },
        APP_CERT,
      );
      // The user privilege expires before the token: that is the earlier of the two.
      expect(await issuer.verifyChatToken(token)).to.deep.equal({ subject: 'jill', expiresAt: (NOW_S - 10 + 300) * 1000 });
    });

    it('refuses a token whose user privilege has expired although the token has not', async function () {
      const token = encodeToken(
        { appId: APP_ID, issueTs: NOW_S - 100, expire: 600, salt: 7, services: [{ type: 5, privileges: { 1: 50 }, userId: 'jill' }] },
        APP_CERT,
      );
      await expect(issuer.verifyChatToken(token)).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses a token for another App ID, even when signed with our certificate', async function () {
      const other = new AgoraTokenIssuer({ appId: OTHER_APP_ID, appCertificate: APP_CERT, clock });
      await expect(issuer.verifyChatToken((await other.issueChatToken(jack)).token)).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses a tampered token that keeps the original signature', async function () {
      const { token } = await issuer.issueChatToken(jack);
      const decoded = decodeToken(token);
      expect(await issuer.verifyChatToken(token)).to.have.property('subject', 'jack');
      const forged = encodeToken(
        { ...decoded, services: [{ type: 5, privileges: { 1: LIFETIME }, userId: 'admin' }] },
        APP_CERT,
        decoded.signature,
      );
      await expect(issuer.verifyChatToken(forged)).to.be.rejectedWith(UnauthenticatedError);
      const longer = encodeToken({ ...decoded, expire: 86_400 }, APP_CERT, decoded.signature);
      await expect(issuer.verifyChatToken(longer)).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses an app token (REST admin credential) as a chat user token', async function () {
      const appToken = ChatTokenBuilder.buildAppToken(APP_ID, APP_CERT, 3600);
      expect(decodeToken(appToken).services).to.deep.equal([{ type: 5, privileges: { 2: 3600 }, userId: '' }]);
      await expect(issuer.verifyChatToken(appToken)).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses a user token with an empty user id', async function () {
      const token = encodeToken(
        { appId: APP_ID, issueTs: NOW_S, expire: 600, salt: 9, services: [{ type: 5, privileges: { 1: 600 }, userId: '' }] },
        APP_CERT,
      );
      await expect(issuer.verifyChatToken(token)).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses garbage', async function () {
      for (const bad of ['', '006abc', '007', '007!!!!', `007${Buffer.from('not zlib').toString('base64')}`]) {
        await expect(issuer.verifyChatToken(bad)).to.be.rejectedWith(UnauthenticatedError);
      }
    });
  });

  describe('issue time and lifetime', function () {
    const signed = (issueTs: number, expire: number, granted = expire) =>
      encodeToken({ appId: APP_ID, issueTs, expire, salt: 3, services: [{ type: 5, privileges: { 1: granted }, userId: 'jill' }] }, APP_CERT);

    it('accepts an issue time up to a minute ahead (clock skew between instances), refuses one further ahead', async function () {
      expect(await issuer.verifyChatToken(signed(NOW_S + 60, 600))).to.have.property('subject', 'jill');
      for (const issueTs of [NOW_S + 61, NOW_S + 3600, NOW_S + 10 * 365 * 86_400]) {
        await expect(issuer.verifyChatToken(signed(issueTs, 600)), String(issueTs - NOW_S)).to.be.rejectedWith(UnauthenticatedError);
      }
    });

    it('refuses a token or user privilege that lives longer than the configured lifetime', async function () {
      expect(await issuer.verifyChatToken(signed(NOW_S, LIFETIME))).to.have.property('subject', 'jill');
      for (const [expire, granted] of [[2 ** 32 - 1, 2 ** 32 - 1], [LIFETIME + 1, LIFETIME], [LIFETIME, LIFETIME + 1], [86_400, 86_400]]) {
        await expect(issuer.verifyChatToken(signed(NOW_S, expire!, granted)), `${expire}/${granted}`).to.be.rejectedWith(UnauthenticatedError);
      }
    });
  });

  describe('bounded parsing', function () {
    // A bomb costs tens of seconds of CPU in an unbounded parser; bounded, it is refused in microseconds.
    // The timeout is a liveness bound with a margin of a hundred times, not a speed target.
    const BOMB_TIMEOUT_MS = 3000;

    it('refuses token bombs (many services, large inflation) within the length limit, without hanging', async function () {
      this.timeout(BOMB_TIMEOUT_MS);
      const bombs = [tokenBomb(APP_ID), tokenBomb(APP_ID, { padding: 0 }), tokenBomb(APP_ID, { services: 3, padding: 1_400_000 })];
      for (const bomb of bombs) {
        expect(bomb.length).to.be.at.most(2048);
        await expect(issuer.verifyChatToken(bomb)).to.be.rejectedWith(UnauthenticatedError);
      }
    });

    it('refuses a signed token with bytes after its services', async function () {
      const parts = { appId: APP_ID, issueTs: NOW_S, expire: 600, salt: 5, services: [{ type: 5, privileges: { 1: 600 }, userId: 'jill' }] };
      expect(await issuer.verifyChatToken(encodeToken(parts, APP_CERT))).to.have.property('subject', 'jill');
      await expect(issuer.verifyChatToken(encodeToken(parts, APP_CERT, undefined, Buffer.from([0])))).to.be.rejectedWith(UnauthenticatedError);
    });

    it('refuses a signed token that inflates far beyond any token this server issues', async function () {
      const token = encodeToken(
        { appId: APP_ID, issueTs: NOW_S, expire: 600, salt: 5, services: [{ type: 5, privileges: { 1: 600 }, userId: 'j'.repeat(1200) }] },
        APP_CERT,
      );
      expect(token.length).to.be.below(2048);
      await expect(issuer.verifyChatToken(token)).to.be.rejectedWith(UnauthenticatedError);
    });
  });

  describe('configuration', function () {
    it('explains malformed credentials without echoing them', function () {
      expect(() => new AgoraTokenIssuer({ appId: 'abc', appCertificate: APP_CERT })).to.throw(TypeError, /App ID must be 32 hex/);
      const err = (() => {
        try {
          new AgoraTokenIssuer({ appId: APP_ID, appCertificate: `${APP_CERT}x` });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message).to.match(/App Certificate must be 32 hex/).and.not.include(APP_CERT);
    });

    it('refuses lifetimes outside 1..86400 seconds', function () {
      for (const lifetimeSeconds of [0, 86_401, 1.5, -5]) {
        expect(() => new AgoraTokenIssuer({ appId: APP_ID, appCertificate: APP_CERT, lifetimeSeconds })).to.throw(RangeError);
      }
    });
  });
});
