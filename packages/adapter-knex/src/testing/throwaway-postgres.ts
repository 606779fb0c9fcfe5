import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { skipLoudly } from './loud-skip.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of a test's own, in a temporary folder on a free loopback port, that the test may
 * stop, freeze and start again: what a test of database outages needs (the shared test server must never
 * go down). Superuser `postgres`, trust authentication, database `postgres`.
 */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): connections are cut, new ones refused. */
  stop(): Promise<void>;
  /** Starts it again (after {@link stop}), on the same port, with the same data. */
  start(): Promise<void>;
  /**
   * SIGSTOPs the server and every backend: connections stay open and new ones are accepted by the
   * kernel, but nothing answers (a hung host, a stalled disk, a network black hole).
   */
  freeze(): void;
  /** SIGCONTs what {@link freeze} stopped. */
  thaw(): void;
  /** Stops the server and deletes its folder. */
  destroy(): Promise<void>;
}

/** The folder of `initdb` and `pg_ctl`: on the PATH, or Debian's /usr/lib/postgresql/<version>/bin (newest). */
export function postgresBinDir(): string | undefined {
  const onPath = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  let debian: string[] = [];
  try {
    debian = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join('/usr/lib/postgresql', v, 'bin'));
  } catch {
    // not a Debian layout
  }
  return [...onPath, ...debian].find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

/**
 * Starts a {@link ThrowawayPostgres} (about a second or two: initdb, then start). As root, the server
 * runs as the `postgres` system user, since PostgreSQL refuses to run as root.
 * @throws when the binaries are missing (see {@link requireThrowawayPostgres} to skip instead)
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries (initdb, pg_ctl) are not installed.');
  const owner = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'throwaway-pg-'));
  if (owner) await chown(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...args], { ...as, timeout: 60_000 });
  let postmaster: number | undefined;
  let frozen: number[] = [];

  // A test that dies must not leave a frozen or running server behind.
  const onExit = () => {
    for (const pid of [...frozen, postmaster]) if (pid) signal(pid, 'SIGCONT');
    if (postmaster) signal(postmaster, 'SIGQUIT');
  };

  // fsync=off only risks data on an operating system crash; a stopped (crashed) server keeps every commit.
  const start = async () => {
    await pgCtl('start', '-w', '-l', join(dir, 'server.log'), '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`);
    postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  };
  const thaw = () => {
    for (const pid of frozen) signal(pid, 'SIGCONT');
    frozen = [];
  };
  const stop = async () => {
    thaw();
    await pgCtl('stop', '-m', 'immediate', '-w');
    postmaster = undefined;
  };

  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], { ...as, timeout: 60_000 });
    await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  process.once('exit', onExit);

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    freeze() {
      if (!postmaster) throw new Error('The throwaway PostgreSQL is not running.');
      // The postmaster first, so that it forks no new backend meanwhile.
      frozen = [postmaster, ...childrenOf(postmaster)];
      for (const pid of frozen) signal(pid, 'SIGSTOP');
    },
    thaw,
    async destroy() {
      process.off('exit', onExit);
      try {
        if (postmaster) await stop();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * For a `before` hook: a {@link ThrowawayPostgres}, or a loud skip when PostgreSQL is not installed.
 * Under `CI=true` a missing installation fails instead.
 */
export async function requireThrowawayPostgres(context: Mocha.Context): Promise<ThrowawayPostgres> {
  if (!postgresBinDir()) {
    skipLoudly(context, 'PostgreSQL binaries (initdb, pg_ctl) not found on the PATH or in /usr/lib/postgresql', 'database outage tests', 'Install PostgreSQL');
  }
  return startThrowawayPostgres();
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

// Linux: the processes whose parent is `pid` (the backends and helpers of a postmaster).
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`Running as root, but there is no "${name}" user to run PostgreSQL as (it refuses to run as root).`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
