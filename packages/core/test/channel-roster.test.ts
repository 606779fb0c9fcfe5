import { expect } from 'chai';
import { InMemoryChannelMemberStore, type ChannelMember, type ChannelMemberStore } from '../src/index.js';
import { aTestCore, expectCode } from '../src/testing/index.js';

/** An in-memory store that counts writes and can be made to fail. */
class WatchedStore implements ChannelMemberStore {
  readonly inner = new InMemoryChannelMemberStore();
  readonly writes: ChannelMember[][] = [];
  down = false;
  async record(members: readonly ChannelMember[], options: { now: Date; maxPerChannel: number }): Promise<void> {
    if (this.down) throw new Error('database down');
    this.writes.push([...members]);
    await this.inner.record(members, options);
  }
  list(channelName: string, now: Date, limit: number): Promise<ChannelMember[]> {
    return this.inner.list(channelName, now, limit);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rig(options: { maxPending?: number; maxPerChannel?: number; flushIntervalMs?: number } = {}) {
  const store = new WatchedStore();
  const warnings: string[] = [];
  const test = aTestCore({
    channelMembers: store,
    channelRoster: { flushIntervalMs: 20, ...options },
    logger: { warn: (_fields: unknown, message: string) => void warnings.push(message) },
  });
  return { ...test, store, warnings };
}

async function registered(r: Pick<ReturnType<typeof rig>, 'core'>, account: string) {
  return r.core.registerUser.execute({ account, password: 'password1' });
}

describe('channel roster (the channel mapper)', function () {
  it('lists who got a token for a channel at once, and writes it behind in one batch', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    const bob = await registered(r, 'bob');
    await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await r.core.issueRtcToken.execute({ principal: bob, channelName: 'room', role: 'subscriber' });
    expect(r.store.writes, 'nothing written on the token path').to.have.length(0);
    const listed = await r.core.listChannelMembers.execute({ channelName: 'room' });
    expect(listed.map((m) => [m.agoraUid, m.chatUsername]).sort()).to.deep.equal([[ann.agoraUid, 'ann'], [bob.agoraUid, 'bob']].sort());
    await sleep(60);
    expect(r.store.writes).to.have.length(1);
    expect(r.store.writes[0]).to.have.length(2);
    expect(await r.core.listChannelMembers.execute({ channelName: 'other' })).to.deep.equal([]);
  });

  it('by default writes behind once a second: notes of that second go in one batch', async function () {
    const store = new WatchedStore();
    const r = aTestCore({ channelMembers: store });
    const ann = await registered(r, 'ann');
    const bob = await registered(r, 'bob');
    await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await sleep(300);
    await r.core.issueRtcToken.execute({ principal: bob, channelName: 'room', role: 'publisher' });
    await sleep(300);
    expect(store.writes, 'nothing written 600 ms after the first note').to.have.length(0);
    for (const deadline = Date.now() + 5_000; store.writes.length === 0 && Date.now() < deadline;) await sleep(20);
    expect(store.writes.map((w) => w.map((m) => m.chatUsername).sort())).to.deep.equal([['ann', 'bob']]);
    await r.core.close();
  });

  it('lists members while their batch is being written', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const record = r.store.record.bind(r.store);
    r.store.record = async (members, options) => { await gate; await record(members, options); };
    await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    const flushing = r.core.close();
    expect((await r.core.listChannelMembers.execute({ channelName: 'room' })).map((m) => m.chatUsername)).to.deep.equal(['ann']);
    release();
    await flushing;
    expect((await r.core.listChannelMembers.execute({ channelName: 'room' })).map((m) => m.chatUsername)).to.deep.equal(['ann']);
  });

  it('deduplicates repeated tokens for one channel and uid: one write for a hundred tokens', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    for (let i = 0; i < 50; i++) await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await sleep(60);
    for (let i = 0; i < 50; i++) await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await sleep(60);
    expect(r.store.writes.flat()).to.have.length(1);
    // Beyond the refresh slack (60 s), the later expiry is written.
    r.clock.advance(61_000);
    // The server reads the caller anew for each request (at most a cache lifetime old): so does this one.
    const annNow = { ...ann, knownAt: r.clock.now() };
    const token = await r.core.issueRtcToken.execute({ principal: annNow, channelName: 'room', role: 'publisher' });
    await r.core.close();
    expect(r.store.writes.flat()).to.have.length(2);
    expect(r.store.writes[1]![0]!.expiresAt.getTime()).to.equal(token.expireTimestamp);
  });

