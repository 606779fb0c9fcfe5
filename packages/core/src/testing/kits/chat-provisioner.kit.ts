import { expect } from 'chai';
import type { ChatProvisioner } from '../../ports/chat-provisioner.js';
import { eachTest, expectCode, uniqueName, type Teardown } from './kit-support.js';

export interface ChatProvisionerKitSubject extends Teardown {
  provisioner: ChatProvisioner;
}

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
