import { accountKeyOf, parseAccount } from '../domain/account.js';
import { parseChannelName } from '../domain/channel-name.js';
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import type { TokenIssuer } from '../ports/token-issuer.js';
import type { ChatTokenOutput } from './issue-chat-token.js';
import { issueSecondFor, type Principal } from './principal.js';

export interface IssueRtcTokenInput {
  readonly principal: Principal;
  readonly channelName: unknown;
  /** `true`/`false` (booleans or their strings); absent means subscriber. */
  readonly publisherRole?: unknown;
  /** Optional, for clients of the sample server: must name the principal's own account. */
  readonly userAccount?: unknown;
}

export interface RtcTokenOutput extends ChatTokenOutput {
  /** The user's persistent RTC uid, as a decimal string. */
  readonly agoraUid: string;
}

/**
 * One token with the chat user privilege and RTC privileges for a channel, bound to the user's agoraUid.
 * @throws InvalidRequestError for a bad channel name or role, ForbiddenError when `userAccount` is someone else
 */
export class IssueRtcToken {
  constructor(private readonly deps: { tokens: TokenIssuer }) {}

  async execute(input: IssueRtcTokenInput): Promise<RtcTokenOutput> {
    const { principal } = input;
    const channelName = parseChannelName(input.channelName);
    const publisher = parsePublisherRole(input.publisherRole);
    if (input.userAccount !== undefined) {
      const requested = parseAccount(input.userAccount);
      if (accountKeyOf(requested.account) !== principal.accountKey) {
        throw new ForbiddenError('userAccount does not match the authenticated user.');
      }
    }
    const grant = { channelName, agoraUid: principal.agoraUid, publisher };
    const issued = await this.deps.tokens.issueChatRtcToken(principal, grant, { issuedAt: issueSecondFor(principal) });
    return {
      accessToken: issued.token,
      expireTimestamp: issued.expireTimestamp,
      chatUserName: principal.chatUsername,
      agoraUid: String(principal.agoraUid),
    };
  }
}

function parsePublisherRole(value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new InvalidRequestError('publisherRole', 'publisherRole must be true or false.');
}
