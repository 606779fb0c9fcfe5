import { expect } from 'chai';
import type { ChatProvisioner } from '../../ports/chat-provisioner.js';
import { eachTest, expectCode, uniqueName, type Teardown } from './kit-support.js';

export interface ChatProvisionerKitSubject extends Teardown {
  provisioner: ChatProvisioner;
  /**
   * Makes the chat service behind `provisioner` stop answering (requests hang) until teardown, to
   * check that calls keep to `provisioner.deadlineMs`.
   */
  hang(): void;
}

// Scheduling noise allowed past a declared deadline (timers, a busy machine): far below the lease margin.
const DEADLINE_SLACK_MS = 1000;

const name = () => uniqueName('kit_').toLowerCase();

/** The {@link ChatProvisioner} contract; usernames are unique per test, so one chat service can be shared. */
export function chatProvisionerContract(label: string, factory: () => Promise<ChatProvisionerKitSubject>): void {
  describe(`ChatProvisioner contract: ${label}`, function () {
    const subject = eachTest(factory);
    const provisioner = () => subject.get().provisioner;

    it('creates a user and reads it back with the same uuid', async function () {
      const username = name();
      const created = await provisioner().createUser(username, 'a-random-chat-password');
      expect(created.username).to.equal(username);
      expect(created.uuid).to.be.a('string').and.not.equal('');
      const found = await provisioner().getUser(username);
      expect(found?.username).to.equal(username);
      expect(found?.uuid).to.equal(created.uuid);
    });

    it('declares a deadline (deadlineMs) and keeps to it when the chat service stops answering', async function () {
      const { deadlineMs } = provisioner();
      expect(deadlineMs, 'deadlineMs').to.be.a('number');
      expect(deadlineMs! > 0 && Number.isFinite(deadlineMs), 'a positive, finite deadlineMs').to.equal(true);
      this.timeout(3 * (deadlineMs! + DEADLINE_SLACK_MS) + 5000);
      subject.get().hang();
      // The saga's calls: the creation, the batch creation, and the lookup of an adoption.
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['createUser', () => provisioner().createUser(name(), 'pw-random')],
        ['createUsers', () => provisioner().createUsers([{ username: name(), password: 'pw-random' }])],
        ['getUser', () => provisioner().getUser(name())],
      ];
      for (const [call, run] of calls) {
        const started = performance.now();
        await expectCode(run(), 'chat_service_unavailable');
        expect(performance.now() - started, `${call} settles within deadlineMs`).to.be.at.most(deadlineMs! + DEADLINE_SLACK_MS);
      }
    });

    it('reports an unknown user as undefined', async function () {
      expect(await provisioner().getUser(name())).to.equal(undefined);
    });

    it('refuses a second user with the same name with chat_user_exists', async function () {
      const username = name();
      const first = await provisioner().createUser(username, 'pw-1-random');
      const err = await expectCode(provisioner().createUser(username, 'pw-2-random'), 'chat_user_exists');
      expect(err).to.have.property('afterUnknownOutcome', false);
      expect((await provisioner().getUser(username))?.uuid).to.equal(first.uuid);
    });

    it('refuses names outside Agora\'s rules with invalid_chat_username', async function () {
      for (const bad of ['UPPER', 'with space', 'a'.repeat(65), 'ü']) {
        await expectCode(provisioner().createUser(bad, 'pw-random'), 'invalid_chat_username');
      }
    });

    it('deletes a user, and reports an unknown one as false', async function () {
      const username = name();
      await provisioner().createUser(username, 'pw-random');
      expect(await provisioner().deleteUser(username)).to.equal(true);
      expect(await provisioner().getUser(username)).to.equal(undefined);
      expect(await provisioner().deleteUser(username)).to.equal(false);
    });

    it('deactivates and activates a user, and reports an unknown one as false', async function () {
      const username = name();
      await provisioner().createUser(username, 'pw-random');
      expect(await provisioner().deactivateUser(username)).to.equal(true);
      expect(await provisioner().deactivateUser(username)).to.equal(true);
      expect(await provisioner().activateUser(username)).to.equal(true);
      expect(await provisioner().getUser(username)).to.have.property('username', username);
      expect(await provisioner().deactivateUser(name())).to.equal(false);
      expect(await provisioner().activateUser(name())).to.equal(false);
    });

    it('forces a user offline, also a deactivated one, and reports an unknown one as false', async function () {
      const username = name();
      await provisioner().createUser(username, 'pw-random');
      expect(await provisioner().forceOffline(username)).to.equal(true);
      await provisioner().deactivateUser(username);
      expect(await provisioner().forceOffline(username)).to.equal(true);
      expect(await provisioner().forceOffline(name())).to.equal(false);
    });

    it('deletes a deactivated user', async function () {
      const username = name();
      await provisioner().createUser(username, 'pw-random');
      await provisioner().deactivateUser(username);
      expect(await provisioner().deleteUser(username)).to.equal(true);
      expect(await provisioner().getUser(username)).to.equal(undefined);
    });

    it('creates users in a batch and reports each failure', async function () {
      const existing = name();
      await provisioner().createUser(existing, 'pw-random');
      const fresh = [name(), name()];
      const result = await provisioner().createUsers([
        { username: fresh[0]!, password: 'pw-a-random' },
        { username: existing, password: 'pw-b-random' },
        { username: fresh[1]!, password: 'pw-c-random' },
      ]);
      expect(result.created.map((u) => u.username).sort()).to.deep.equal([...fresh].sort());
      expect(result.failed.map((f) => [f.username, f.code, f.afterUnknownOutcome])).to.deep.equal([[existing, 'chat_user_exists', false]]);
      for (const username of fresh) expect(await provisioner().getUser(username)).to.have.property('username', username);
    });

    it('reports a name outside Agora\'s rules in a batch as invalid_chat_username, creating the others', async function () {
      const fresh = name();
      const result = await provisioner().createUsers([
        { username: 'Not Legal', password: 'pw-a-random' },
        { username: fresh, password: 'pw-b-random' },
      ]);
      expect(result.created.map((u) => u.username)).to.deep.equal([fresh]);
      expect(result.failed.map((f) => [f.username, f.code])).to.deep.equal([['Not Legal', 'invalid_chat_username']]);
    });
  });
}
