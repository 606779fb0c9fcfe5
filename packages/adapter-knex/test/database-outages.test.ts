import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountExistsError, DatabaseUnavailableError, InvalidRequestError } from '@chat-app-server/core';
import { expect } from 'chai';
import type { Knex } from 'knex';
import {
  createDatabase, isDatabaseOutage, KnexChannelMemberStore, KnexLoginThrottle, KnexUserRepository, migrateLatest, toDatabaseError,
} from '../src/index.js';
import { requireThrowawayPostgres, type ThrowawayPostgres } from '../src/testing/index.js';
import { aPendingUser, drawing, T0, unique } from './support/fixtures.js';

type Call<T> = (target: T) => Promise<unknown>;

// Knex's "Acquire connection error" for each failing call: expected here, kept off the test output.
const QUIET = { warn() {}, error() {}, deprecate() {}, debug() {} };

// One call of every method of each adapter, with arguments it accepts (what the rows hold does not matter:
// the database is gone). A method missing here fails the coverage test below.
const REPOSITORY_CALLS: Record<string, Call<KnexUserRepository>> = {
  findByAccountKey: (r) => r.findByAccountKey('jack'),
  findByChatUsername: (r) => r.findByChatUsername('jack'),
  findByChatUuid: (r) => r.findByChatUuid('uuid-1'),
  insertPending: (r) => r.insertPending(aPendingUser(), drawing()),
  insertPendingMany: (r) => r.insertPendingMany([aPendingUser(), aPendingUser()], drawing()),
  activateMany: (r) => r.activateMany([{ accountKey: 'jack', leaseId: 'lease-1', chatUuid: unique('uuid') }], T0),
  insertActive: (r) => r.insertActive({
    account: 'Jill', accountKey: unique('jill'), passwordHash: null, chatUsername: unique('jill'), chatUuid: unique('uuid'), now: T0,
  }, drawing()),
  takeOverPending: (r) => r.takeOverPending('jack', 'lease-1', { leaseId: 'lease-2', leaseExpiresAt: T0, passwordHash: null, now: T0 }),
  markCreationAttempted: (r) => r.markCreationAttempted('jack', 'lease-1', T0),
  endLease: (r) => r.endLease('jack', 'lease-1', T0),
  activate: (r) => r.activate('jack', 'lease-1', unique('uuid'), T0),
  deletePending: (r) => r.deletePending('jack', 'lease-1'),
  updatePasswordHash: (r) => r.updatePasswordHash('jack', 'hash-2', T0),
  changePassword: (r) => r.changePassword('jack', { previousHash: 'hash-1', passwordHash: 'hash-2', tokensNotBefore: 1, at: T0 }),
  revokeTokens: (r) => r.revokeTokens('jack', 1, T0),
  changeStatus: (r) => r.changeStatus('jack', { from: ['active'], to: 'disabled', at: T0 }),
  deleteDeleting: (r) => r.deleteDeleting('jack'),
  list: (r) => r.list({ limit: 10 }),
};
const REPOSITORY_HELPERS = ['findBy', 'insertRow', 'raiseBoundary', 'pendingUnder'];

const THROTTLE_CALLS: Record<string, Call<KnexLoginThrottle>> = {
  claim: (t) => t.claim([{ key: 'login:jack', max: 3, windowSeconds: 60 }], T0),
  release: (t) => t.release(['login:jack']),
  reset: (t) => t.reset('login:jack'),
};
const THROTTLE_HELPERS = ['count'];

const MEMBER_CALLS: Record<string, Call<KnexChannelMemberStore>> = {
  record: (s) => s.record([{ channelName: 'lobby', agoraUid: 7, chatUsername: 'jack', expiresAt: new Date(Date.now() + 60_000) }], { now: new Date(), maxPerChannel: 10 }),
  list: (s) => s.list('lobby', new Date(), 10),
};

interface Outcome {
  readonly name: string;
  readonly error: unknown;
  readonly ms: number;
}

/** Every call of every adapter at once, with how each ended and how long it took. */
async function callEverything(knex: Knex): Promise<Outcome[]> {
  const users = new KnexUserRepository(knex);
  const throttle = new KnexLoginThrottle(knex);
  const members = new KnexChannelMemberStore(knex);
  const calls: Array<[string, () => Promise<unknown>]> = [
    ...Object.entries(REPOSITORY_CALLS).map(([name, call]) => [`users.${name}`, () => call(users)] as [string, () => Promise<unknown>]),
    ...Object.entries(THROTTLE_CALLS).map(([name, call]) => [`throttle.${name}`, () => call(throttle)] as [string, () => Promise<unknown>]),
    ...Object.entries(MEMBER_CALLS).map(([name, call]) => [`members.${name}`, () => call(members)] as [string, () => Promise<unknown>]),
  ];
  return Promise.all(calls.map(async ([name, call]) => {
    const started = Date.now();
    try {
      await call();
      return { name, error: undefined, ms: Date.now() - started };
    } catch (error) {
      return { name, error, ms: Date.now() - started };
    }
  }));
}