  it('stops listing a member when its token expires', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    const token = await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await r.core.close();
    r.clock.set(token.expireTimestamp);
    expect(await r.core.listChannelMembers.execute({ channelName: 'room' })).to.deep.equal([]);
  });

  it('keeps notes across a database outage and writes them when it is back, warning once', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    r.store.down = true;
    await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher' });
    await sleep(150);
    expect(r.warnings.filter((w) => w.includes('could not record'))).to.have.length(1);
    expect((await r.core.listChannelMembers.execute({ channelName: 'room' })).map((m) => m.chatUsername)).to.deep.equal(['ann']);
    r.store.down = false;
    await r.core.close();
    expect((await r.store.inner.list('room', new Date(r.clock.now()), 10)).map((m) => m.chatUsername)).to.deep.equal(['ann']);
  });

  it('bounds what waits for the database: the oldest notes are dropped beyond maxPending, with one warning and a count', async function () {
    const r = rig({ maxPending: 3 });
    const ann = await registered(r, 'ann');
    r.store.down = true;
    for (const channelName of ['c1', 'c2', 'c3', 'c4', 'c5']) await r.core.issueRtcToken.execute({ principal: ann, channelName, role: 'publisher' });
    expect(r.warnings.filter((w) => w.includes('dropping the oldest'))).to.have.length(1);
    r.store.down = false;
    await r.core.close();
    expect(r.store.writes.flat().map((m) => m.channelName).sort()).to.deep.equal(['c3', 'c4', 'c5']);
    expect(r.warnings.filter((w) => w.includes('were dropped unwritten'))).to.have.length(1);
  });

  it('writes a burst once half of maxPending waits, instead of dropping notes before the interval ends', async function () {
    const r = rig({ maxPending: 4, flushIntervalMs: 3_600_000 });
    const ann = await registered(r, 'ann');
    const channels = Array.from({ length: 10 }, (_, i) => `burst-${i}`);
    for (const channelName of channels) await r.core.issueRtcToken.execute({ principal: ann, channelName, role: 'publisher' });
    await sleep(20);
    expect(r.store.writes.flat().map((m) => m.channelName).sort()).to.deep.equal([...channels].sort());
    expect(r.store.writes.map((w) => w.length), 'batches of half of maxPending').to.deep.equal([2, 2, 2, 2, 2]);
    expect(r.warnings).to.deep.equal([]);
    await r.core.close();
  });

  it('lists at most maxPerChannel members', async function () {
    const r = rig({ maxPerChannel: 2 });
    for (const account of ['ann', 'bob', 'cy']) {
      await r.core.issueRtcToken.execute({ principal: await registered(r, account), channelName: 'room', role: 'publisher' });
    }
    expect(await r.core.listChannelMembers.execute({ channelName: 'room' })).to.have.length(2);
    await r.core.close();
    expect(await r.core.listChannelMembers.execute({ channelName: 'room' })).to.have.length(2);
  });

  it('refuses a bad channel name naming the field', async function () {
    const r = rig();
    const err = await expectCode(r.core.listChannelMembers.execute({ channelName: 'a/b' }), 'invalid_request');
    expect(err).to.have.property('field', 'channelName');
  });

  it('binds a token to another uid only when asked to (legacy endpoints), and records that uid', async function () {
    const r = rig();
    const ann = await registered(r, 'ann');
    const token = await r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher', agoraUid: 42 });
    expect(r.tokens.decode(token.token).rtc).to.deep.include({ agoraUid: 42 });
    expect((await r.core.listChannelMembers.execute({ channelName: 'room' })).map((m) => [m.agoraUid, m.chatUsername])).to.deep.equal([[42, 'ann']]);
    for (const agoraUid of [0, -1, 2 ** 32, 1.5]) {
      const err = await expectCode(r.core.issueRtcToken.execute({ principal: ann, channelName: 'room', role: 'publisher', agoraUid }), 'invalid_request');
      expect(err).to.have.property('field', 'agoraUid');
    }
  });
});
