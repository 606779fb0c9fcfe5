import { deflateSync } from 'node:zlib';
import { use } from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { AgoraChatProvisioner, type AgoraChatProvisionerOptions } from '../src/index.js';
import { startAgoraEmulator, type AgoraEmulator } from '../src/emulator/index.js';

use(chaiAsPromised);

export const APP_ID = '0123456789abcdef0123456789abcdef';
export const APP_CERT = 'fedcba9876543210fedcba9876543210';
export const OTHER_CERT = 'aaaabbbbccccddddeeeeffff00001111';
export const OTHER_APP_ID = '11112222333344445555666677778888';

let counter = 0;
/** A username unique within the run (the emulator is shared within a file). */
export function freshName(prefix = 'u'): string {
  counter += 1;
  return `${prefix}_${process.pid}_${counter}`;
}

export function startEmulator(extra: { rateLimitPerSecond?: number } = {}): Promise<AgoraEmulator> {
  return startAgoraEmulator({ appId: APP_ID, appCertificate: APP_CERT, orgName: 'testorg', appName: 'testapp', ...extra });
}

/** A provisioner aimed at `emulator`, with short waits so fault tests stay fast. */
export function provisionerFor(emulator: AgoraEmulator, options: Partial<AgoraChatProvisionerOptions> = {}): AgoraChatProvisioner {
  return new AgoraChatProvisioner({
    restApiUrl: emulator.restApiUrl,
    appKey: emulator.appKey,
    appId: APP_ID,
    appCertificate: APP_CERT,
    timeoutMs: 1000,
    deadlineMs: 5000,
    retryBaseDelayMs: 10,
    ...options,
  });
}

/** Everything an error exposes: message, stack and own properties, down its cause chain. */
export function dumpErrorChain(err: unknown): string {
  const seen = new Set<unknown>();
  const parts: string[] = [];
  let current: unknown = err;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    parts.push(String(current));
    if (current instanceof Error) {
      parts.push(current.stack ?? '');
      const own: Record<string, unknown> = {};
      for (const key of Object.getOwnPropertyNames(current)) own[key] = (current as unknown as Record<string, unknown>)[key];
      parts.push(JSON.stringify(own, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}

/**
 * An AccessToken2-shaped "token bomb": `services` empty services (type 4) and `padding` zero bytes,
 * deflated. It inflates to far more than a real token and, fed to an unbounded parser, costs CPU
 * quadratic in its size. The signature is garbage: the cost comes before any signature check.
 */
export function tokenBomb(appId: string, { services = 65_535, padding = 1_117_000 } = {}): string {
  const u16 = (v: number) => Buffer.from([v & 0xff, v >> 8]);
  const string = (s: Buffer | string) => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
  const head = Buffer.concat([string(Buffer.alloc(32)), string(appId), Buffer.alloc(12, 1), u16(services)]);
  const body = Buffer.concat([head, Buffer.alloc(4 * services).fill(Buffer.from([4, 0, 0, 0])), Buffer.alloc(padding)]);
  return `007${deflateSync(body, { level: 9 }).toString('base64')}`;
}

/**
 * One emulator for the enclosing suite: started before it, closed after it, and after each test its
 * queued faults, settings and stats are back to the start.
 */
export function useEmulator(): () => AgoraEmulator {
  let emulator: AgoraEmulator | undefined;
  before(async function () {
    emulator = await startEmulator();
  });
  after(async function () {
    await emulator?.close();
  });
  afterEach(function () {
    emulator?.faults.clear();
    if (emulator) emulator.settings.batchAllOrNothing = false;
    emulator?.stats.reset();
  });
  return () => {
    if (!emulator) throw new Error('the emulator only runs inside the suite');
    return emulator;
  };
}
