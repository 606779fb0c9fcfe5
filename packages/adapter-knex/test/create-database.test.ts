import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountExistsError } from '@chat-app-server/core';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { createDatabase, insecureDatabaseFileWarning, KnexUserRepository, migrateLatest } from '../src/index.js';
import { aPendingUser, unique } from './support/fixtures.js';

describe('createDatabase', function () {
  let dir: string;
  const opened: Knex[] = [];
  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), 'adapter-knex-db-'));
  });
  afterEach(async function () {
    await Promise.all(opened.splice(0).map((k) => k.destroy()));
    await rm(dir, { recursive: true, force: true });
  });
  const open = (url: string, options: { poolMax?: number } = {}) => {
    const knex = createDatabase(url, options);
    opened.push(knex);
    return knex;
  };

  for (const url of ['mysql://localhost/db', 'sqlite3:/tmp/x.db', 'file:/tmp/x.db', '/tmp/x.db', '', 'sqlite:', 'redis://x']) {
    it(`rejects ${JSON.stringify(url)} naming the accepted forms`, function () {
      expect(() => createDatabase(url)).to.throw(/sqlite:<path>.*sqlite::memory:.*postgres:\/\/.*postgresql:\/\//);
    });
  }

  it('names a missing URL (an unset DATABASE_URL passed through) instead of failing with a bare TypeError', function () {
    for (const missing of [undefined, null, '  ']) {
      expect(() => createDatabase(missing as unknown as string)).to.throw(TypeError, /database URL is missing \(is DATABASE_URL set\?\).*sqlite:<path>/);
    }
  });

  it('names a malformed PostgreSQL URL without echoing its password', function () {
    for (const url of ['postgres://app:s3cret@db:99999/app', 'postgresql://app:s3cret@[::1/app']) {
      expect(() => createDatabase(url)).to.throw(TypeError, /PostgreSQL URL .* is malformed; expected postgres:\/\/user:password@host:5432\/database/)
        .that.does.not.match(/s3cret/);
    }
  });

  it('keeps a password out of the rejection message', function () {
    expect(() => createDatabase('mysql://root:s3cret@db/app')).to.throw(Error).that.does.not.match(/s3cret/);
  });

  it('creates the SQLite folder and file, with WAL journal, foreign keys and a busy timeout', async function () {
    const file = join(dir, 'a', 'b', 'app.sqlite');
    const knex = open(`sqlite:${file}`);

    const journal = await knex.raw('PRAGMA journal_mode');
    const foreignKeys = await knex.raw('PRAGMA foreign_keys');
    const busy = await knex.raw('PRAGMA busy_timeout');

    expect(existsSync(file)).to.equal(true);
    expect(journal[0].journal_mode).to.equal('wal');
    expect(foreignKeys[0].foreign_keys).to.equal(1);
    expect(busy[0].timeout).to.equal(5000);
  });

  describe('file permissions (the database holds password hashes)', function () {
    const modeOf = (path: string) => statSync(path).mode & 0o777;

    it('creates a missing folder 0700 and the database file 0600, also its WAL files', async function () {
      const file = join(dir, 'data', 'app.sqlite');
      const knex = open(`sqlite:${file}`);
      await migrateLatest(knex);
      expect(modeOf(join(dir, 'data'))).to.equal(0o700);
      expect(modeOf(file)).to.equal(0o600);
      for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) expect(modeOf(file + suffix), suffix).to.equal(0o600);
      expect(insecureDatabaseFileWarning(`sqlite:${file}`)).to.equal(undefined);
    });

    it('leaves an existing folder and file as they are, and warns when others may read the file', async function () {
      const folder = join(dir, 'shared');
      mkdirSync(folder, { mode: 0o755 });
      chmodSync(folder, 0o755);
      const file = join(folder, 'app.sqlite');
      writeFileSync(file, '');
      chmodSync(file, 0o644);
      await migrateLatest(open(`sqlite:${file}`));
      expect([modeOf(folder), modeOf(file)]).to.deep.equal([0o755, 0o644]);
      expect(insecureDatabaseFileWarning(`sqlite:${file}`)).to.include(file).and.include('0644').and.include('chmod 600');
      chmodSync(file, 0o600);
      expect(insecureDatabaseFileWarning(`sqlite:${file}`)).to.equal(undefined);
    });

    it('has nothing to say about a missing file, memory or PostgreSQL', function () {
      for (const url of [`sqlite:${join(dir, 'none.sqlite')}`, 'sqlite::memory:', 'postgres://u@127.0.0.1:1/db']) {
        expect(insecureDatabaseFileWarning(url), url).to.equal(undefined);
      }
    });
  });

  it('opens sqlite::memory: as one database that lives as long as the Knex instance', async function () {
    const knex = open('sqlite::memory:');
    await migrateLatest(knex);
    const user = aPendingUser();

    await new KnexUserRepository(knex).insertPending(user, () => 1);

    expect(await new KnexUserRepository(knex).findByAccountKey(user.accountKey)).to.have.property('agoraUid', 1);
  });

  it('accepts postgres:// and postgresql:// URLs without connecting', function () {
    for (const url of ['postgres://u@127.0.0.1:1/db', 'postgresql://u@127.0.0.1:1/db']) {
      expect(open(url).client.config.client).to.equal('pg');
    }
  });

  // Two instances on one file stand for two processes (a server and the migrate command, or two
  // servers): their writers contend for SQLite's one write lock, which the busy timeout turns into waits.
  it('serves 50 concurrent reservations from two instances on one SQLite file without SQLITE_BUSY', async function () {
    const file = join(dir, 'shared.sqlite');
    const [a, b] = [open(`sqlite:${file}`), open(`sqlite:${file}`)];
    await migrateLatest(a);
    const accountKey = unique('jack');
    const started = Date.now();

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        new KnexUserRepository(i % 2 === 0 ? a : b).insertPending(aPendingUser(i < 25 ? { accountKey } : {}), () => 1 + i),
      ),
    );

    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    expect(failures.filter((e) => !(e instanceof AccountExistsError))).to.deep.equal([]);
    expect(failures).to.have.length(24);
    expect(Date.now() - started).to.be.below(5000);
  });

  it('keeps one winner and no SQLITE_BUSY with a pool of 8 connections on one SQLite file', async function () {
    const knex = open(`sqlite:${join(dir, 'pooled.sqlite')}`, { poolMax: 8 });
    await migrateLatest(knex);
    const accountKey = unique('jack');

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => new KnexUserRepository(knex).insertPending(aPendingUser({ accountKey }), () => 1 + i)),
    );

    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    expect(failures.filter((e) => !(e instanceof AccountExistsError))).to.deep.equal([]);
    expect(failures).to.have.length(49);
  });
});
