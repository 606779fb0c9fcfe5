import { connect, type Socket } from 'node:net';
import type { AgoraEmulator } from '@chat-app-server/adapter-agora/emulator';
import { expect } from 'chai';
import { sleep, startTestEmulator, startTestServer, type TestServer } from './support/harness.js';
import { request } from './support/http.js';

// Timings here are liveness bounds with wide margins (the machine may be loaded), not speed targets:
// a socket must be closed within a couple of seconds of its timeout, not half a minute later.
const CLOSE_MARGIN_MS = 2500;

interface SlowSocket {
  readonly socket: Socket;
  readonly openedAt: number;
  /** Resolves with the ms from connect to close, and what the server said before closing. */
  readonly closed: Promise<{ afterMs: number; received: string }>;
}

function openSocket(url: string, localAddress: string): Promise<SlowSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.once('error', reject);
    socket.once('connect', () => {
      const openedAt = Date.now();
      const closed = new Promise<{ afterMs: number; received: string }>((done) => {
        socket.once('close', () => done({ afterMs: Date.now() - openedAt, received }));
      });
      socket.on('error', () => undefined); // a reset is a close too
      resolve({ socket, openedAt, closed });
    });
  });
}

/** Sends `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return clearInterval(timer);
    socket.write(text[at++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

describe('slow clients', function () {
  this.timeout(60_000);
  let emulator: AgoraEmulator;
  let server: TestServer;
  const sockets: Socket[] = [];

  before(async () => {
    emulator = await startTestEmulator();
    server = await startTestServer('sqlite', emulator, {
      env: { HEADERS_TIMEOUT_SECONDS: '2', REQUEST_TIMEOUT_SECONDS: '4', MAX_CONNECTIONS: '60' },
      // Patient with Agora: one test needs a request that takes longer than the header timeout.
      overrides: { provisioner: { timeoutMs: 6000, deadlineMs: 8000, retries: 0 } },
    });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });
  after(async () => {
    await server?.stop();
    await emulator?.close();
  });

  it('closes slow-header sockets at HEADERS_TIMEOUT_SECONDS while /healthz keeps answering', async () => {
    const slow = await Promise.all(Array.from({ length: 40 }, () => openSocket(server.url, '127.0.0.21')));
    sockets.push(...slow.map((s) => s.socket));
    for (const [i, s] of slow.entries()) {
      if (i % 2 === 0) trickle(s.socket, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`, 100);
      // the other half sends nothing at all
    }
    const health: number[] = [];
    const probing = (async () => {
      for (let i = 0; i < 10; i++) {
        const started = Date.now();
        const res = await request(server.url, 'GET', '/healthz', { timeoutMs: 5000 });
        expect(res.status).to.equal(200);
        health.push(Date.now() - started);
        await sleep(200);
      }
    })();
    const closes = await Promise.all(slow.map((s) => s.closed));
    await probing;
    for (const { afterMs, received } of closes) {
      expect(afterMs).to.be.within(2000 - 100, 2000 + CLOSE_MARGIN_MS);
      if (received !== '') expect(received).to.match(/^HTTP\/1\.1 408/);
    }
    expect(Math.max(...health), `healthz ms: ${health.join(', ')}`).to.be.below(1000);
  });

  it('closes connections that send nothing at all at HEADERS_TIMEOUT_SECONDS', async () => {
    const silent = await Promise.all(Array.from({ length: 10 }, () => openSocket(server.url, '127.0.0.25')));
    sockets.push(...silent.map((s) => s.socket));
    for (const { afterMs } of await Promise.all(silent.map((s) => s.closed))) {
      expect(afterMs).to.be.within(2000 - 100, 2000 + CLOSE_MARGIN_MS);
    }
  });

  it('keeps a connection whose request takes longer than the header timeout to answer', async () => {
    emulator.faults.delayNext(1, 3000);
    const started = Date.now();
    const res = await request(server.url, 'POST', '/app/user/register', { body: { userAccount: 'patient', userPassword: 'correct horse battery' } });
    expect(res.status, res.text).to.equal(200);
    expect(Date.now() - started).to.be.above(3000);
  });

  it('closes a request whose body trickles in at REQUEST_TIMEOUT_SECONDS', async () => {
    const s = await openSocket(server.url, '127.0.0.22');
    sockets.push(s.socket);
    s.socket.write('POST /app/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n');
    trickle(s.socket, `{"userAccount":"slow","userPassword":"${'x'.repeat(450)}"}`, 200);
    const { afterMs } = await s.closed;
    expect(afterMs).to.be.within(4000 - 100, 4000 + CLOSE_MARGIN_MS);
  });

  it('closes connections beyond MAX_CONNECTIONS at once, and serves again when they are gone', async () => {
    const held = await Promise.all(Array.from({ length: 60 }, () => openSocket(server.url, '127.0.0.23')));
    sockets.push(...held.map((s) => s.socket));
    await sleep(100);
    const extra = await openSocket(server.url, '127.0.0.24');
    sockets.push(extra.socket);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const { afterMs, received } = await extra.closed;
    expect(afterMs).to.be.below(1000);
    expect(received).to.equal('');
    expect(held.every((s) => !s.socket.destroyed)).to.equal(true);
    for (const s of held) s.socket.destroy();
    await Promise.all(held.map((s) => s.closed));
    await sleep(100);
    expect((await request(server.url, 'GET', '/healthz')).status).to.equal(200);
    expect(server.logs.text).to.include('MAX_CONNECTIONS reached');
  });
});
