import { expect } from 'chai';
import { AGORA_UID_MAX } from '../../domain/agora-uid.js';
import type { Clock } from '../../ports/clock.js';
import type { TokenIssuer } from '../../ports/token-issuer.js';
import { ManualClock } from '../manual-clock.js';
import { eachTest, expectCode, type Teardown } from './kit-support.js';

export interface TokenIssuerKitOptions {
  clock: Clock;
  lifetimeSeconds: number;
  subjectKind: 'username' | 'uuid';
}

/** What an issued token grants, as read by a {@link TokenIssuerKitSubject.read} probe. */
export interface IssuedTokenContents {
  /** The chat user the token names. */
  readonly subject: string;
  /** When the chat user privilege ends, ms since epoch. */
  readonly chatExpiresAt: number;
  /** The RTC grant, or `undefined` for a chat-only token. */
  readonly rtc: { readonly channelName: string; readonly uid: number; readonly publisher: boolean; readonly expiresAt: number } | undefined;
}

export interface TokenIssuerKitSubject extends Teardown {
  issuer: TokenIssuer;
  /** The same kind of issuer with other credentials (another secret or certificate). */
  foreignIssuer: TokenIssuer;
  /**
   * A probe: reads a token of `issuer` without asking `issuer` (the adapter's wire format, decoded
   * independently), so the kit checks what tokens grant, not only that they verify.
   */
  read(token: string): IssuedTokenContents;
}

const LIFETIME = 3600;
const alice = { chatUsername: 'alice', chatUuid: '6c2f3d1e-0000-4000-8000-00000000a11c' };

/** The {@link TokenIssuer} contract; the kit moves `options.clock` to check issue times and expiry. */
export function tokenIssuerContract(label: string, factory: (options: TokenIssuerKitOptions) => Promise<TokenIssuerKitSubject>): void {
  for (const subjectKind of ['username', 'uuid'] as const) {
    describe(`TokenIssuer contract (${subjectKind}): ${label}`, function () {
      const clock = new ManualClock();
      const subject = eachTest(() => {
        clock.set(Date.UTC(2026, 0, 1, 12, 0, 0) + 789); // not a whole second: issue times must be
        return factory({ clock, lifetimeSeconds: LIFETIME, subjectKind });
      });
      const issuer = () => subject.get().issuer;
      const expectedSubject = subjectKind === 'uuid' ? alice.chatUuid : alice.chatUsername;
      const issueSecond = () => Math.floor(clock.now() / 1000);

      it(`names the chat ${subjectKind} and verifies its own chat token`, async function () {
        expect(issuer().subjectKind).to.equal(subjectKind);
        const { token, expireTimestamp } = await issuer().issueChatToken(alice);
        expect(expireTimestamp).to.equal((issueSecond() + LIFETIME) * 1000);
        expect(await issuer().verifyChatToken(token)).to.deep.equal({ subject: expectedSubject, expiresAt: expireTimestamp });
      });

      it('accepts its chat+RTC token as a chat token too', async function () {
        for (const publisher of [true, false]) {
          const { token, expireTimestamp } = await issuer().issueChatRtcToken(alice, { channelName: 'room 1', agoraUid: AGORA_UID_MAX, publisher });
          expect(expireTimestamp).to.equal((issueSecond() + LIFETIME) * 1000);
          expect((await issuer().verifyChatToken(token)).subject).to.equal(expectedSubject);
        }
      });

      it('grants a chat token the chat user privilege only, for its lifetime', async function () {
        const { token, expireTimestamp } = await issuer().issueChatToken(alice);
        expect(subject.get().read(token)).to.deep.equal({ subject: expectedSubject, chatExpiresAt: expireTimestamp, rtc: undefined });
      });

      it('grants a chat+RTC token exactly the requested channel, uid and role', async function () {
        const grants = [
          { channelName: 'room 1', agoraUid: AGORA_UID_MAX, publisher: true },
          { channelName: 'other_room', agoraUid: 1, publisher: false },
          { channelName: 'a', agoraUid: 123_456_789, publisher: true },
        ];
        for (const grant of grants) {
          const { token, expireTimestamp } = await issuer().issueChatRtcToken(alice, grant);
          expect(subject.get().read(token), JSON.stringify(grant)).to.deep.equal({
            subject: expectedSubject,
            chatExpiresAt: expireTimestamp,
            rtc: { channelName: grant.channelName, uid: grant.agoraUid, publisher: grant.publisher, expiresAt: expireTimestamp },
          });
        }
      });

      it('accepts a token until just before it expires and refuses it from then on', async function () {
        const { token, expireTimestamp } = await issuer().issueChatToken(alice);
        clock.set(expireTimestamp - 1);
        expect((await issuer().verifyChatToken(token)).subject).to.equal(expectedSubject);
        clock.set(expireTimestamp);
        await expectCode(issuer().verifyChatToken(token), 'unauthenticated');
      });

      it('refuses tokens of other credentials, altered tokens and garbage', async function () {
        const { token } = await subject.get().foreignIssuer.issueChatToken(alice);
        await expectCode(issuer().verifyChatToken(token), 'unauthenticated');
        const own = (await issuer().issueChatToken(alice)).token;
        const middle = Math.floor(own.length / 2);
        const altered = own.slice(0, middle) + (own[middle] === 'A' ? 'B' : 'A') + own.slice(middle + 1);
        for (const bad of [altered, own.slice(0, -4), '', 'x', '007', 'not a token at all', '\u0000'.repeat(10), 'a'.repeat(10_000)]) {
          await expectCode(issuer().verifyChatToken(bad), 'unauthenticated');
        }
      });

      it('issues a different token each time, all valid', async function () {
        const a = await issuer().issueChatToken(alice);
        clock.advance(1000);
        const b = await issuer().issueChatToken(alice);
        expect(a.token).to.not.equal(b.token);
        expect(b.expireTimestamp - a.expireTimestamp).to.equal(1000);
        for (const t of [a, b]) expect((await issuer().verifyChatToken(t.token)).subject).to.equal(expectedSubject);
      });
    });
  }
}
