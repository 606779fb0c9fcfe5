import { parseAccount, type Account } from '../domain/account.js';
import { isValidChatUsername } from '../domain/chat-username.js';
import {
  AccountExistsError, ChatServiceUnavailableError, ChatUsernameTakenError, InvalidRequestError,
} from '../errors.js';
import type { ChatProvisioner } from '../ports/chat-provisioner.js';
import type { ChatUsernamePolicy } from '../ports/chat-username-policy.js';
import type { Clock } from '../ports/clock.js';
import type { UserRecord, UserRepository } from '../ports/user-repository.js';
import { CHAT_BATCH_MAX, type ChatAccountRequest, type ChatAccountSaga } from './chat-account-saga.js';
import { principalOf, type Principal } from './principal.js';

/** One account to provision. */
export interface ProvisionChatUsersItem {
  /** The embedding backend's own identifier of the user. */
  readonly account: string;
  /** The chat username to register (Agora's rule: 1-64 of `a-z 0-9 _ - .`); default: the username policy's. */
  readonly chatUsername?: string;
}

/**
 * How one account ended. `created`: its chat user was created now; `adopted`: an earlier, interrupted
 * attempt of this server had created it; `present`: the account was provisioned already.
 */
export type ProvisionChatUsersResult =
  | { readonly index: number; readonly account: string; readonly status: 'created' | 'adopted'; /** `undefined` in a dry run. */ readonly principal: Principal | undefined }
  | { readonly index: number; readonly account: string; readonly status: 'present'; readonly principal: Principal }
  | { readonly index: number; readonly account: string; readonly status: 'failed'; readonly error: unknown };

export interface ProvisionChatUsersProgress {
  readonly total: number;
  readonly done: number;
  readonly created: number;
  readonly adopted: number;
  readonly present: number;
  readonly failed: number;
  /** Accounts whose registration another process holds: they are retried once its lease ends. */
  readonly waiting: number;
}

export interface ProvisionChatUsersOptions {
  /**
   * Stops taking new batches; batches already sent finish (so no account is left half-done), then the
   * call rejects with the signal's reason. Results delivered so far stand.
   */
  readonly signal?: AbortSignal;
  /** Called as each account ends, in the order they end. */
  readonly onResult?: (result: ProvisionChatUsersResult) => void;
  /** Called after each batch. */
  readonly onProgress?: (progress: ProvisionChatUsersProgress) => void;
  /** Batches in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Accounts per chat-service call, 1..60. @default 60 */
  readonly batchSize?: number;
  /**
   * Reads and checks everything, changes nothing: accounts that would be registered are checked at
   * the chat service (a name taken there by a chat user this server did not create fails as it
   * would) and reported as `created` or `adopted` without a principal.
   */
  readonly dryRun?: boolean;
}

// Rounds of waiting for rows that another attempt holds, before they are reported as unavailable.
const MAX_ROUNDS = 3;

type Item = { readonly index: number; readonly input: string; readonly account: Account; readonly chatUsername: string | undefined };

/**
 * Gives many app users their chat accounts through the chat service's batch registration, under the
 * registration saga's guarantees (never an active user without its chat user, never two chat users
 * for one account, never a stranger's chat user adopted). Idempotent: accounts provisioned already
 * come back as `present`; accounts left pending by an interrupted run are finished. One account's
 * failure never stops the others.
 * @example
 * const results = await core.provisionChatUsers.execute(
 *   users.map((u) => ({ account: u.id })),
 *   { onProgress: (p) => console.log(`${p.done}/${p.total}`) },
 * );
 */
export class ProvisionChatUsers {
  constructor(private readonly deps: {
    users: UserRepository;
    saga: ChatAccountSaga;
    chatProvisioner: ChatProvisioner;
    chatUsernamePolicy: ChatUsernamePolicy;
    clock: Clock;
    leaseSeconds: number;
  }) {}

  async execute(items: readonly ProvisionChatUsersItem[], options: ProvisionChatUsersOptions = {}): Promise<ProvisionChatUsersResult[]> {
    const batchSize = options.batchSize ?? CHAT_BATCH_MAX;
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > CHAT_BATCH_MAX) throw new RangeError(`batchSize must be 1..${CHAT_BATCH_MAX}.`);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer.');
    options.signal?.throwIfAborted();

    const results: ProvisionChatUsersResult[] = new Array(items.length);
    const counts = { created: 0, adopted: 0, present: 0, failed: 0 };
    let done = 0;
    // Later occurrences of an account in `items` share the first one's result.
    const copies = new Map<number, number[]>();
    const finish = (result: ProvisionChatUsersResult): void => {
      for (const index of [result.index, ...(copies.get(result.index) ?? [])]) {
        const own = { ...result, index, account: items[index]!.account };
        results[index] = own;
        counts[own.status]++;
        done++;
        options.onResult?.(own);
      }
    };
    const progress = (waiting: number): void =>
      options.onProgress?.({ total: items.length, done, ...counts, waiting });

