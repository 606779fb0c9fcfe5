import { expect } from 'chai';
import {
  ChatServiceMisconfiguredError, ChatServiceUnavailableError, type ImportUsersResult, type ProvisionChatUsersProgress,
  type ProvisionChatUsersResult,
} from '../src/index.js';
import { aTestCore, CHEAP_SCRYPT_PARAMETERS, type TestCore } from '../src/testing/index.js';
import { ScryptPasswordHasher } from '../src/adapters/scrypt-password-hasher.js';

const accounts = (n: number, prefix = 'user') => Array.from({ length: n }, (_, i) => ({ account: `${prefix}${i}` }));
const statuses = (results: ReadonlyArray<{ status: string }>) =>
  results.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
const codeOf = (r: ProvisionChatUsersResult | undefined) => (r?.status === 'failed' ? (r.error as { code?: string }).code : undefined);

describe('ProvisionChatUsers (batch provisioning)', function () {
  it('creates chat users in batches of at most 60 and returns every principal, reporting progress', async function () {
    const rig = aTestCore();
    const seen: ProvisionChatUsersProgress[] = [];
    const results = await rig.core.provisionChatUsers.execute(accounts(130), { onProgress: (p) => seen.push(p) });
    expect(statuses(results)).to.deep.equal({ created: 130 });
    expect(rig.chat.calls.createBatch).to.equal(3);
    expect(rig.chat.calls.create).to.equal(0);
    for (const [i, result] of results.entries()) {
      expect(result).to.include({ index: i, account: `user${i}`, status: 'created' });
      const row = rig.users.all().find((u) => u.accountKey === `user${i}`);
      expect(row).to.deep.include({ status: 'active', passwordHash: null });
      if (result.status === 'created') expect(result.principal?.chatUuid).to.equal(rig.chat.users.get(row!.chatUsername)?.uuid);
    }
    expect(seen.map((p) => p.done)).to.deep.equal([...seen.map((p) => p.done)].sort((a, b) => a - b));
    expect(seen.at(-1)).to.include({ total: 130, done: 130, created: 130, failed: 0 });
  });

  it('changes nothing when run again: every account is present', async function () {
    const rig = aTestCore();
    const first = await rig.core.provisionChatUsers.execute(accounts(70));
    const before = JSON.stringify(rig.users.all());
    const again = await rig.core.provisionChatUsers.execute(accounts(70));
    expect(statuses(again)).to.deep.equal({ present: 70 });
    expect(rig.chat.calls.createBatch).to.equal(2);
    expect(JSON.stringify(rig.users.all())).to.equal(before);
    expect(again.map((r) => r.status !== 'failed' && r.principal)).to.deep.equal(first.map((r) => r.status !== 'failed' && r.principal));
  });

  it('never adopts a stranger\'s chat user, refuses bad names, and goes on with the others', async function () {
    const rig = aTestCore();
    rig.chat.addForeignUser('taken');
    const results = await rig.core.provisionChatUsers.execute([
      { account: 'taken' }, { account: 'fine' }, { account: ' padded' }, { account: 'named', chatUsername: 'Not Valid' },
      { account: 'custom', chatUsername: 'custom.name' },
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['failed', 'created', 'failed', 'failed', 'created']);
    expect(results.map(codeOf)).to.deep.equal(['chat_username_taken', undefined, 'invalid_request', 'invalid_request', undefined]);
    expect(rig.users.all().map((u) => [u.accountKey, u.chatUsername, u.status])).to.have.deep.members([
      ['fine', 'fine', 'active'], ['custom', 'custom.name', 'active'],
    ]);
  });

  it('leaves a failed batch for the next run, which creates every user once', async function () {
    const rig = aTestCore();
    rig.chat.failNextCreate(new ChatServiceUnavailableError());
    const failed = await rig.core.provisionChatUsers.execute(accounts(5));
    expect(failed.map(codeOf)).to.deep.equal(Array(5).fill('chat_service_unavailable'));
    for (const row of rig.users.all()) {
      expect(row.status).to.equal('pending');
      expect(row.leaseExpiresAt!.getTime()).to.be.at.most(rig.clock.now());
    }
    const again = await rig.core.provisionChatUsers.execute(accounts(5));
    expect(statuses(again)).to.deep.equal({ created: 5 });
    expect(rig.chat.users.size).to.equal(5);
  });

  it('adopts the chat users of a batch whose answer was lost', async function () {
    const rig = aTestCore();
    rig.chat.loseNextCreateAnswer();
    await rig.core.provisionChatUsers.execute(accounts(3));
    expect(rig.chat.users.size).to.equal(3);
    expect(rig.users.all().every((u) => u.status === 'pending')).to.equal(true);
    const again = await rig.core.provisionChatUsers.execute(accounts(3));
    expect(statuses(again)).to.deep.equal({ adopted: 3 });
    for (const row of rig.users.all()) expect(row.chatUuid).to.equal(rig.chat.users.get(row.chatUsername)?.uuid);
    expect(rig.chat.users.size).to.equal(3);
  });

  it('waits for a row that another attempt holds, and finishes it once that lease ends', async function () {
    const rig = aTestCore();
    await rig.users.insertPending({
      account: 'held', accountKey: 'held', passwordHash: null, chatUsername: 'held', leaseId: 'other-run',
      leaseExpiresAt: new Date(rig.clock.now() + 1000), now: new Date(rig.clock.now()),
    }, () => 7);
    setTimeout(() => rig.clock.advance(2000), 100);
    const results = await rig.core.provisionChatUsers.execute([{ account: 'held' }, { account: 'free' }]);
    expect(results.map((r) => r.status)).to.deep.equal(['created', 'created']);
    expect(rig.users.all().find((u) => u.accountKey === 'held')).to.deep.include({ status: 'active', agoraUid: 7 });
  });

  it('stops at an abort between batches, leaving no half-done account', async function () {
    const rig = aTestCore();
    const controller = new AbortController();
    const settled: ProvisionChatUsersResult[] = [];
    const run = rig.core.provisionChatUsers.execute(accounts(200), {
      batchSize: 10, concurrency: 1, signal: controller.signal,
      onResult: (r) => {
        settled.push(r);
        if (settled.length === 25) controller.abort(new Error('stopped by the operator'));
      },
    });
    let error: unknown;
    await run.catch((err: unknown) => { error = err; });
    expect(error).to.have.property('message', 'stopped by the operator');
    expect(settled).to.have.length(30);
    expect(rig.users.all()).to.have.length(30);
    expect(rig.users.all().every((u) => u.status === 'active')).to.equal(true);
    const rest = await rig.core.provisionChatUsers.execute(accounts(200));
    expect(statuses(rest)).to.deep.equal({ present: 30, created: 170 });
  });

  it('checks everything and changes nothing in a dry run', async function () {
    const rig = aTestCore();
    await rig.core.provisionChatUsers.execute([{ account: 'old' }]);
    rig.chat.addForeignUser('stranger');
    const before = JSON.stringify(rig.users.all());
    const results = await rig.core.provisionChatUsers.execute(
      [{ account: 'old' }, { account: 'new' }, { account: 'stranger' }, { account: '' }], { dryRun: true },
    );
    expect(results.map((r) => r.status)).to.deep.equal(['present', 'created', 'failed', 'failed']);
    expect(results.map(codeOf)).to.deep.equal([undefined, undefined, 'chat_username_taken', 'invalid_request']);
    expect(results[1]).to.have.property('principal', undefined);
    expect(JSON.stringify(rig.users.all())).to.equal(before);
    expect(rig.chat.calls.createBatch).to.equal(1);
  });

  it('gives an account listed twice one result, and refuses it with two different chat usernames', async function () {
    const rig = aTestCore();
    const results = await rig.core.provisionChatUsers.execute([
      { account: 'Twice' }, { account: 'twice' }, { account: 'odd', chatUsername: 'odd.a' }, { account: 'ODD', chatUsername: 'odd.b' },
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['created', 'created', 'created', 'failed']);
    expect(results[1]).to.include({ account: 'twice' });
    expect(codeOf(results[3])).to.equal('invalid_request');
    expect(rig.chat.users.size).to.equal(2);
  });
});

describe('ImportUsers (users whose chat users exist)', function () {
  const importOf = (rig: TestCore, items: Parameters<TestCore['core']['importUsers']['execute']>[0], options = {}) =>
    rig.core.importUsers.execute(items, options);
  const reasonOf = (r: ImportUsersResult | undefined) => (r?.status === 'failed' ? r.reason : undefined);

  it('adopts the chat user, keeps the uid and the old (short, non-ASCII) password', async function () {
    const rig = aTestCore();
    const chat = rig.chat.addForeignUser('jack');
    const [result] = await importOf(rig, [{ account: 'Jack', password: 'pä', chatUsername: 'Jack', chatUuid: chat.uuid, agoraUid: 4_000_000_000 }]);
    expect(result).to.deep.include({ status: 'imported', agoraUidRedrawn: false });
    const row = rig.users.all()[0]!;
    expect(row).to.deep.include({ account: 'Jack', accountKey: 'jack', chatUsername: 'jack', chatUuid: chat.uuid, agoraUid: 4_000_000_000, status: 'active' });
    expect(await rig.hasher.verify(row.passwordHash!, 'pä')).to.equal(true);
    expect(rig.chat.calls.get).to.equal(0);
    const login = await rig.core.loginUser.execute({ account: 'jack', password: 'pä' });
    expect(login.principal.chatUsername).to.equal('jack');
  });

  it('looks up chat users without a uuid, and reports those missing at the chat service', async function () {
    const rig = aTestCore();
    const found = rig.chat.addForeignUser('found');
    const results = await importOf(rig, [
      { account: 'found', password: 'pw', chatUsername: 'found' },
      { account: 'ghost', password: 'pw', chatUsername: 'ghost' },
    ]);
    expect(results[0]).to.include({ status: 'imported' });
    expect(rig.users.all()[0]?.chatUuid).to.equal(found.uuid);
    expect(reasonOf(results[1])).to.equal('chat_user_missing');
  });

  it('with verify, confirms the uuid at the chat service', async function () {
    const rig = aTestCore();
    const a = rig.chat.addForeignUser('a');
    rig.chat.addForeignUser('b');
    const results = await importOf(rig, [
      { account: 'a', password: 'pw', chatUsername: 'a', chatUuid: a.uuid },
      { account: 'b', password: 'pw', chatUsername: 'b', chatUuid: 'not-the-uuid' },
    ], { verify: true });
    expect(results.map((r) => r.status)).to.deep.equal(['imported', 'failed']);
    expect(reasonOf(results[1])).to.equal('chat_uuid_mismatch');
    expect(rig.chat.calls.get).to.equal(2);
  });

  it('changes and looks up nothing when run again', async function () {
    const rig = aTestCore();
    rig.chat.addForeignUser('a');
    const items = [{ account: 'a', password: 'pw', chatUsername: 'a' }];
    await importOf(rig, items);
    const before = JSON.stringify(rig.users.all());
    const lookups = rig.chat.calls.get;
    const again = await importOf(rig, items);
    expect(again[0]).to.include({ status: 'present' });
    expect(JSON.stringify(rig.users.all())).to.equal(before);
    expect(rig.chat.calls.get).to.equal(lookups);
  });

  it('refuses an account that is someone else here, a chat user another account holds, and bad input', async function () {
    const rig = aTestCore();
    await rig.core.registerUser.execute({ account: 'local', password: 'password1' });
    const other = rig.chat.addForeignUser('other');
    const results = await importOf(rig, [
      { account: 'LOCAL', password: 'pw', chatUsername: 'someone', chatUuid: 'u-1' },
      { account: 'newcomer', password: 'pw', chatUsername: 'local', chatUuid: 'u-2' },
      { account: '', password: 'pw', chatUsername: 'x', chatUuid: 'u-3' },
      { account: 'nopass', password: '', chatUsername: 'other', chatUuid: other.uuid },
      { account: 'badname', password: 'pw', chatUsername: 'bad name', chatUuid: 'u-4' },
    ]);
    expect(results.map(reasonOf)).to.deep.equal(['account_exists', 'chat_user_taken', 'invalid_account', 'invalid_password', 'invalid_chat_username']);
    expect(rig.users.all()).to.have.length(1);
  });

  it('draws a new uid when the kept one is taken, and says so', async function () {
    const rig = aTestCore({ drawAgoraUid: () => 99 });
    rig.chat.addForeignUser('a');
    rig.chat.addForeignUser('b');
    const results = await importOf(rig, [{ account: 'a', password: 'pw', chatUsername: 'a', agoraUid: 5 }]);
    const [second] = await importOf(rig, [{ account: 'b', password: 'pw', chatUsername: 'b', agoraUid: 5 }]);
    expect(results[0]).to.include({ status: 'imported', agoraUidRedrawn: false });
    expect(second).to.include({ status: 'imported', agoraUidRedrawn: true });
    expect(rig.users.all().map((u) => u.agoraUid)).to.deep.equal([5, 99]);
  });

  it('stores and hashes nothing in a dry run', async function () {
    let hashes = 0;
    const hasher = new ScryptPasswordHasher({ parameters: CHEAP_SCRYPT_PARAMETERS });
    const rig = aTestCore({ passwordHasher: { ...hasher, hash: async (p: string) => { hashes++; return hasher.hash(p); }, verify: hasher.verify.bind(hasher), needsRehash: hasher.needsRehash.bind(hasher) } });
    rig.chat.addForeignUser('a');
    const results = await importOf(rig, [{ account: 'a', password: 'pw', chatUsername: 'a' }, { account: 'b', password: 'pw', chatUsername: 'b' }], { dryRun: true });
    expect(results.map((r) => r.status)).to.deep.equal(['imported', 'failed']);
    expect(rig.users.all()).to.have.length(0);
    expect(hashes).to.equal(0);
  });

  it('reports lookups that fail, and stops for credentials the chat service rejects', async function () {
    const rig = aTestCore();
    rig.chat.getUser = async () => { throw new ChatServiceUnavailableError(); };
    const [result] = await importOf(rig, [{ account: 'a', password: 'pw', chatUsername: 'a' }]);
    expect(reasonOf(result)).to.equal('chat_service_unavailable');
    rig.chat.getUser = async () => { throw new ChatServiceMisconfiguredError('bad credentials'); };
    let error: unknown;
    await importOf(rig, [{ account: 'a', password: 'pw', chatUsername: 'a' }]).catch((err: unknown) => { error = err; });
    expect(error).to.have.property('code', 'chat_service_misconfigured');
  });
});
