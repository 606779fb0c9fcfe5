import { AGORA_UID_MAX, AGORA_UID_MIN, isValidAgoraUid } from '../domain/agora-uid.js';
import { parseChannelName } from '../domain/channel-name.js';
import { InvalidRequestError } from '../errors.js';
import type { IssuedToken, TokenIssuer } from '../ports/token-issuer.js';
import type { ChannelRoster } from './channel-roster.js';
import { issueSecondFor, type Principal } from './principal.js';

export type RtcRole = 'publisher' | 'subscriber';

export interface IssueRtcTokenCommand {
  readonly principal: Principal;
  readonly channelName: string;
  /** Publishers may publish audio, video and data; subscribers may only join. */
  readonly role: RtcRole;
  /**
   * Binds the token to this uid instead of the principal's own. Only for the Java sample server's
   * unauthenticated endpoints (`TOKEN_AUTH=legacy`), which let clients choose their uid.
   */
  readonly agoraUid?: number;
}

/**
 * One token with the chat user privilege and RTC privileges for a channel, bound to the principal's
 * persistent agoraUid. Who got it is noted in the channel roster (written behind, never in the way).
 * @throws InvalidRequestError for a bad channel name or uid
 */
export class IssueRtcToken {
  constructor(private readonly deps: { tokens: TokenIssuer; roster?: ChannelRoster }) {}

  async execute(command: IssueRtcTokenCommand): Promise<IssuedToken> {
    const { principal } = command;
    const channelName = parseChannelName(command.channelName);
    const agoraUid = command.agoraUid ?? principal.agoraUid;
    if (!isValidAgoraUid(agoraUid)) throw InvalidRequestError.rule('agoraUid', `must be an integer in ${AGORA_UID_MIN}..${AGORA_UID_MAX}.`);
    const grant = { channelName, agoraUid, publisher: command.role === 'publisher' };
    const issued = await this.deps.tokens.issueChatRtcToken(principal, grant, { issuedAt: issueSecondFor(principal) });
    this.deps.roster?.note({ channelName, agoraUid, chatUsername: principal.chatUsername, expiresAt: new Date(issued.expireTimestamp) });
    return issued;
  }
}
