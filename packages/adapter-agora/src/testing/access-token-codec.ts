// An AccessToken2 codec written from the layout, independent of agora-token, so tests check the wire
// format rather than agora-token's own reading of it (a bug there cannot hide behind the same parser).
// It also forges tokens, for the rejection tests. Test support only: it verifies no expiry.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export const SERVICE_RTC = 1;
export const SERVICE_CHAT = 5;
export const CHAT_PRIVILEGE_USER = 1;
export const CHAT_PRIVILEGE_APP = 2;
export const RTC_JOIN_CHANNEL = 1;
export const RTC_PUBLISH_AUDIO = 2;
export const RTC_PUBLISH_VIDEO = 3;
export const RTC_PUBLISH_DATA = 4;

export interface DecodedService {
  type: number;
  privileges: Record<number, number>;
  /** Chat (5) */
  userId?: string;
  /** RTC (1) */
  channelName?: string;
  uid?: string;
}

export interface DecodedToken {
  signature: Buffer;
  appId: string;
  issueTs: number;
  expire: number;
  salt: number;
  services: DecodedService[];
}

class Reader {
  private position = 0;
  constructor(private readonly buffer: Buffer) {}
  u16(): number {
    const v = this.buffer.readUInt16LE(this.position);
    this.position += 2;
    return v;
  }
  u32(): number {
    const v = this.buffer.readUInt32LE(this.position);
    this.position += 4;
    return v;
  }
  bytes(): Buffer {
    const length = this.u16();
    if (this.position + length > this.buffer.length) throw new RangeError('truncated');
    const out = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return out;
  }
  rest(): Buffer {
    return this.buffer.subarray(this.position);
  }
}

class Writer {
  private readonly parts: Buffer[] = [];
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.parts.push(b);
    return this;
  }
  bytes(v: Buffer | string): this {
    const b = Buffer.from(v);
    this.u16(b.length);
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Splits a token into its signature and the signed bytes. */
function unpack(token: string): { signature: Buffer; signingInfo: Buffer } {
  if (!token.startsWith('007')) throw new Error('not a 007 token');
  const reader = new Reader(inflateSync(Buffer.from(token.slice(3), 'base64')));
  const signature = Buffer.from(reader.bytes());
  return { signature, signingInfo: Buffer.from(reader.rest()) };
}

export function decodeToken(token: string): DecodedToken {
  const { signature, signingInfo } = unpack(token);
  const reader = new Reader(signingInfo);
  const appId = reader.bytes().toString();
  const issueTs = reader.u32();
  const expire = reader.u32();
  const salt = reader.u32();
  const count = reader.u16();
  const services: DecodedService[] = [];
  for (let i = 0; i < count; i += 1) {
    const type = reader.u16();
    const privileges: Record<number, number> = {};
    const n = reader.u16();
    for (let j = 0; j < n; j += 1) {
      const key = reader.u16();
      privileges[key] = reader.u32();
    }
    if (type === SERVICE_CHAT) services.push({ type, privileges, userId: reader.bytes().toString() });
    else if (type === SERVICE_RTC) services.push({ type, privileges, channelName: reader.bytes().toString(), uid: reader.bytes().toString() });
    else throw new Error(`service type ${type} not expected in our tokens`);
  }
  return { signature, appId, issueTs, expire, salt, services };
}

function sign(certificate: string, issueTs: number, salt: number, signingInfo: Buffer): Buffer {
  const hmac = (key: Buffer, message: Buffer | string) => createHmac('sha256', key).update(message).digest();
  const u32 = (v: number) => new Writer().u32(v).done();
  const key = hmac(u32(salt), hmac(u32(issueTs), certificate));
  return hmac(key, signingInfo);
}

/** True when the token's signature was made with `certificate`. */
export function hasValidSignature(token: string, certificate: string): boolean {
  const { signature, signingInfo } = unpack(token);
  const { issueTs, salt } = decodeToken(token);
  const expected = sign(certificate, issueTs, salt, signingInfo);
  return signature.length === expected.length && timingSafeEqual(signature, expected);
}

/**
 * Builds a token from parts; `signature` overrides the computed one (to forge tampered tokens);
 * `trailing` bytes follow the services, inside the signed part (to check that readers refuse them).
 */
export function encodeToken(token: Omit<DecodedToken, 'signature'>, certificate: string, signature?: Buffer, trailing?: Buffer): string {
  const w = new Writer().bytes(token.appId).u32(token.issueTs).u32(token.expire).u32(token.salt).u16(token.services.length);
  for (const service of [...token.services].sort((a, b) => a.type - b.type)) {
    w.u16(service.type);
    const keys = Object.keys(service.privileges).map(Number).sort((a, b) => a - b);
    w.u16(keys.length);
    for (const key of keys) w.u16(key).u32(service.privileges[key]!);
    if (service.type === SERVICE_CHAT) w.bytes(service.userId ?? '');
    if (service.type === SERVICE_RTC) w.bytes(service.channelName ?? '').bytes(service.uid ?? '');
  }
  const signingInfo = trailing ? Buffer.concat([w.done(), trailing]) : w.done();
  const sig = signature ?? sign(certificate, token.issueTs, token.salt, signingInfo);
  return `007${deflateSync(Buffer.concat([new Writer().bytes(sig).done(), signingInfo])).toString('base64')}`;
}
