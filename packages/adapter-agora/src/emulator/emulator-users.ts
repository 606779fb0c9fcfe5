import { randomUUID } from 'node:crypto';

/** A chat user as the emulator stores it. */
export interface EmulatedUser {
  readonly uuid: string;
  readonly username: string;
  readonly password: string | undefined;
  readonly created: number;
  readonly modified: number;
  /** false while banned (deactivated). */
  readonly activated: boolean;
}

/** The emulator's user table (in memory). Usernames are stored as given (Agora's rules are lower case). */
export class EmulatorUsers {
  private readonly byName = new Map<string, EmulatedUser>();

  get size(): number {
    return this.byName.size;
  }

  get(username: string): EmulatedUser | undefined {
    return this.byName.get(username);
  }

  has(username: string): boolean {
    return this.byName.has(username);
  }

  /** All users in creation order. */
  list(): EmulatedUser[] {
    return [...this.byName.values()];
  }

  /**
   * Registers a user directly (no HTTP), e.g. to stage "someone else took this name".
   * @returns undefined when the name is taken
   */
  add(username: string, password?: string): EmulatedUser | undefined {
    if (this.byName.has(username)) return undefined;
    const now = Date.now();
    const user: EmulatedUser = { uuid: randomUUID(), username, password, created: now, modified: now, activated: true };
    this.byName.set(username, user);
    return user;
  }

  /**
   * Bans or unbans a user (Agora's deactivate / activate).
   * @returns the updated user, or undefined when there is none
   */
  setActivated(username: string, activated: boolean): EmulatedUser | undefined {
    const user = this.byName.get(username);
    if (!user) return undefined;
    const updated = { ...user, activated, modified: Date.now() };
    this.byName.set(username, updated);
    return updated;
  }

  /** Usernames whose sessions were ended (Agora's disconnect), in call order. */
  readonly disconnects: string[] = [];

  /** @returns the removed user, or undefined when there was none */
  delete(username: string): EmulatedUser | undefined {
    const user = this.byName.get(username);
    if (user) this.byName.delete(username);
    return user;
  }

  clear(): void {
    this.byName.clear();
    this.disconnects.length = 0;
  }
}
