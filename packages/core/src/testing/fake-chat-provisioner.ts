import { randomUUID } from 'node:crypto';
import { isValidChatUsername } from '../domain/chat-username.js';
import { ChatServiceUnavailableError, ChatUserExistsError, InvalidChatUsernameError } from '../errors.js';
import type { ChatProvisioner, ChatUser, ChatUserBatchResult } from '../ports/chat-provisioner.js';

type Step = { kind: 'fail'; error: Error } | { kind: 'create-then-fail' };

/**
 * An in-memory chat service for core unit tests, with scripted failures for `createUser` and
 * `createUsers` (one script for both): `failNextCreate` fails before creating, `loseNextCreateAnswer`
 * creates and then fails, as a timeout after the service did its work would.
 */
export class FakeChatProvisioner implements ChatProvisioner {
  readonly users = new Map<string, ChatUser>();
  readonly calls = { create: 0, createBatch: 0, get: 0, delete: 0 };
  private readonly script: Step[] = [];
  private now = 1_700_000_000_000;

  failNextCreate(error: Error = new ChatServiceUnavailableError()): this {
    this.script.push({ kind: 'fail', error });
    return this;
  }

  loseNextCreateAnswer(): this {
    this.script.push({ kind: 'create-then-fail' });
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
    this.calls.get++;
    return this.users.get(username);
  }

  async deleteUser(username: string): Promise<boolean> {
    this.calls.delete++;
    return this.users.delete(username);
  }

  async createUsers(users: ReadonlyArray<{ username: string; password: string }>): Promise<ChatUserBatchResult> {
    if (users.length > 60) throw new RangeError(`at most 60 users per batch, got ${users.length}`);
    this.calls.createBatch++;
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