function expectAllUnavailable(outcomes: readonly Outcome[], withinMs: number): void {
  const wrong = outcomes.filter((o) => !(o.error instanceof DatabaseUnavailableError)).map((o) => `${o.name}: ${String(o.error)}`);
  expect(wrong, 'calls that did not fail with DatabaseUnavailableError').to.deep.equal([]);
  for (const o of outcomes) {
    expect((o.error as DatabaseUnavailableError).cause, `${o.name}: the driver's error is kept as the cause`).to.be.an('error');
    expect(o.ms, `${o.name} took`).to.be.below(withinMs);
  }
}

describe('database outages', function () {
  describe('telling an outage from an error of the statement', function () {
    const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

    it('reads refused, reset and unreachable connections, shutdowns, timeouts and SQLite lock or I/O failures as outages', function () {
      const outages = [
        withCode('ECONNREFUSED'), withCode('ECONNRESET'), withCode('ETIMEDOUT'), withCode('EHOSTUNREACH'), withCode('ENOTFOUND'),
        withCode('57P01', 'terminating connection due to administrator command'), withCode('57P03', 'the database system is starting up'),
        withCode('08006'), withCode('08001'), withCode('53300', 'sorry, too many clients already'),
        withCode('57014', 'canceling statement due to statement timeout'),
        Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
        new Error('select "account" from "users" where "account_key" = $1 - Query read timeout'),
        new Error('Connection terminated unexpectedly'), new Error('Connection terminated due to connection timeout'),
        new Error('Client has encountered a connection error and is not queryable'), new Error('timeout expired'),
        withCode('SQLITE_BUSY', 'SQLITE_BUSY: database is locked'), withCode('SQLITE_IOERR', 'SQLITE_IOERR: disk I/O error'),
        withCode('SQLITE_CANTOPEN', 'SQLITE_CANTOPEN: unable to open database file'),
        new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect'),
        new Error('wrapped', { cause: withCode('ECONNRESET') }),
      ];
      for (const err of outages) {
        expect(isDatabaseOutage(err), err.message).to.equal(true);
        expect(toDatabaseError(err), err.message).to.be.instanceOf(DatabaseUnavailableError).with.property('cause', err);
      }
    });

    it('passes constraint violations, bad statements, bugs and domain errors through untouched', function () {
      const others = [
        withCode('23505', 'duplicate key value violates unique constraint'), withCode('23502'), withCode('22P02'), withCode('42P01'),
        withCode('40001', 'could not serialize access'), withCode('SQLITE_CONSTRAINT', 'UNIQUE constraint failed: users.account_key'),
        withCode('SQLITE_ERROR', 'no such table: users'),
        // A database's own error (it has a code) that merely mentions the words is not an outage.
        withCode('P0001', 'Connection terminated by a trigger'),
        new TypeError('Cannot read properties of undefined'), new RangeError('limit must be an integer from 1 to 1000.'),
        new AccountExistsError(), new InvalidRequestError('account', 'bad'),
      ];
      for (const err of others) {
        expect(isDatabaseOutage(err), err.message).to.equal(false);
        expect(toDatabaseError(err), err.message).to.equal(err);
      }
      const unavailable = new DatabaseUnavailableError({ cause: withCode('ECONNREFUSED') });
      expect(toDatabaseError(unavailable)).to.equal(unavailable);
    });

    it('covers every method of the adapters (a new one must be added to the calls above)', function () {
      const methods = (proto: object) => Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor').sort();
      expect(methods(KnexUserRepository.prototype)).to.deep.equal([...Object.keys(REPOSITORY_CALLS), ...REPOSITORY_HELPERS].sort());
      expect(methods(KnexLoginThrottle.prototype)).to.deep.equal([...Object.keys(THROTTLE_CALLS), ...THROTTLE_HELPERS].sort());
      expect(methods(KnexChannelMemberStore.prototype)).to.deep.equal(Object.keys(MEMBER_CALLS).sort());
    });
  });

  describe('on SQLite', function () {
    let dir: string;
    const opened: Knex[] = [];
    beforeEach(async function () {
      dir = await mkdtemp(join(tmpdir(), 'adapter-knex-outage-'));
    });
    afterEach(async function () {
      await Promise.all(opened.splice(0).map((k) => k.destroy()));
      await rm(dir, { recursive: true, force: true });
    });
    const open = (url: string, options: Parameters<typeof createDatabase>[1] = {}) => {
      const knex = createDatabase(url, { log: QUIET, ...options });
      opened.push(knex);
      return knex;
    };

    it('fails every call with DatabaseUnavailableError when the file cannot be opened (SQLITE_CANTOPEN)', async function () {
      // A folder where the file should be: SQLite cannot open it, as when its volume went away.
      const outcomes = await callEverything(open(`sqlite:${dir}`, { acquireTimeoutMs: 1000 }));
      expectAllUnavailable(outcomes, 2000);
    });

    it('fails a write with DatabaseUnavailableError when another writer holds the lock past the timeout (SQLITE_BUSY)', async function () {
      const url = `sqlite:${join(dir, 'locked.sqlite')}`;
      const holder = open(url);
      await migrateLatest(holder);
      const users = new KnexUserRepository(open(url, { queryTimeoutMs: 300 }));
      const trx = await holder.transaction();
      try {
        await trx('users').insert({ ...rowOf(aPendingUser()), agora_uid: 1 }); // takes SQLite's one write lock
        const started = Date.now();
        const err = await users.insertPending(aPendingUser(), drawing()).then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(DatabaseUnavailableError);
        expect((err as Error).cause).to.have.property('code', 'SQLITE_BUSY');
        expect(Date.now() - started).to.be.within(250, 3000);
      } finally {
        await trx.rollback();
      }
      // The lock is free again: the same repository writes, and a duplicate is still a duplicate.
      const user = aPendingUser();
      await users.insertPending(user, drawing());
      await expectRejection(users.insertPending({ ...user, leaseId: unique('lease') }, drawing()), AccountExistsError);
    });
  });

  describe('on a PostgreSQL that goes down and freezes', function () {
    this.timeout(60_000);
    let pg: ThrowawayPostgres | undefined;
    let knex: Knex | undefined;
    const ACQUIRE_MS = 500;
    const QUERY_MS = 500;
    before(async function () {
      pg = await requireThrowawayPostgres(this);
      knex = createDatabase(pg.url, { acquireTimeoutMs: ACQUIRE_MS, queryTimeoutMs: QUERY_MS, poolMax: 4, log: QUIET });
      await migrateLatest(knex);
    });
    after(async function () {
      await knex?.destroy();
      await pg?.destroy();
    });

    it('fails every call with DatabaseUnavailableError while stopped, at once, and works again once restarted', async function () {
      const users = new KnexUserRepository(knex!);
      const jack = aPendingUser();
      await users.insertPending(jack, drawing());
      await pg!.stop();

      expectAllUnavailable(await callEverything(knex!), ACQUIRE_MS + 1000);

      await pg!.start();
      expect(await eventually(() => users.findByAccountKey(jack.accountKey))).to.have.property('accountKey', jack.accountKey);
      // A constraint violation after the outage is the caller's error again, not an outage.
      await expectRejection(users.insertPending({ ...jack, leaseId: unique('lease') }, drawing()), AccountExistsError);
    });

    it('fails every call with DatabaseUnavailableError within the timeouts while frozen, and works again once thawed', async function () {
      const users = new KnexUserRepository(knex!);
      const throttle = new KnexLoginThrottle(knex!);
      const jack = aPendingUser();
      await users.insertPending(jack, drawing());
      // Pooled connections that were fine a moment ago are the ones a frozen server leaves hanging.
      await Promise.all([users.findByAccountKey(jack.accountKey), throttle.reset('warm'), users.list({ limit: 1 })]);
      pg!.freeze();
      try {
        // A transaction may wait once for its statement and once for its rollback; nothing waits longer.
        expectAllUnavailable(await callEverything(knex!), ACQUIRE_MS + 2 * QUERY_MS + 1500);
      } finally {
        pg!.thaw();
      }
      expect(await eventually(() => users.findByAccountKey(jack.accountKey))).to.have.property('accountKey', jack.accountKey);
      expect(await eventually(() => throttle.claim([{ key: unique('key'), max: 3, windowSeconds: 60 }], T0))).to.deep.equal({ allowed: true });
    });
  });
});

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(type);
}

// The first success within 10 s: connections broken by the outage are replaced as they are found.
async function eventually<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function rowOf(user: ReturnType<typeof aPendingUser>) {
  return {
    account: user.account, account_key: user.accountKey, password_hash: user.passwordHash, chat_username: user.chatUsername, chat_uuid: null,
    status: 'pending', lease_id: user.leaseId, lease_expires_at: user.leaseExpiresAt.getTime(), creation_attempted_at: null,
    tokens_not_before: 0, created_at: user.now.getTime(), updated_at: user.now.getTime(),
  };
}
