import { randomUUID } from 'node:crypto';
import { isValidChatUsername } from '../domain/chat-username.js';
import { ChatServiceUnavailableError, ChatUserExistsError, InvalidChatUsernameError } from '../errors.js';
import type { ChatProvisioner, ChatUser, ChatUserBatchResult } from '../ports/chat-provisioner.js';

type Step = { kind: 'fail'; error: Error } | { kind: 'create-then-fail' };
type Call = 'create' | 'createBatch' | 'get' | 'delete' | 'deactivate' | 'activate' | 'forceOffline';

/**
 * An in-memory chat service for core unit tests, with scripted failures for `createUser` and
 * `createUsers` (one script for both): `failNextCreate` fails before creating, `loseNextCreateAnswer`
 * creates and then fails, as a timeout after the service did its work would.
 */
export class FakeChatProvisioner implements ChatProvisioner {
  /** As declared at construction; undefined: this fake promises no bound (as a provisioner without one). */
  readonly deadlineMs: number | undefined;
  readonly users = new Map<string, ChatUser>();
  readonly calls: Record<Call, number> = { create: 0, createBatch: 0, get: 0, delete: 0, deactivate: 0, activate: 0, forceOffline: 0 };
  /** Chat users banned with `deactivateUser`. */
  readonly deactivated = new Set<string>();
  /** Usernames passed to `forceOffline`, in order. */
  readonly disconnects: string[] = [];
  private readonly failures: Partial<Record<Call, Error[]>> = {};
  private readonly script: Step[] = [];
  private now = 1_700_000_000_000;
  private hanging = false;

  constructor(options: { deadlineMs?: number } = {}) {
    this.deadlineMs = options.deadlineMs;
  }

  /**
   * The chat service stops answering: from now on, creations and lookups wait out `deadlineMs` (real
   * time) and fail with `chat_service_unavailable`, as a provisioner that keeps its deadline does;
   * without a deadline they never settle.
   */
  hang(): this {
    this.hanging = true;
    return this;
  }

  private async unanswered(): Promise<void> {
    if (!this.hanging) return;
    if (this.deadlineMs === undefined) await new Promise<never>(() => {});
    await new Promise((resolve) => setTimeout(resolve, this.deadlineMs));
    throw new ChatServiceUnavailableError('The chat service did not answer in time; try again later.');
  }

  failNextCreate(error: Error = new ChatServiceUnavailableError()): this {
    this.script.push({ kind: 'fail', error });
    return this;
  }

  loseNextCreateAnswer(): this {
    this.script.push({ kind: 'create-then-fail' });
    return this;
  }

  /** Makes the next `times` calls of `call` (other than create) fail with `error` before doing anything. */
  failNext(call: Exclude<Call, 'create'>, times = 1, error: Error = new ChatServiceUnavailableError()): this {
    (this.failures[call] ??= []).push(...Array.from({ length: times }, () => error));
    return this;
  }

  /** A chat user created behind this server's back (by the console, another server...). */
  addForeignUser(username: string): ChatUser {
    const user = { username, uuid: randomUUID(), createdAt: this.now++ };
    this.users.set(username, user);
    return user;
  }

  async createUser(username: string, _password: string): Promise<ChatUser> {
    this.calls.create++;
    await this.unanswered();
    const step = this.script.shift();
    if (step?.kind === 'fail') throw step.error;
    if (!isValidChatUsername(username)) throw new InvalidChatUsernameError(username);
    if (this.users.has(username)) throw new ChatUserExistsError(username);
    const user = { username, uuid: randomUUID(), createdAt: this.now++ };
    this.users.set(username, user);
    if (step?.kind === 'create-then-fail') throw new ChatServiceUnavailableError('answer lost');
    return user;
  }

  async getUser(username: string): Promise<ChatUser | undefined> {
    this.count('get');
    await this.unanswered();
    return this.users.get(username);
  }

  async deleteUser(username: string): Promise<boolean> {
    this.count('delete');
    this.deactivated.delete(username);
    return this.users.delete(username);
  }

  async deactivateUser(username: string): Promise<boolean> {
    this.count('deactivate');
    if (!this.users.has(username)) return false;
    this.deactivated.add(username);
    return true;
  }

  async activateUser(username: string): Promise<boolean> {
    this.count('activate');
    this.deactivated.delete(username);
    return this.users.has(username);
  }

  async forceOffline(username: string): Promise<boolean> {
    this.count('forceOffline');
    if (!this.users.has(username)) return false;
    this.disconnects.push(username);
    return true;
  }

  private count(call: Call): void {
    this.calls[call]++;
    const error = this.failures[call]?.shift();
    if (error) throw error;
  }

  async createUsers(users: ReadonlyArray<{ username: string; password: string }>): Promise<ChatUserBatchResult> {
    if (users.length > 60) throw new RangeError(`at most 60 users per batch, got ${users.length}`);
    this.calls.createBatch++;
    await this.unanswered();
    const step = this.script.shift();
    if (step?.kind === 'fail') throw step.error;
    const result: ChatUserBatchResult = { created: [], failed: [] };
    for (const { username } of users) {
      if (!isValidChatUsername(username)) {
        result.failed.push({ username, reason: `${username} is not legal.`, code: 'invalid_chat_username', afterUnknownOutcome: false });
      } else if (this.users.has(username)) {
        result.failed.push({ username, reason: `the ${username} already exists`, code: 'chat_user_exists', afterUnknownOutcome: false });
      } else {
        const user = { username, uuid: randomUUID(), createdAt: this.now++ };
        this.users.set(username, user);
        result.created.push(user);
      }
    }
    if (step?.kind === 'create-then-fail') throw new ChatServiceUnavailableError('answer lost');
    return result;
  }
}
