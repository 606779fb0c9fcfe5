import { parseChannelName } from '../domain/channel-name.js';
import type { ChannelMember } from '../ports/channel-member-store.js';
import type { ChannelRoster } from './channel-roster.js';

/**
 * Who holds an unexpired RTC token for a channel (issued by any endpoint of any instance), latest first.
 * @throws InvalidRequestError (field `channelName`)
 */
export class ListChannelMembers {
  constructor(private readonly deps: { roster: ChannelRoster }) {}

  async execute(command: { readonly channelName: string }): Promise<ChannelMember[]> {
    return this.deps.roster.members(parseChannelName(command.channelName));
  }
}
