import { expect } from 'chai';
import type { ChannelMember, ChannelMemberStore } from '../../ports/channel-member-store.js';
import { eachTest, uniqueName, type Teardown } from './kit-support.js';

export interface ChannelMemberStoreKitSubject extends Teardown {
  store: ChannelMemberStore;
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const member = (channelName: string, agoraUid: number, chatUsername: string, expiresInSeconds: number): ChannelMember =>
  ({ channelName, agoraUid, chatUsername, expiresAt: at(expiresInSeconds) });
const summary = (members: ChannelMember[]) => members.map((m) => [m.agoraUid, m.chatUsername, m.expiresAt.getTime() - T0]);

/** The {@link ChannelMemberStore} contract. */
export function channelMemberStoreContract(label: string, factory: () => Promise<ChannelMemberStoreKitSubject>): void {
  describe(`ChannelMemberStore contract: ${label}`, function () {
    const subject = eachTest(factory);
    const store = () => subject.get().store;
    const opts = { now: at(0), maxPerChannel: 100 };

    it('lists the members of one channel, latest expiry first, and of no other channel', async function () {
      const room = uniqueName('room ');
      const other = uniqueName('room ');
      await store().record([member(room, 1, 'ann', 100), member(room, 2, 'bob', 300), member(other, 3, 'cy', 200)], opts);
      expect(summary(await store().list(room, at(0), 10))).to.deep.equal([[2, 'bob', 300_000], [1, 'ann', 100_000]]);
      expect(summary(await store().list(other, at(0), 10))).to.deep.equal([[3, 'cy', 200_000]]);
      expect(await store().list(uniqueName('empty'), at(0), 10)).to.deep.equal([]);
    });

    it('keeps one row per channel and uid: a new token replaces the name and expiry', async function () {
      const room = uniqueName('room');
      await store().record([member(room, 7, 'ann', 100)], opts);
      await store().record([member(room, 7, 'bob', 500)], opts);
      expect(summary(await store().list(room, at(0), 10))).to.deep.equal([[7, 'bob', 500_000]]);
    });

    it('never lists expired members, and deletes them when it records', async function () {
      const room = uniqueName('room');
      await store().record([member(room, 1, 'ann', 10), member(room, 2, 'bob', 100)], opts);
      expect(summary(await store().list(room, at(10), 10))).to.deep.equal([[2, 'bob', 100_000]]);
      await store().record([member(uniqueName('elsewhere'), 3, 'cy', 1000)], { now: at(50), maxPerChannel: 100 });
      // Asked about an earlier moment, the store no longer has what expired before the last write.
      expect(summary(await store().list(room, at(0), 10))).to.deep.equal([[2, 'bob', 100_000]]);
    });

    it('keeps at most maxPerChannel members per channel, those expiring last', async function () {
      const room = uniqueName('room');
      await store().record([1, 2, 3, 4, 5].map((uid) => member(room, uid, `u${uid}`, uid * 10)), { now: at(0), maxPerChannel: 3 });
      expect(summary(await store().list(room, at(0), 10)).map(([uid]) => uid)).to.deep.equal([5, 4, 3]);
      await store().record([member(room, 6, 'u6', 5)], { now: at(0), maxPerChannel: 3 });
      expect(summary(await store().list(room, at(0), 10)).map(([uid]) => uid)).to.deep.equal([5, 4, 3]);
    });

    it('honours the list limit', async function () {
      const room = uniqueName('room');
      await store().record([1, 2, 3].map((uid) => member(room, uid, `u${uid}`, uid * 10)), opts);
      expect(summary(await store().list(room, at(0), 2)).map(([uid]) => uid)).to.deep.equal([3, 2]);
    });

    it('matches channel names exactly: case, spaces and wildcard characters', async function () {
      const base = uniqueName('Room');
      await store().record([member(`${base} %_`, 1, 'ann', 100), member(base.toLowerCase(), 2, 'bob', 100)], opts);
      expect(summary(await store().list(`${base} %_`, at(0), 10))).to.deep.equal([[1, 'ann', 100_000]]);
      expect(await store().list(`${base} x_`, at(0), 10)).to.deep.equal([]);
      expect(await store().list(base, at(0), 10)).to.deep.equal([]);
    });

    it('keeps uids up to 2^32-1 and large batches', async function () {
      const room = uniqueName('room');
      const many = Array.from({ length: 2500 }, (_, i) => member(room, 2 ** 32 - 1 - i, `u${i}`, 100 + i));
      await store().record(many, { now: at(0), maxPerChannel: 2000 });
      const listed = await store().list(room, at(0), 5000);
      expect(listed).to.have.length(2000);
      expect(listed[0]).to.deep.equal(many[2499]);
      expect(listed.at(-1)).to.deep.equal(many[500]);
    });
  });
}
