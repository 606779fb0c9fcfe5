import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { USER_STATUSES, type ChannelMember } from '@chat-app-server/core';
import { KnexChannelMemberStore, migrateLatest, migrateRollback } from '../src/index.js';
import { MIGRATIONS_TABLE } from '../src/migrate.js';
import { ChatAppServerMigrationSource } from '../src/migrations/migration-source.js';
import { describeEachDialect, type TestDatabase } from '../src/testing/index.js';
import { later, T0 } from './support/fixtures.js';

chai.use(chaiAsPromised);
const { expect } = chai;

const CHANNEL_MEMBERS_BY_PRIMARY_KEY = '0005-channel-members-by-primary-key';
const ALL = ['0001-create-users', '0002-create-login-failures', '0003-create-channel-members', '0004-account-lifecycle', CHANNEL_MEMBERS_BY_PRIMARY_KEY];
const MIGRATOR = { migrationSource: new ChatAppServerMigrationSource(), tableName: MIGRATIONS_TABLE };

describeEachDialect('migrations', (dialect) => {
  let db: TestDatabase;
  beforeEach(async function () {
    db = await dialect.open();
  });
  afterEach(async function () {
    await db.teardown();
  });
  // One migration at a time (the names run or reverted), to test each on the schema it follows.
  const up = async () => ((await db.knex.migrate.up(MIGRATOR)) as [number, string[]])[1];
  const down = async () => ((await db.knex.migrate.down(MIGRATOR)) as [number, string[]])[1];

  it('migrates up, down and up again, and a second migrateLatest runs nothing', async function () {
    const first = await migrateLatest(db.knex);
    const again = await migrateLatest(db.knex);
    const rolledBack = await migrateRollback(db.knex);
    const tablesAfterRollback = await Promise.all(['users', 'login_failures', 'channel_members'].map((t) => db.knex.schema.hasTable(t)));
    const reapplied = await migrateLatest(db.knex);

    expect(first).to.deep.equal(ALL);
    expect(again).to.deep.equal([]);
    expect(rolledBack).to.have.members(ALL);
    expect(tablesAfterRollback).to.deep.equal([false, false, false]);
    expect(reapplied).to.deep.equal(ALL);
    expect(await db.knex.schema.hasTable(MIGRATIONS_TABLE)).to.equal(true);
  });

  it('enforces the row invariants in the database itself', async function () {
    await migrateLatest(db.knex);
    const row = {
      account: 'A', account_key: 'a', password_hash: null, chat_username: 'a', chat_uuid: null, agora_uid: 7,
      status: 'pending', lease_id: 'l', lease_expires_at: 1, creation_attempted_at: null, created_at: 1, updated_at: 1,
    };
    const insert = (overrides: Partial<Record<keyof typeof row, unknown>>) => db.knex('users').insert({ ...row, ...overrides });

    await expect(insert({ status: 'deleted' })).to.be.rejected;
    await expect(insert({ status: 'active', lease_id: null })).to.be.rejected; // active without chat uuid
    await expect(insert({ lease_id: null })).to.be.rejected; // pending without lease
    await expect(insert({ agora_uid: 0 })).to.be.rejected;
    await expect(insert({ agora_uid: 2 ** 32 })).to.be.rejected;
    await insert({ agora_uid: 2 ** 32 - 1 });
    await expect(insert({ account_key: 'b', chat_username: 'b', agora_uid: 2 ** 32 - 1 })).to.be.rejected; // agora_uid is unique
    await expect(insert({ chat_username: 'b', agora_uid: 9 })).to.be.rejected; // account_key is unique
    await insert({ account_key: 'c', chat_username: 'c', agora_uid: 8, status: 'active', lease_id: null, lease_expires_at: null, chat_uuid: 'u' });
    await expect(insert({ account_key: 'd', chat_username: 'd', agora_uid: 10, status: 'disabled', lease_id: null })).to.be.rejected; // no chat uuid
    await expect(insert({ account_key: 'd', chat_username: 'd', agora_uid: 10, status: 'deleting' })).to.be.rejected; // deleting keeps no lease
    await insert({ account_key: 'd', chat_username: 'd', agora_uid: 10, status: 'disabled', lease_id: null, chat_uuid: 'ud' });
    await insert({ account_key: 'e', chat_username: 'e', agora_uid: 11, status: 'deleting', lease_id: null });
    expect(Number((await db.knex('users').count({ n: '*' }).first())?.n)).to.equal(4);
    expect((await db.knex('users').where('account_key', 'e').first())?.tokens_not_before).to.satisfy((v: unknown) => Number(v) === 0);
  });

  it('keeps existing users when adding the account lifecycle, and rolls it back only without disabled or deleting ones', async function () {
    for (let i = 0; i < 3; i += 1) await up();
    const row = {
      account: 'Jack', account_key: 'jack', password_hash: 'h', chat_username: 'jack', chat_uuid: 'u1', agora_uid: 7,
      status: 'active', lease_id: null, lease_expires_at: null, creation_attempted_at: 5, created_at: 1, updated_at: 2,
    };
    await db.knex('users').insert(row);
    expect(await up()).to.deep.equal(['0004-account-lifecycle']);
    const migrated = await db.knex('users').where('account_key', 'jack').first();
    expect({ ...migrated, agora_uid: Number(migrated.agora_uid), creation_attempted_at: Number(migrated.creation_attempted_at),
      created_at: Number(migrated.created_at), updated_at: Number(migrated.updated_at), tokens_not_before: Number(migrated.tokens_not_before) })
      .to.deep.include({ ...row, tokens_not_before: 0 });
    await expect(db.knex('users').insert({ ...row, account_key: 'jack2', chat_username: 'jack2', chat_uuid: 'u2', agora_uid: 8 })).to.be.fulfilled;
    await expect(db.knex('users').insert({ ...row, account_key: 'jack', chat_username: 'x', chat_uuid: 'u3', agora_uid: 9 })).to.be.rejected;

    await db.knex('users').where('account_key', 'jack2').update({ status: 'disabled' });
    await expect(down()).to.be.rejectedWith(/disabled and deleting accounts/);
    await db.knex('users').where('account_key', 'jack2').update({ status: 'active' });
    expect(await down()).to.deep.equal(['0004-account-lifecycle']);
    expect(await db.knex.schema.hasColumn('users', 'tokens_not_before')).to.equal(false);
    expect(await db.knex('users').orderBy('account_key').pluck('account_key')).to.deep.equal(['jack', 'jack2']);
    await expect(db.knex('users').insert({ ...row, account_key: 'z', chat_username: 'z', chat_uuid: 'uz', agora_uid: 99, status: 'disabled' })).to.be.rejected;
  });

  it('drops the (channel_name, expires_at) index of channel_members and, on SQLite, stores the table WITHOUT ROWID, keeping its rows; and goes back', async function () {
    const sqlite = dialect.name === 'sqlite';
    const INDEX = 'channel_members_channel_expires_at_index';
    const PRIMARY_KEY = sqlite ? 'sqlite_autoindex_channel_members_1' : 'channel_members_pkey';
    const indexes = async (): Promise<string[]> => dialect.name === 'postgres'
      ? (await db.knex.raw("select indexname from pg_indexes where schemaname = current_schema() and tablename = 'channel_members'")).rows.map((r: { indexname: string }) => r.indexname)
      : db.knex('sqlite_master').where({ type: 'index', tbl_name: 'channel_members' }).pluck('name');
    // SQLite: the table's and its indexes' definitions, its columns, and whether it is WITHOUT ROWID.
    const sqliteSchema = async () => ({
      entries: await db.knex('sqlite_master').where({ tbl_name: 'channel_members' }).orderBy('name').select('type', 'name', 'sql'),
      columns: await db.knex.raw("select name, type, \"notnull\", pk from pragma_table_info('channel_members') order by cid"),
      withoutRowid: Number((await db.knex.raw("select wr from pragma_table_list('channel_members')"))[0].wr) === 1,
    });
    const member = (agoraUid: number, expiresInMs: number, channelName = 'room'): ChannelMember =>
      ({ channelName, agoraUid, chatUsername: `u${agoraUid}`, expiresAt: later(T0, expiresInMs) });
    const store = new KnexChannelMemberStore(db.knex);
    const listed = async (at: Date, channel = 'room') => (await store.list(channel, at, 10)).map((m) => m.agoraUid);
    const stored = async (channel = 'room') =>
      (await db.knex('channel_members').where('channel_name', channel).orderBy('agora_uid').pluck('agora_uid')).map(Number);

    for (let i = 0; i < 4; i += 1) await up();
    await store.record([member(1, 60_000), member(2, 120_000)], { now: T0, maxPerChannel: 3 });
    expect(await indexes()).to.have.members([PRIMARY_KEY, INDEX, 'channel_members_expires_at_index']);
    const after0004 = sqlite ? await sqliteSchema() : undefined;
    const listedBefore = await store.list('room', later(T0, 1_000), 10);
    expect(listedBefore.map((m) => m.agoraUid)).to.deep.equal([2, 1]);
    if (after0004) {
      expect(after0004.withoutRowid).to.equal(false);
      await expect(db.knex.raw('select rowid from channel_members')).to.be.fulfilled;
    }

    expect(await up()).to.deep.equal([CHANNEL_MEMBERS_BY_PRIMARY_KEY]);
    // A WITHOUT ROWID table is its primary key's B-tree: SQLite lists no index for the key.
    expect(await indexes()).to.have.members(sqlite ? ['channel_members_expires_at_index'] : [PRIMARY_KEY, 'channel_members_expires_at_index']);
    if (after0004) {
      const migrated = await sqliteSchema();
      expect(migrated.withoutRowid).to.equal(true);
      expect(migrated.columns).to.deep.equal(after0004.columns); // names, types, NOT NULLs, primary key
      expect(migrated.entries.find((e: { type: string }) => e.type === 'table')?.sql).to.match(/\) without rowid$/i);
      await expect(db.knex.raw('select rowid from channel_members')).to.be.rejectedWith(/no such column: rowid/);
    }
    // The primary key and the NOT NULLs hold.
    await expect(db.knex('channel_members').insert({ channel_name: 'room', agora_uid: 1, chat_username: 'x', expires_at: 1 })).to.be.rejected;
    await expect(db.knex('channel_members').insert({ channel_name: 'room', agora_uid: 9, chat_username: null, expires_at: 1 })).to.be.rejected;
    await expect(db.knex('channel_members').insert({ channel_name: 'room', agora_uid: 9, chat_username: 'x', expires_at: null })).to.be.rejected;
    // Rows from before stay listed, every field; over the bound, the members expiring first go.
    expect(await store.list('room', later(T0, 1_000), 10)).to.deep.equal(listedBefore);
    await store.record([member(3, 180_000), member(4, 240_000), member(5, 30_000)], { now: later(T0, 1_000), maxPerChannel: 3 });
    expect(await listed(later(T0, 1_000))).to.deep.equal([4, 3, 2]);
    expect(await stored()).to.deep.equal([2, 3, 4]);
    expect(await listed(later(T0, 150_000))).to.deep.equal([4, 3]);
    // The sweep deletes the expired rows (member 2 expired at 120 s).
    await store.record([member(7, 400_000, 'hall')], { now: later(T0, 150_000), maxPerChannel: 3 });
    expect(await stored()).to.deep.equal([3, 4]);
    expect(await stored('hall')).to.deep.equal([7]);

    expect(await down()).to.deep.equal([CHANNEL_MEMBERS_BY_PRIMARY_KEY]);
    expect(await indexes()).to.have.members([PRIMARY_KEY, INDEX, 'channel_members_expires_at_index']);
    if (after0004) {
      expect(await sqliteSchema()).to.deep.equal(after0004);
      await expect(db.knex.raw('select rowid from channel_members')).to.be.fulfilled;
    }
    expect(await stored()).to.deep.equal([3, 4]);
    expect(await listed(later(T0, 2_000), 'hall')).to.deep.equal([7]);
    await store.record([member(6, 300_000)], { now: later(T0, 2_000), maxPerChannel: 3 });
    expect(await listed(later(T0, 2_000))).to.deep.equal([6, 4, 3]);
    expect(await up()).to.deep.equal([CHANNEL_MEMBERS_BY_PRIMARY_KEY]);
    expect(await indexes()).to.have.members(sqlite ? ['channel_members_expires_at_index'] : [PRIMARY_KEY, 'channel_members_expires_at_index']);
    if (sqlite) expect((await sqliteSchema()).withoutRowid).to.equal(true);
    expect(await listed(later(T0, 2_000))).to.deep.equal([6, 4, 3]);
  });

  // Migrations are history and keep their literals; this pins the status CHECK to core's one list, so a
  // status added in core without a migration that widens the CHECK fails here.
  it("allows exactly core's USER_STATUSES in users.status", async function () {
    await migrateLatest(db.knex);
    const definition = dialect.name === 'postgres'
      ? String((await db.knex.raw("select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'users_status_check'")).rows[0].def)
      : /users_status_check\W+check\s*\(([^)]*)\)/i.exec(String((await db.knex('sqlite_master').where({ name: 'users' }).first('sql')).sql))?.[1] ?? '';
    const allowed = [...definition.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(allowed).to.have.members([...USER_STATUSES]);
  });
});
