import agoraToken from 'agora-token';
import type { Clock } from '@chat-app-server/core';

// The root module builds its exports with require(), so named ESM imports fail at run time.
const { ChatTokenBuilder } = agoraToken;

/**
 * Holds one Agora Chat app token (an admin credential for the whole app) and renews it once half
 * of its lifetime has passed, so no call ever carries a token close to expiry.
 */
export class AppTokenCache {
  private current: { token: string; renewAt: number } | undefined;
  private buildCount = 0;

  constructor(
    private readonly appId: string,
    private readonly appCertificate: string,
    private readonly lifetimeSeconds: number,
    private readonly clock: Clock,
  ) {}

  /** How many tokens were built so far (each one costs a signature). */
  get builds(): number {
    return this.buildCount;
  }

  token(): string {
    const now = this.clock.now();
    if (!this.current || now >= this.current.renewAt) {
      const token = ChatTokenBuilder.buildAppToken(this.appId, this.appCertificate, this.lifetimeSeconds);
      if (!token) throw new TypeError('agora-token refused to build an app token: check the App ID and App Certificate.');
      this.buildCount += 1;
      this.current = { token, renewAt: now + (this.lifetimeSeconds * 1000) / 2 };
    }
    return this.current.token;
  }

  /** Drops `token` if it is still the cached one (another call may have renewed it already). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}
