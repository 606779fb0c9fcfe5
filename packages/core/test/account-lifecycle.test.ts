import { expect } from 'chai';
import { ChatServiceUnavailableError, createCore } from '../src/index.js';
import { aTestCore, expectCode, type TestCore } from '../src/testing/index.js';

const PASSWORD = 'password1';

async function withUser(rig: TestCore = aTestCore(), account = 'jack') {
  // Mid-second, so that "the same second" below is a real window.
  rig.clock.set(Date.UTC(2026, 0, 1, 12, 0, 0) + 400);
  await rig.core.registerUser.execute({ account, password: PASSWORD });
  const login = await rig.core.loginUser.execute({ account, password: PASSWORD });
  return { ...rig, bearer: login.chatToken.token, row: () => rig.users.all().find((u) => u.accountKey === account) };
}

/** A second server instance on the same database: its own principal cache, same repository and chat service. */
function secondInstance(rig: TestCore) {
  return createCore({
    users: rig.users, chatProvisioner: rig.chat, tokens: rig.tokens, clock: rig.clock, passwordHasher: rig.hasher,
    principalCache: new Map(), principalCacheTtlSeconds: 60,
  });
}

describe('ChangePassword', function () {
  it('returns a valid fresh token, revokes older bearers (also from the same second) and swaps the password', async function () {
    const { core, clock, tokens, bearer, row } = await withUser();
    clock.advance(300); // same second as the login token
    const changed = await core.changePassword.execute({ chatToken: bearer, currentPassword: PASSWORD, newPassword: 'password2' });
    const second = Math.floor(clock.now() / 1000);
    expect(row()?.tokensNotBefore).to.equal(second + 1);
    expect(tokens.decode(changed.chatToken.token).iat).to.equal(second + 1);
    expect(changed.chatToken.expireTimestamp).to.equal((second + 1 + 86400) * 1000);
    expect(changed.principal).to.include({ chatUsername: 'jack', agoraUid: row()?.agoraUid });
    expect((await core.verifyChatToken.execute(changed.chatToken.token)).accountKey).to.equal('jack');
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
    await expectCode(core.renewToken.execute({ chatToken: bearer }), 'unauthenticated');
    await expectCode(core.loginUser.execute({ account: 'jack', password: PASSWORD }), 'invalid_credentials');
    const login = await core.loginUser.execute({ account: 'jack', password: 'password2' });
    expect((await core.verifyChatToken.execute(login.chatToken.token)).accountKey).to.equal('jack');
  });

  it('ends the chat sessions, and still succeeds when the chat service cannot', async function () {
    const { core, chat, bearer } = await withUser();
    const first = await core.changePassword.execute({ chatToken: bearer, currentPassword: PASSWORD, newPassword: 'password2' });
    expect(chat.disconnects).to.deep.equal(['jack']);
    chat.failNext('forceOffline');
    await core.changePassword.execute({ chatToken: first.chatToken.token, currentPassword: 'password2', newPassword: 'password3' });
    await core.loginUser.execute({ account: 'jack', password: 'password3' });
  });

  it('counts a wrong current password as a failed login', async function () {
    const { core, bearer } = await withUser(aTestCore({ loginLimits: { maxFailures: 3, maxFailuresPerAccount: 100, windowSeconds: 60 } }));
    for (let i = 0; i < 3; i++) {
      await expectCode(core.changePassword.execute({ chatToken: bearer, currentPassword: 'wrong-one', newPassword: 'password2' }), 'invalid_credentials');
    }
    await expectCode(core.changePassword.execute({ chatToken: bearer, currentPassword: PASSWORD, newPassword: 'password2' }), 'too_many_attempts');
    await expectCode(core.loginUser.execute({ account: 'jack', password: PASSWORD }), 'too_many_attempts');
  });

  it('applies the registration rules to the new password and changes nothing on bad input', async function () {
    const { core, bearer, row } = await withUser();
    const hash = row()?.passwordHash;
    for (const newPassword of ['short', '', 'x'.repeat(1025)]) {
      const err = await expectCode(core.changePassword.execute({ chatToken: bearer, currentPassword: PASSWORD, newPassword }), 'invalid_request');
      expect(err).to.have.property('field', 'newPassword');
    }
    expect(row()).to.include({ passwordHash: hash, tokensNotBefore: 0 });
    await expectCode(core.changePassword.execute({ chatToken: 'garbage', currentPassword: PASSWORD, newPassword: 'password2' }), 'unauthenticated');
  });

  it('lets only one of two concurrent changes with one bearer win', async function () {
    const { core, bearer } = await withUser();
    const results = await Promise.allSettled(['password2', 'password3'].map((newPassword) =>
      core.changePassword.execute({ chatToken: bearer, currentPassword: PASSWORD, newPassword })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed?.status === 'rejected' && failed.reason).to.have.property('code', 'unauthenticated');
  });
});

describe('RevokeTokens (log out everywhere)', function () {
  it('revokes every token issued so far, forces the chat user offline, and a login in the same second works', async function () {
    const { core, clock, chat, bearer } = await withUser();
    const rtc = await core.issueRtcToken.execute({ principal: await core.verifyChatToken.execute(bearer), channelName: 'room', role: 'subscriber' });
    await core.revokeTokens.execute({ chatToken: bearer });
    expect(chat.disconnects).to.deep.equal(['jack']);
    for (const token of [bearer, rtc.token]) await expectCode(core.verifyChatToken.execute(token), 'unauthenticated');
    clock.advance(100);
    const again = await core.loginUser.execute({ account: 'jack', password: PASSWORD });
    expect((await core.verifyChatToken.execute(again.chatToken.token)).accountKey).to.equal('jack');
    await expectCode(core.revokeTokens.execute({ chatToken: bearer }), 'unauthenticated');
  });
});

describe('Revocation across instances', function () {
  it('another instance refuses a revoked bearer once its cache entry expires, and what it minted meanwhile too', async function () {
    const rig = await withUser();
    const { core: a, clock, bearer } = rig;
    const b = secondInstance(rig);
    const principalOnB = await b.verifyChatToken.execute(bearer);
    clock.advance(2000);
    await a.revokeTokens.execute({ chatToken: bearer });
    await expectCode(a.verifyChatToken.execute(bearer), 'unauthenticated');

    clock.advance(1000);
    // Within the cache lifetime B still serves the bearer; the token it mints is dated when B last knew.
    const minted = await b.issueRtcToken.execute({ principal: await b.verifyChatToken.execute(bearer), channelName: 'room', role: 'subscriber' });
    expect(rig.tokens.decode(minted.token).iat).to.equal(Math.floor(principalOnB.knownAt / 1000));
    // A renewal reads afresh and is refused at once.
    await expectCode(b.renewToken.execute({ chatToken: bearer }), 'unauthenticated');

    clock.advance(60_000);
    await expectCode(b.verifyChatToken.execute(bearer), 'unauthenticated');
    await expectCode(b.verifyChatToken.execute(minted.token), 'unauthenticated');
  });

  it('another instance accepts the fresh token of a password change and what it mints from it', async function () {
    const rig = await withUser();
    const b = secondInstance(rig);
    await b.verifyChatToken.execute(rig.bearer);
    const changed = await rig.core.changePassword.execute({ chatToken: rig.bearer, currentPassword: PASSWORD, newPassword: 'password2' });
    const minted = await b.issueRtcToken.execute({ principal: await b.verifyChatToken.execute(changed.chatToken.token), channelName: 'room', role: 'subscriber' });
    rig.clock.advance(61_000);
    await expectCode(b.verifyChatToken.execute(rig.bearer), 'unauthenticated');
    for (const token of [changed.chatToken.token, minted.token]) {
      expect((await b.verifyChatToken.execute(token)).accountKey).to.equal('jack');
    }
  });
});

describe('DeleteAccount', function () {
  it('deletes the chat user and then the row; the account can be registered again', async function () {
    const { core, chat, users, bearer } = await withUser();
    await core.deleteAccount.execute({ chatToken: bearer, password: PASSWORD });
    expect(chat.users.has('jack')).to.equal(false);
    expect(chat.disconnects).to.deep.equal(['jack']);
    expect(users.all()).to.have.length(0);
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
    await core.registerUser.execute({ account: 'jack', password: 'password9' });
    expect(chat.users.has('jack')).to.equal(true);
  });

  it('needs the right password, counted as a login failure, and deletes nothing without it', async function () {
    const { core, users, bearer } = await withUser();
    await expectCode(core.deleteAccount.execute({ chatToken: bearer, password: 'wrong-one' }), 'invalid_credentials');
    await expectCode(core.deleteAccount.execute({ chatToken: bearer, password: '' }), 'invalid_request');
    expect(users.all()[0]?.status).to.equal('active');
  });

  for (const step of ['forceOffline', 'delete'] as const) {
    it(`keeps the account unusable when the chat service fails at ${step}, and finishes on the next attempt`, async function () {
      const { core, chat, users, bearer } = await withUser();
      chat.failNext(step, 1, new ChatServiceUnavailableError(undefined, { retryAfterSeconds: 7 }));
      const err = await expectCode(core.deleteAccount.execute({ chatToken: bearer, password: PASSWORD }), 'chat_service_unavailable');
      expect(err).to.have.property('retryAfterSeconds', 7);
      expect(users.all()[0]?.status).to.equal('deleting');
      expect(chat.users.has('jack')).to.equal(true);
      await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
      await expectCode(core.loginUser.execute({ account: 'jack', password: PASSWORD }), 'invalid_credentials');
      await expectCode(core.registerUser.execute({ account: 'jack', password: PASSWORD }), 'account_exists');
      await core.deleteAccount.execute({ chatToken: bearer, password: PASSWORD });
      expect(users.all()).to.have.length(0);
      expect(chat.users.has('jack')).to.equal(false);
    });
  }

  it('is finished by the server itself when the client does not come back', async function () {
    const { core, chat, users, bearer } = await withUser();
    chat.failNext('delete', 2);
    await expectCode(core.deleteAccount.execute({ chatToken: bearer, password: PASSWORD }), 'chat_service_unavailable');
    expect(await core.accountDeletion.finishPending({ olderThanMs: 1000 })).to.deep.equal({ finished: 0, failed: 0 });
    expect(await core.accountDeletion.finishPending()).to.deep.equal({ finished: 0, failed: 1 });
    expect(users.all()[0]?.status).to.equal('deleting');
    expect(await core.accountDeletion.finishPending()).to.deep.equal({ finished: 1, failed: 0 });
    expect(users.all()).to.have.length(0);
    expect(chat.users.size).to.equal(0);
  });

  it('keeps the row when the local delete fails after the chat user is gone, and finishes later', async function () {
    const { core, chat, users, bearer } = await withUser();
    users.failNext.deleteDeleting = new Error('the database is down');
    let error: unknown;
    await core.deleteAccount.execute({ chatToken: bearer, password: PASSWORD }).catch((err: unknown) => { error = err; });
    expect(error).to.have.property('message', 'the database is down');
    expect(chat.users.has('jack')).to.equal(false);
    expect(users.all()[0]?.status).to.equal('deleting');
    await core.accountDeletion.finishPending();
    expect(users.all()).to.have.length(0);
  });
});

describe('AdministerAccounts', function () {
  it('names accounts as register and login do: fullwidth forms are the account, invisible characters a 400 naming the field', async function () {
    const { core, users } = await withUser();
    expect((await core.administerAccounts.show('ＪＡＣＫ')).accountKey).to.equal('jack');
    const err = await expectCode(core.administerAccounts.disable('ja\u200Bck'), 'invalid_request');
    expect(err).to.include({ field: 'account' }).and.have.property('message').that.includes('U+200B');
    await expectCode(core.provisionChatUser.execute({ account: 'ja\u200Bck' }), 'invalid_request');
    expect((await core.provisionChatUser.execute({ account: 'ｊａｃｋ' })).accountKey).to.equal('jack');
    expect(users.all().map((u) => [u.accountKey, u.status])).to.deep.equal([['jack', 'active']]);
  });

  it('disables: no login, no tokens, deactivated and offline at the chat service; enable restores login only', async function () {
    const { core, chat, bearer } = await withUser();
    const disabled = await core.administerAccounts.disable('JACK');
    expect(disabled.status).to.equal('disabled');
    expect(chat.deactivated.has('jack')).to.equal(true);
    expect(chat.disconnects).to.deep.equal(['jack']);
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
    await expectCode(core.loginUser.execute({ account: 'jack', password: PASSWORD }), 'forbidden');
    await expectCode(core.provisionChatUser.execute({ account: 'jack' }), 'forbidden');

    expect((await core.administerAccounts.enable('jack')).status).to.equal('active');
    expect(chat.deactivated.has('jack')).to.equal(false);
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
    const login = await core.loginUser.execute({ account: 'jack', password: PASSWORD });
    expect((await core.verifyChatToken.execute(login.chatToken.token)).accountKey).to.equal('jack');
  });

  it('disables locally even when the chat service is down, and a second run catches the chat service up', async function () {
    const { core, chat, users } = await withUser();
    chat.failNext('deactivate');
    await expectCode(core.administerAccounts.disable('jack'), 'chat_service_unavailable');
    expect(users.all()[0]?.status).to.equal('disabled');
    expect(chat.deactivated.has('jack')).to.equal(false);
    await core.administerAccounts.disable('jack');
    expect(chat.deactivated.has('jack')).to.equal(true);
  });

  it('keeps the account disabled when the chat service cannot reactivate it', async function () {
    const { core, chat, users } = await withUser();
    await core.administerAccounts.disable('jack');
    chat.failNext('activate');
    await expectCode(core.administerAccounts.enable('jack'), 'chat_service_unavailable');
    expect(users.all()[0]?.status).to.equal('disabled');
  });

  it('revokes, shows, lists by status and deletes; unknown accounts are account_not_found', async function () {
    const rig = await withUser();
    await rig.core.registerUser.execute({ account: 'Amy', password: PASSWORD });
    const { core, bearer, clock } = rig;
    const revoked = await core.administerAccounts.revoke('jack');
    expect(revoked.tokensNotBefore).to.equal(Math.floor(clock.now() / 1000) + 1);
    await expectCode(core.verifyChatToken.execute(bearer), 'unauthenticated');
    expect(await core.administerAccounts.show('Jack')).to.deep.equal(revoked);
    await core.administerAccounts.disable('amy');
    expect((await core.administerAccounts.list()).map((u) => u.account)).to.deep.equal(['Amy', 'jack']);
    expect((await core.administerAccounts.list({ status: 'disabled' })).map((u) => u.account)).to.deep.equal(['Amy']);
    await core.administerAccounts.delete('amy');
    expect((await core.administerAccounts.list()).map((u) => u.account)).to.deep.equal(['jack']);
    for (const call of [core.administerAccounts.show('nobody'), core.administerAccounts.disable('nobody'),
      core.administerAccounts.enable('nobody'), core.administerAccounts.revoke('nobody'), core.administerAccounts.delete('nobody')]) {
      await expectCode(call, 'account_not_found');
    }
    await expectCode(core.administerAccounts.list({ status: 'gone' as never }), 'invalid_request');
  });

  it('deletes the chat user of an imported account (active without a creation attempt of its own)', async function () {
    const { core, chat, users, clock } = aTestCore();
    const chatUser = chat.addForeignUser('imported');
    await users.insertActive({
      account: 'Imported', accountKey: 'imported', passwordHash: null, chatUsername: 'imported', chatUuid: chatUser.uuid, now: new Date(clock.now()),
    }, () => 9);
    await core.administerAccounts.delete('imported');
    expect(chat.users.has('imported')).to.equal(false);
    expect(users.all()).to.have.length(0);
  });

  it('deletes an abandoned registration but not one in flight', async function () {
    const { core, chat, users, leaseSeconds } = aTestCore();
    chat.failNextCreate();
    await expectCode(core.registerUser.execute({ account: 'amy', password: PASSWORD }), 'chat_service_unavailable');
    await core.administerAccounts.delete('amy');
    expect(users.all()).to.have.length(0);

    const rig = aTestCore();
    await rig.users.insertPending({
      account: 'bob', accountKey: 'bob', passwordHash: null, chatUsername: 'bob', leaseId: 'l1',
      leaseExpiresAt: new Date(rig.clock.now() + leaseSeconds * 1000), now: new Date(rig.clock.now()),
    }, () => 5);
    await expectCode(rig.core.administerAccounts.delete('bob'), 'chat_service_unavailable');
    await expectCode(rig.core.administerAccounts.enable('bob'), 'account_state_conflict');
    rig.clock.advance(leaseSeconds * 1000);
    await rig.core.administerAccounts.delete('bob');
    expect(rig.users.all()).to.have.length(0);
  });
});
