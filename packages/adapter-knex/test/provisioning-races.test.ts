import { createCore, SystemClock, type ChatProvisioner, type Core } from '@chat-app-server/core';
import { FakeChatProvisioner, FakeTokenIssuer } from '@chat-app-server/core/testing';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { KnexUserRepository } from '../src/index.js';
import { describeEachDialect, useMigratedTestDatabase } from '../src/testing/index.js';
import { unique } from './support/fixtures.js';

const CALLS = 20;

/** The fake chat service, answering after a delay like a remote one, so that the callers overlap. */
function slowChatService(): { chat: FakeChatProvisioner; provisioner: ChatProvisioner } {
  const chat = new FakeChatProvisioner();
  const provisioner: ChatProvisioner = Object.assign(Object.create(chat) as FakeChatProvisioner, {
    async createUser(username: string, password: string) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return chat.createUser(username, password);
    },
  });
  return { chat, provisioner };
}

function coreOn(knex: Knex, chatProvisioner: ChatProvisioner): Core {
  return createCore({ users: new KnexUserRepository(knex), chatProvisioner, tokens: new FakeTokenIssuer(new SystemClock()) });
}

describeEachDialect('concurrent provisioning', (dialect) => {
  const { knex, db } = useMigratedTestDatabase(dialect);

  async function expectOneActiveUser(accountKey: string, chat: FakeChatProvisioner, principals: readonly unknown[]) {
    for (const p of principals) expect(p).to.deep.equal(principals[0]);
    expect(chat.calls.create).to.equal(1);
    const rows = await knex()('users').where('account_key', accountKey);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ status: 'active', chat_uuid: chat.users.get(accountKey)?.uuid });
  }

  it(`gives ${CALLS} concurrent calls for one new account the same principal`, async function () {
    const { chat, provisioner } = slowChatService();
    const core = coreOn(knex(), provisioner);
    const account = unique('emp');
    const principals = await Promise.all(Array.from({ length: CALLS }, () => core.provisionChatUser.execute({ account })));
    await expectOneActiveUser(account, chat, principals);
  });

  it(`gives ${CALLS} concurrent calls spread over two core instances on one database the same principal`, async function () {
    const { chat, provisioner } = slowChatService();
    const instances = [coreOn(knex(), provisioner), coreOn(db().connectAgain(), provisioner)];
    const account = unique('emp');
    const principals = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => instances[i % 2]!.provisionChatUser.execute({ account })),
    );
    await expectOneActiveUser(account, chat, principals);
  });
});
