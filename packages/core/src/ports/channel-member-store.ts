/** A user to whom an RTC token for a channel was issued, until that token expires. */
export interface ChannelMember {
  readonly channelName: string;
  readonly agoraUid: number;
  readonly chatUsername: string;
  /** When the newest token issued for this channel and uid expires. */
  readonly expiresAt: Date;
}

/**
 * Who holds RTC tokens for which channel (the sample servers' "channel mapper": call UIs use it to
 * show who a remote uid is). Shared by every server instance on one database.
 */
export interface ChannelMemberStore {
  /**
   * Upserts one row per (channelName, agoraUid): the given chat username and expiry replace the stored
   * ones. Then keeps at most `maxPerChannel` unexpired rows in each channel written to (those expiring
   * last) and deletes rows that expired by `now`.
   */
  record(members: readonly ChannelMember[], options: { now: Date; maxPerChannel: number }): Promise<void>;

  /** The members of `channelName` whose tokens have not expired at `now`, at most `limit`, latest expiry first. */
  list(channelName: string, now: Date, limit: number): Promise<ChannelMember[]>;
}

export const ChannelMemberStore: unique symbol = Symbol.for('chat-app-server.ChannelMemberStore');
