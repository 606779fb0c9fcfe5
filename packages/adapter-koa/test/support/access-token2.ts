// An independent reader of Agora AccessToken2 ("007" tokens) for the tests: node zlib + crypto only,
// so a bug in agora-token or in our issuer cannot hide behind the same parser.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';

export const SERVICE_RTC = 1;
export const SERVICE_CHAT = 5;
export const CHAT_PRIVILEGE_USER = 1;
export const RTC_JOIN_CHANNEL = 1;
export const RTC_PUBLISH_AUDIO = 2;
export const RTC_PUBLISH_VIDEO = 3;
export const RTC_PUBLISH_DATA = 4;

export interface DecodedService {
  readonly type: number;
  /** privilege -> lifetime in seconds from issueTs */
  readonly privileges: ReadonlyMap<number, number>;
  /** Chat: user id. */
  readonly userId?: string;
  /** RTC: channel and uid (as the token stores it, a decimal string). */
  readonly channelName?: string;
  readonly uid?: string;
}

export interface DecodedToken {
  readonly appId: string;
  readonly issueTs: number;
  readonly expire: number;
  readonly salt: number;
  readonly services: readonly DecodedService[];
  /** The signature checked against the certificate given to {@link decodeAccessToken2}. */
  readonly signatureValid: boolean;
}

class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  u16(): number {
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(): Buffer {
    const length = this.u16();
    const v = this.buf.subarray(this.offset, this.offset + length);
    if (v.length !== length) throw new Error('truncated token');
    this.offset += length;
    return v;
  }
  string(): string {
    return this.bytes().toString('utf8');
  }
  rest(): Buffer {
    return this.buf.subarray(this.offset);
  }
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

function u32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

export function decodeAccessToken2(token: string, appCertificate: string): DecodedToken {
  if (!token.startsWith('007')) throw new Error('not an AccessToken2');
  const content = inflateSync(Buffer.from(token.slice(3), 'base64'));
  const outer = new Reader(content);
  const signature = outer.bytes();
  const signingInfo = outer.rest();
  const r = new Reader(signingInfo);
  const appId = r.string();
  const issueTs = r.u32();
  const expire = r.u32();
  const salt = r.u32();
  const count = r.u16();
  const services: DecodedService[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.u16();
    const privileges = new Map<number, number>();
    const n = r.u16();
    for (let j = 0; j < n; j++) {
      const key = r.u16();
      privileges.set(key, r.u32());
    }
    if (type === SERVICE_CHAT) services.push({ type, privileges, userId: r.string() });
    else if (type === SERVICE_RTC) services.push({ type, privileges, channelName: r.string(), uid: r.string() });
    else throw new Error(`unexpected service type ${type}`);
  }
  if (!r.done) throw new Error('trailing bytes in token');
  // signing key = HMAC(salt, HMAC(issueTs, certificate)); signature = HMAC(key, signing info)
  const key = createHmac('sha256', u32le(salt)).update(createHmac('sha256', u32le(issueTs)).update(appCertificate).digest()).digest();
  const expected = createHmac('sha256', key).update(signingInfo).digest();
  const signatureValid = expected.length === signature.length && timingSafeEqual(expected, signature);
  return { appId, issueTs, expire, salt, services, signatureValid };
}
