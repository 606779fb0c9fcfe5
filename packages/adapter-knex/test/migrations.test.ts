import * as chai from 'chai';
import chaiAsPromised from 'chai-as-promised';
import { USER_STATUSES } from '@chat-app-server/core';
import { migrateLatest, migrateRollback } from '../src/index.js';
import { MIGRATIONS_TABLE } from '../src/migrate.js';
import { describeEachDialect, type TestDatabase } from '../src/testing/index.js';

chai.use(chaiAsPromised);
const { expect } = chai;

const ALL = ['0001-create-users', '0002-create-login-failures', '0003-create-channel-members'];

describeEachDialect('migrations', (dialect) => {
  let db: TestDatabase;
  beforeEach(async function () {
    db = await dialect.open();
  });
  afterEach(async function () {
    await db.teardown();
  });

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
    expect(Number((await db.knex('users').count({ n: '*' }).first())?.n)).to.equal(2);
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
