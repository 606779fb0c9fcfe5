import { parseChannelName } from '../domain/channel-name.js';
import type { IssuedToken, TokenIssuer } from '../ports/token-issuer.js';
import type { Principal } from './principal.js';

export type RtcRole = 'publisher' | 'subscriber';

export interface IssueRtcTokenCommand {
  readonly principal: Principal;
  readonly channelName: string;
  /** Publishers may publish audio, video and data; subscribers may only join. */
  readonly role: RtcRole;
}

/**
 * One token with the chat user privilege and RTC privileges for a channel, bound to the principal's
 * persistent agoraUid.
 * @throws InvalidRequestError for a bad channel name
 */
export class IssueRtcToken {
  constructor(private readonly deps: { tokens: TokenIssuer }) {}

  async execute(command: IssueRtcTokenCommand): Promise<IssuedToken> {
    const { principal } = command;
    const channelName = parseChannelName(command.channelName);
    return this.deps.tokens.issueChatRtcToken(principal, {
      channelName, agoraUid: principal.agoraUid, publisher: command.role === 'publisher',
    });
  }
}
