import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../errors.js';
import type { Clock } from '../ports/clock.js';
import { checkedIssueSecond, type ChatSubject, type IssueOptions, type IssuedToken, type RtcGrant, type TokenIssuer, type VerifiedChatToken } from '../ports/token-issuer.js';

interface Claims {
  sub: string;
  iat: number;
  exp: number;
  rtc?: RtcGrant;
}

/** An HMAC-signed token issuer for core unit tests (not AccessToken2: that is adapter-agora's job). */
export class FakeTokenIssuer implements TokenIssuer {
  readonly subjectKind: 'username' | 'uuid';
  private readonly secret: string;
  private readonly lifetimeSeconds: number;

  constructor(private readonly clock: Clock, options: { secret?: string; lifetimeSeconds?: number; subjectKind?: 'username' | 'uuid' } = {}) {
    this.secret = options.secret ?? 'fake-secret';
    this.lifetimeSeconds = options.lifetimeSeconds ?? 86400;
    this.subjectKind = options.subjectKind ?? 'username';
  }

  async issueChatToken(subject: ChatSubject, options: IssueOptions = {}): Promise<IssuedToken> {
    return this.sign(subject, options.issuedAt);
  }

  async issueChatRtcToken(subject: ChatSubject, grant: RtcGrant, options: IssueOptions = {}): Promise<IssuedToken> {
    return this.sign(subject, options.issuedAt, grant);
  }

  /** The claims of a token this issuer made, for assertions. */
  decode(token: string): Claims {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Claims;
  }

  async verifyChatToken(token: string): Promise<VerifiedChatToken> {
    const [prefix, body, signature] = token.split('.');
    if (prefix !== 'fake' || !body || !signature) throw new UnauthenticatedError();
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthenticatedError();
    const claims = this.decode(token);
    if (claims.exp * 1000 <= this.clock.now()) throw new UnauthenticatedError('The token has expired.');
    return { subject: claims.sub, issuedAt: claims.iat, expiresAt: claims.exp * 1000 };
  }

  private sign(subject: ChatSubject, issuedAt: number | undefined, rtc?: RtcGrant): IssuedToken {
    const sub = this.subjectKind === 'uuid' ? subject.chatUuid ?? '' : subject.chatUsername;
    if (!sub) throw new Error(`no ${this.subjectKind} to put in the token`);
    const iat = checkedIssueSecond(issuedAt, this.clock.now(), this.lifetimeSeconds);
    const claims: Claims = { sub, iat, exp: iat + this.lifetimeSeconds, ...(rtc ? { rtc } : {}) };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `fake.${body}.${this.mac(body)}`, expireTimestamp: claims.exp * 1000 };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

