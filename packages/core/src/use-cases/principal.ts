import type { UserRecord } from '../ports/user-repository.js';

/** An active user, as proven by a verified chat token or a successful login. */
export interface Principal {
  readonly account: string;
  readonly accountKey: string;
  readonly chatUsername: string;
  readonly chatUuid: string | null;
  readonly agoraUid: number;
}

export function principalOf(user: UserRecord): Principal {
  return {
    account: user.account,
    accountKey: user.accountKey,
    chatUsername: user.chatUsername,
    chatUuid: user.chatUuid,
    agoraUid: user.agoraUid,
  };
}
