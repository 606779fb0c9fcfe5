import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/standalone/index.js';
import { sleep } from './support/harness.js';
import { request, type HttpResponse } from './support/http.js';

const PASSWORD = 'correct horse battery';
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSX_LOADER = pathToFileURL(createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsx')).href;
const CLI = ['--import', TSX_LOADER, join(PACKAGE_ROOT, 'src/standalone/cli.ts'), 'serve'];

type LogLine = Record<string, unknown> & { msg?: string; pid?: number; url?: string; requestId?: string };

/** `chat-app-server serve` in a process of its own, its JSON log lines read as they come. */
class ServerProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private waiters: Array<() => void> = [];

  constructor(cwd: string, env: Record<string, string>) {
    // The thread pool the launcher (bin/chat-app-server.cjs) gives the server: 4 SQLite connections per
    // worker next to 2 hashes, as in production.
    const pool = { UV_THREADPOOL_SIZE: '8' };
    this.child = spawn(process.execPath, CLI, { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...pool, ...env } });
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) {
        if (!line.startsWith('{')) continue;
        this.lines.push(JSON.parse(line) as LogLine);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      for (const wake of this.waiters.splice(0)) wake();
      resolve(code);
    }));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The first log line (from `from` on) that matches, waiting for it. */
  async line(matches: (line: LogLine) => boolean, what: string, from = 0, timeoutMs = 60_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find(matches);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`never logged ${what} (exit ${this.child.exitCode}); stderr: ${this.stderr}\nlog:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** The pid of the worker that logged the request with this X-Request-Id. */
  async servedBy(requestId: string): Promise<number> {
    const line = await this.line((l) => l.msg === 'request' && l.requestId === requestId, `the request ${requestId}`);
    return line.pid as number;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

describe('WORKERS: several server processes on one port', function () {
  // Each case starts a primary and its workers (node with tsx, several seconds on a busy machine).
  this.timeout(180_000);
  let cwd: string;
  const started: ServerProcess[] = [];
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'chat-app-server-workers-'));
  });
  afterEach(async () => {
    for (const server of started.splice(0)) {
      server.signal('SIGKILL');
      await server.exited;
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  async function startWorkers(env: Record<string, string> = {}) {
    const server = new ServerProcess(cwd, { PORT: '0', DATABASE_URL: 'sqlite:./workers.sqlite', WORKERS: '2', ...env });
    started.push(server);
    const ready = await server.line((l) => l.msg === 'all workers listening', 'that all workers listen');
    return { server, url: ready.url as string, pids: ready.pids as number[] };
  }

  let sequence = 0;
  /** A request on a connection of its own, tagged so that the log says which worker served it. */
  async function tagged(url: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
    const requestId = `workers-test-${process.pid}-${++sequence}`;
    const res = await request(url, method, path, { ...options, headers: { ...options.headers, 'X-Request-Id': requestId } });
    return { res, requestId };
  }

  it('serves one port from two processes that verify each other\'s tokens, and sums their metrics', async () => {
    const { server, url, pids } = await startWorkers({ METRICS_PORT: '0' });
    expect(new Set(pids)).to.have.property('size', 2);
    expect(pids).to.not.include(server.pid);
    // Each worker says so itself (its line may come after the primary's: they write to one pipe).
    const workerLines = await Promise.all(pids.map((pid) => server.line((l) => l.msg === 'chat-app-server listening' && l.pid === pid, `worker ${pid} listening`)));
    expect(workerLines.map((l) => l.url)).to.deep.equal([url, url]);
    // One development emulator, in the primary, for both.
    expect(server.lines.filter((l) => l.msg?.includes('DEVELOPMENT MODE')).map((l) => l.pid)).to.deep.equal([server.pid]);

    expect((await request(url, 'POST', '/app/user/register', { body: { userAccount: 'jack', userPassword: PASSWORD } })).status).to.equal(200);
    const login = await tagged(url, 'POST', '/app/user/login', { body: { userAccount: 'jack', userPassword: PASSWORD } });
    expect(login.res.status).to.equal(200);
    const minter = await server.servedBy(login.requestId);

    // New connections go to the workers in turn: the other worker gets some of these.
    const bearer = { Authorization: `Bearer ${login.res.body.accessToken as string}` };
    const tokens = await Promise.all(Array.from({ length: 6 }, () => tagged(url, 'GET', '/token?channelName=room-1', { headers: bearer })));
    const verifiers = await Promise.all(tokens.map((t) => server.servedBy(t.requestId)));
    expect(tokens.map((t) => t.res.status)).to.deep.equal(Array(6).fill(200));
    expect(verifiers.filter((pid) => pid !== minter), 'requests the other worker verified').to.not.have.length(0);
    expect(new Set(verifiers)).to.deep.equal(new Set(pids));

    const metricsLine = await server.line((l) => l.msg?.startsWith('metrics listening') === true, 'the metrics URL');
    expect(metricsLine.pid).to.equal(server.pid);
    const metrics = await request((metricsLine.url as string).replace(/\/metrics$/, ''), 'GET', '/metrics');
    expect(metrics.text).to.match(/^chat_app_http_requests_total\{method="GET",route="\/token",status="200"\} 6$/m);
    expect(metrics.text).to.match(/^chat_app_logins_total\{outcome="success"\} 1$/m);

    server.signal('SIGTERM');
    expect(await server.exited).to.equal(0);
  });

  it('restarts a worker that dies, while the other keeps answering', async () => {
    const { server, url, pids } = await startWorkers();
    const [victim, survivor] = pids as [number, number];
    const from = server.lines.length;
    process.kill(victim, 'SIGKILL');
    const exit = await server.line((l) => l.msg === 'worker exited unexpectedly: restarting it', 'the crash', from);
    expect(exit).to.include({ pid: victim, signal: 'SIGKILL' });
    expect(exit.restartInMs).to.be.a('number');

    const meanwhile = await Promise.all(Array.from({ length: 4 }, () => tagged(url, 'GET', '/healthz')));
    expect(meanwhile.map((r) => r.res.status)).to.deep.equal([200, 200, 200, 200]);
    expect(await Promise.all(meanwhile.map((r) => server.servedBy(r.requestId)))).to.deep.equal([survivor, survivor, survivor, survivor]);

    const restarted = await server.line((l) => l.msg === 'restarted worker listening', 'the restarted worker', from);
    const replacement = restarted.pid as number;
    expect(replacement).to.not.be.oneOf([victim, survivor, server.pid]);
    const after = await Promise.all(Array.from({ length: 6 }, () => tagged(url, 'GET', '/healthz')));
    expect(after.map((r) => r.res.status)).to.deep.equal(Array(6).fill(200));
    expect(new Set(await Promise.all(after.map((r) => server.servedBy(r.requestId))))).to.deep.equal(new Set([survivor, replacement]));

    // Crashing again soon: a longer wait before the next restart, so that a crash loop does not spin.
    const again = server.lines.length;
    process.kill(replacement, 'SIGKILL');
    const second = await server.line((l) => l.msg === 'worker exited unexpectedly: restarting it', 'the second crash', again);
    expect(second).to.include({ pid: replacement, restartInMs: 2 * (exit.restartInMs as number) });

    // Stopping while a restart is pending: nothing is started any more, and the rest stops cleanly.
    server.signal('SIGTERM');
    expect(await server.exited).to.equal(0);
    expect(server.lines.slice(again).filter((l) => l.msg === 'restarted worker listening')).to.deep.equal([]);
  });

  it('on SIGTERM finishes the request in flight, then every process exits, with status 0', async () => {
    const { server, url } = await startWorkers();
    expect((await request(url, 'POST', '/app/user/register', { body: { userAccount: 'jill', userPassword: PASSWORD } })).status).to.equal(200);

    // A login whose body is still arriving when the signal comes.
    const body = JSON.stringify({ userAccount: 'jill', userPassword: PASSWORD });
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk;
      if (answer.includes('"accessToken"')) socket.end();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /app/user/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await sleep(500);
    const from = server.lines.length;
    server.signal('SIGTERM');
    await server.line((l) => l.msg === 'shutting down' && l.reason === 'primary', 'a worker shutting down', from);
    await sleep(300);
    socket.write(body.slice(5));
    await closed;
    expect(answer).to.match(/^HTTP\/1\.1 200 /);
    expect(answer).to.include('"accessToken"');
    expect(await server.exited).to.equal(0);
    expect(server.lines.filter((l) => l.msg === 'chat-app-server stopped')).to.have.length(3);
    expect(server.lines.at(-1)).to.include({ msg: 'chat-app-server stopped', pid: server.pid });
  });

  it('shares one SQLite file between the workers: concurrent registrations, and racers for one account', async () => {
    const { server, url, pids } = await startWorkers({ REGISTER_MAX_PER_ADDRESS: '1000' });
    // A client retries server_busy (the hashing queue of a worker was full) after Retry-After, as told.
    const register = async (userAccount: string): Promise<{ res: HttpResponse; requestId: string }> => {
      for (let attempt = 0; ; attempt++) {
        const sent = await tagged(url, 'POST', '/app/user/register', { body: { userAccount, userPassword: PASSWORD } });
        // Only the hashing queue's refusal: a database that stayed locked (database_unavailable) is a failure here.
        if (sent.res.body?.error !== 'server_busy' || attempt === 20) return sent;
        await sleep(Number(sent.res.headers['retry-after'] ?? 1) * 1000);
      }
    };
    const distinct = await Promise.all(Array.from({ length: 20 }, (_, i) => register(`user-${i}`)));
    expect(distinct.map((r) => r.res.status)).to.deep.equal(Array(20).fill(200));
    const servers = await Promise.all(distinct.map((r) => server.servedBy(r.requestId)));
    expect(new Set(servers), 'both workers wrote').to.deep.equal(new Set(pids));

    // The account is reserved before its password is hashed: one hash in all, no queue to overflow.
    const racers = await Promise.all(Array.from({ length: 50 }, () => tagged(url, 'POST', '/app/user/register', {
      body: { userAccount: 'contested', userPassword: PASSWORD },
    })));
    const statuses = racers.map((r) => r.res.status);
    expect(statuses.filter((s) => s === 200), String(statuses)).to.have.length(1);
    expect(statuses.filter((s) => s === 409), String(statuses)).to.have.length(49);
    expect(new Set(await Promise.all(racers.map((r) => server.servedBy(r.requestId))))).to.deep.equal(new Set(pids));

    for (const userAccount of ['user-0', 'user-19', 'contested']) {
      expect((await request(url, 'POST', '/app/user/login', { body: { userAccount, userPassword: PASSWORD } })).status, userAccount).to.equal(200);
    }
    server.signal('SIGTERM');
    expect(await server.exited).to.equal(0);
  });

  it('stops at once, with status 1, when a worker cannot start (instead of restarting it forever)', async () => {
    // An address of a documentation network: no interface has it, so listening fails in every worker.
    const server = new ServerProcess(cwd, { PORT: '0', HOST: '192.0.2.1', DATABASE_URL: 'sqlite:./workers.sqlite', WORKERS: '2' });
    started.push(server);
    expect(await server.exited).to.equal(1);
    expect(server.lines.some((l) => l.msg === 'a worker failed to start: stopping')).to.equal(true);
    expect(server.lines.some((l) => l.msg === 'worker exited unexpectedly: restarting it')).to.equal(false);
  });

  it('runs one process, as before, without WORKERS', async () => {
    const server = new ServerProcess(cwd, { PORT: '0', DATABASE_URL: 'sqlite:./workers.sqlite' });
    started.push(server);
    const listening = await server.line((l) => l.msg === 'chat-app-server listening', 'that it listens');
    expect((await request(listening.url as string, 'GET', '/healthz')).status).to.equal(200);
    server.signal('SIGTERM');
    expect(await server.exited).to.equal(0);
    expect(server.lines.some((l) => l.msg === 'starting workers' || l.role === 'primary')).to.equal(false);
  });
});

describe('the WORKERS setting', () => {
  it('is 1 by default, a number, or auto for one per core', () => {
    expect(loadConfig({}).workers).to.equal(1);
    expect(loadConfig({ WORKERS: '3' }).workers).to.equal(3);
    expect(loadConfig({ WORKERS: 'auto' }).workers).to.equal(availableParallelism());
    expect(loadConfig({ WORKERS: ' AUTO ' }).workers).to.equal(availableParallelism());
  });

  it('refuses several workers on an in-memory SQLite database, which each process would have its own of', () => {
    expect(() => loadConfig({ WORKERS: '2', DATABASE_URL: 'sqlite::memory:' })).to.throw(ConfigError, /WORKERS above 1 needs a database the workers share/);
    expect(loadConfig({ WORKERS: '1', DATABASE_URL: 'sqlite::memory:' }).workers).to.equal(1);
  });

  for (const bad of ['0', '-1', 'many', '2.5', '257']) {
    it(`refuses WORKERS=${bad}, naming it`, () => {
      expect(() => loadConfig({ WORKERS: bad })).to.throw(ConfigError, /WORKERS must be a whole number from 1 to 256, or auto/);
    });
  }
});