    let queue = this.validate(items, copies, finish);
    progress(0);
    for (let round = 1; queue.length > 0; round++) {
      const leased: Item[] = [];
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < queue.length && !options.signal?.aborted) {
          const batch = queue.slice(next, next + batchSize);
          next += batch.length;
          leased.push(...(await this.provisionBatch(batch, finish, options.dryRun ?? false)));
          progress(leased.length + queue.length - next);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(queue.length / batchSize)) }, worker));
      options.signal?.throwIfAborted();
      if (leased.length > 0 && round === MAX_ROUNDS) {
        for (const { index, input } of leased) {
          finish({ index, account: input, status: 'failed', error: new ChatServiceUnavailableError('Another registration of this account is in progress; try again later.') });
        }
        progress(0);
        break;
      }
      if (leased.length > 0) await this.leasesEnded(leased, options.signal);
      queue = leased;
    }
    return results;
  }

  private validate(items: readonly ProvisionChatUsersItem[], copies: Map<number, number[]>, finish: (r: ProvisionChatUsersResult) => void): Item[] {
    const first = new Map<string, Item>();
    const queue: Item[] = [];
    items.forEach(({ account: input, chatUsername }, index) => {
      const fail = (error: unknown) => finish({ index, account: input, status: 'failed', error });
      let account: Account;
      try {
        account = parseAccount(input);
      } catch (err) {
        return fail(err);
      }
      if (chatUsername !== undefined && !isValidChatUsername(chatUsername)) {
        return fail(InvalidRequestError.rule('chatUsername', 'must be 1-64 of a-z 0-9 _ - . (Agora Chat\'s rule).'));
      }
      const earlier = first.get(account.accountKey);
      if (earlier) {
        if (earlier.chatUsername !== chatUsername) {
          return fail(new InvalidRequestError('chatUsername', `${input} is listed twice with different chat usernames.`));
        }
        copies.set(earlier.index, [...(copies.get(earlier.index) ?? []), index]);
        return;
      }
      const item = { index, input, account, chatUsername };
      first.set(account.accountKey, item);
      queue.push(item);
    });
    return queue;
  }

  /** @returns the items whose rows another attempt holds under a live lease */
  private async provisionBatch(batch: readonly Item[], finish: (r: ProvisionChatUsersResult) => void, dryRun: boolean): Promise<Item[]> {
    const leased: Item[] = [];
    const toRegister: Array<Item & { found: UserRecord | null }> = [];
    await Promise.all(batch.map(async (item) => {
      try {
        const row = await this.deps.users.findByAccountKey(item.account.accountKey);
        if (row?.status === 'active') finish(this.present(item, row));
        else if (dryRun) finish(await this.wouldRegister(item, row));
        else if (row && (!row.leaseExpiresAt || row.leaseExpiresAt.getTime() > this.deps.clock.now())) leased.push(item);
        else toRegister.push({ ...item, found: row ?? null });
      } catch (error) {
        finish({ index: item.index, account: item.input, status: 'failed', error });
      }
    }));
    if (toRegister.length === 0) return leased;
    const requests: ChatAccountRequest[] = toRegister.map(({ account, chatUsername, found }) => ({ account, found, ...(chatUsername === undefined ? {} : { chatUsername }) }));
    const outcomes = await this.deps.saga.registerBatch(requests);
    outcomes.forEach((outcome, i) => {
      const { index, input } = toRegister[i]!;
      if (outcome.ok) finish({ index, account: input, status: outcome.adopted ? 'adopted' : 'created', principal: principalOf(outcome.user) });
      else finish({ index, account: input, status: 'failed', error: outcome.error });
    });
    return leased;
  }

  // What registering would do, by reading only.
  private async wouldRegister(item: Item, row: UserRecord | undefined): Promise<ProvisionChatUsersResult> {
    const { index, input: account } = item;
    const chatUsername = row?.chatUsername ?? item.chatUsername ?? this.deps.chatUsernamePolicy.usernameFor(item.account.accountKey);
    const holder = row ? undefined : await this.deps.users.findByChatUsername(chatUsername);
    if (holder) return { index, account, status: 'failed', error: new ChatUsernameTakenError() };
    if (!(await this.deps.chatProvisioner.getUser(chatUsername))) return { index, account, status: 'created', principal: undefined };
    if (row?.creationAttemptedAt) return { index, account, status: 'adopted', principal: undefined };
    return { index, account, status: 'failed', error: new ChatUsernameTakenError() };
  }

  private present(item: Item, row: UserRecord): ProvisionChatUsersResult {
    if (item.chatUsername !== undefined && item.chatUsername !== row.chatUsername) {
      return {
        index: item.index, account: item.input, status: 'failed',
        error: new AccountExistsError(`This account is provisioned already, with the chat user ${row.chatUsername}.`),
      };
    }
    return { index: item.index, account: item.input, status: 'present', principal: principalOf(row) };
  }

  /** Waits until the leases of rows held by another attempt have ended, one lease at most. */
  private async leasesEnded(items: readonly Item[], signal?: AbortSignal): Promise<void> {
    const rows = await Promise.all(items.map((item) => this.deps.users.findByAccountKey(item.account.accountKey)));
    const now = this.deps.clock.now();
    const latest = Math.max(...rows.map((row) => row?.leaseExpiresAt?.getTime() ?? now));
    await sleep(Math.min(latest, now + this.deps.leaseSeconds * 1000) - now + 50, signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
