import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createDatabase, migrateLatest } from '../src/index.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRITER = join(PACKAGE_ROOT, 'test', 'support', 'sqlite-writer.ts');
const STARVATION = join(PACKAGE_ROOT, 'test', 'support', 'thread-pool-starvation.ts');
const PROCESSES = 2;
const WRITES = 25;

interface WriterReport {
  distinct: string[];
  racers: string[];
  claims: string[];
}

/**
 * Several server processes (WORKERS, or several servers) on one SQLite file: each has its own
 * connections, and SQLite's one writer at a time is shared between processes through the file's locks.
 */
describe('one SQLite file written by several processes at once', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'adapter-knex-processes-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it(`loses no write and fails none: ${PROCESSES} x ${WRITES} registrations, racers for one account and throttle claims`, async () => {
    const file = join(dir, 'shared.sqlite');
    const setup = createDatabase(`sqlite:${file}`);
    await migrateLatest(setup);

    const writers = Array.from({ length: PROCESSES }, (_, i) =>
      spawn(process.execPath, ['--import', 'tsx', WRITER, file, `p${i}`, 'shared-account', 'shared-throttle-key', String(WRITES)], { cwd: PACKAGE_ROOT }),
    );
    try {
      const outputs = writers.map(collect);
      await Promise.all(writers.map(readyOf));
      for (const writer of writers) writer.stdin.write('go\n');
      const reports = await Promise.all(outputs);

      const all = (kind: keyof WriterReport) => reports.flatMap((r) => r[kind]);
      expect(all('distinct'), 'distinct registrations').to.deep.equal(Array(PROCESSES * WRITES).fill('ok'));
      expect(all('claims'), 'throttle claims').to.deep.equal(Array(PROCESSES * WRITES).fill('ok'));
      const racers = all('racers');
      expect(racers.filter((r) => r === 'ok'), 'racers for one account that won').to.have.length(1);
      expect(racers.filter((r) => r !== 'ok'), 'racers that lost').to.deep.equal(Array(PROCESSES * WRITES - 1).fill('AccountExistsError'));

      const distinctRows = await setup('users').where('account_key', 'like', '%-distinct-%').count({ n: '*' }).first();
      expect(Number(distinctRows?.n)).to.equal(PROCESSES * WRITES);
      expect(Number((await setup('users').where('account_key', 'shared-account').count({ n: '*' }).first())?.n)).to.equal(1);
      // Every claim counted once: the throttle's decisions hold across processes.
      const window = await setup('login_failures').where('key', 'shared-throttle-key').first();
      expect(Number(window?.count)).to.equal(PROCESSES * WRITES);
    } finally {
      for (const writer of writers) writer.kill();
      await setup.destroy();
    }
  });
});

describe('SQLite connections and the thread pool', function () {
  this.timeout(60_000);

  it('leaves a thread for the connection holding the write lock when hashes and waiting writers take the others', async function () {
    if (process.platform === 'win32') this.skip(); // the busy threads are FIFO opens
    const dir = await mkdtemp(join(tmpdir(), 'adapter-knex-pool-'));
    try {
      // Node's default pool of 4 threads (as an embedder gets it), 2 of them busy hashing.
      const { UV_THREADPOOL_SIZE: _, ...env } = process.env;
      const child = spawn(process.execPath, ['--import', 'tsx', STARVATION, join(dir, 'pool.sqlite')], { cwd: PACKAGE_ROOT, env });
      const output = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
        child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`))));
      });
      const result = JSON.parse(output.trim()) as { holder: { ok: boolean }; waiters: Array<{ ok: boolean; code?: string }> };
      expect(result.holder.ok, JSON.stringify(result)).to.equal(true);
      expect(result.waiters.map((w) => w.code ?? 'ok'), JSON.stringify(result)).to.deep.equal(['ok', 'ok']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function readyOf(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk;
      if (seen.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`a writer exited (${code}) before it was ready`)));
  });
}

function collect(child: ChildProcessWithoutNullStreams): Promise<WriterReport> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`a writer failed (exit ${code}): ${stderr}${stdout}`));
      else resolve(JSON.parse(line) as WriterReport);
    });
  });
}
