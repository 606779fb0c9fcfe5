import { expect } from 'chai';
import type { ChannelMember } from '@chat-app-server/core';
import { KnexChannelMemberStore } from '../src/index.js';
import { describeEachDialect, useMigratedDatabase } from '../src/testing/index.js';
import { later, T0, unique } from './support/fixtures.js';

// Flushes skip the expired-row sweep between sweeps and rank only channels over the bound: these pin
// down that what is listed and what stays stored do not depend on those shortcuts.
describeEachDialect('KnexChannelMemberStore', (dialect) => {
  const knex = useMigratedDatabase(dialect);
  const member = (channelName: string, agoraUid: number, expiresInMs: number): ChannelMember =>
    ({ channelName, agoraUid, chatUsername: `u${agoraUid}`, expiresAt: later(T0, expiresInMs) });
  const stored = async (channelName: string) => Number((await knex()('channel_members').where('channel_name', channelName).count({ n: '*' }))[0]!.n);

  it('trims a channel over the bound to the members expiring last, counting expired rows not yet swept, and leaves the others', async function () {
    const store = new KnexChannelMemberStore(knex());
    const full = unique('full');
    const small = unique('small');
    await store.record([member(full, 1, 1_000), member(full, 2, 1_500), member(small, 3, 60_000)], { now: T0, maxPerChannel: 1000 });
    // 2 s later: both rows of `full` have expired, but may still be stored.
    const fresh = Array.from({ length: 1000 }, (_, i) => member(full, 100 + i, 60_000 + i));
    await store.record([...fresh, member(small, 4, 60_000)], { now: later(T0, 2_000), maxPerChannel: 1000 });

    const listed = await store.list(full, later(T0, 2_000), 5000);
    expect(listed.map((m) => m.agoraUid)).to.deep.equal(fresh.map((m) => m.agoraUid).reverse());
    expect(await stored(full)).to.equal(1000);
    expect((await store.list(small, later(T0, 2_000), 10)).map((m) => m.agoraUid)).to.deep.equal([3, 4]);

    await store.record([member(full, 5000, 61_000)], { now: later(T0, 3_000), maxPerChannel: 1000 });
    const after = await store.list(full, later(T0, 3_000), 5000);
    expect(after).to.have.length(1000);
    expect(after[0]!.agoraUid).to.equal(5000);
    expect(after.map((m) => m.agoraUid)).not.to.include(100);
  });

  it('never lists expired members between sweeps, and deletes them within a few seconds of writes', async function () {
    const store = new KnexChannelMemberStore(knex());
    const room = unique('room');
    await store.record([member(room, 1, 500), member(room, 2, 100_000)], { now: T0, maxPerChannel: 100 });
    for (let ms = 1_000; ms <= 10_000; ms += 200) {
      await store.record([member(unique('elsewhere'), 3, 100_000)], { now: later(T0, ms), maxPerChannel: 100 });
      expect((await store.list(room, later(T0, ms), 10)).map((m) => m.agoraUid)).to.deep.equal([2]);
    }
    expect(await stored(room)).to.equal(1);
  });
});
