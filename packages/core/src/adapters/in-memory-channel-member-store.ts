import type { ChannelMember, ChannelMemberStore } from '../ports/channel-member-store.js';

/** A {@link ChannelMemberStore} in this process only: for a single instance and for tests. */
export class InMemoryChannelMemberStore implements ChannelMemberStore {
  private readonly channels = new Map<string, Map<number, ChannelMember>>();

  async record(members: readonly ChannelMember[], options: { now: Date; maxPerChannel: number }): Promise<void> {
    const touched = new Set<string>();
    for (const member of members) {
      let channel = this.channels.get(member.channelName);
      if (!channel) this.channels.set(member.channelName, (channel = new Map()));
      channel.set(member.agoraUid, { ...member });
      touched.add(member.channelName);
    }
    const now = options.now.getTime();
    for (const [name, channel] of this.channels) {
      for (const [uid, member] of channel) if (member.expiresAt.getTime() <= now) channel.delete(uid);
      if (touched.has(name) && channel.size > options.maxPerChannel) {
        const dropped = byLatestExpiry([...channel.values()]).slice(options.maxPerChannel);
        for (const member of dropped) channel.delete(member.agoraUid);
      }
      if (channel.size === 0) this.channels.delete(name);
    }
  }

  async list(channelName: string, now: Date, limit: number): Promise<ChannelMember[]> {
    const channel = [...(this.channels.get(channelName)?.values() ?? [])];
    return byLatestExpiry(channel.filter((m) => m.expiresAt.getTime() > now.getTime())).slice(0, limit).map((m) => ({ ...m }));
  }
}

function byLatestExpiry(members: ChannelMember[]): ChannelMember[] {
  return members.sort((a, b) => b.expiresAt.getTime() - a.expiresAt.getTime() || a.agoraUid - b.agoraUid);
}
