import { hasCode } from '@chat-app-server/core';
import type { Logger as PinoLogger } from 'pino';

/** What the latest Agora credentials check found. */
export type ChatServiceState = 'unchecked' | 'ok' | 'misconfigured' | 'unreachable';

export interface ChatServiceCheckOptions {
  /** One authenticated read-only call; throws chat_service_misconfigured or chat_service_unavailable. */
  readonly check: () => Promise<void>;
  readonly logger: PinoLogger;
  /** Time between checks; 0: only the start-up check. */
  readonly intervalMs: number;
  readonly onState?: (state: ChatServiceState) => void;
}

/**
 * Checks the Agora credentials at start-up and then periodically, so that a wrong App Certificate
 * shows in the log and in `/readyz` before the first registration fails, and an Agora outage is
 * reported while the server keeps issuing tokens.
 */
export class ChatServiceCheck {
  private current: ChatServiceState = 'unchecked';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ChatServiceState> | undefined;

  constructor(private readonly options: ChatServiceCheckOptions) {}

  get state(): ChatServiceState {
    return this.current;
  }

  /** Runs one check (joining one in progress) and records its result. */
  run(): Promise<ChatServiceState> {
    this.running ??= this.checkOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Checks every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.run(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async checkOnce(): Promise<ChatServiceState> {
    const { logger } = this.options;
    let next: ChatServiceState;
    try {
      await this.options.check();
      next = 'ok';
      if (this.current !== 'ok' && this.current !== 'unchecked') logger.info('Agora Chat credentials check passes again');
    } catch (err) {
      if (hasCode(err, 'chat_service_misconfigured')) {
        next = 'misconfigured';
        if (this.current !== 'misconfigured') {
          logger.error(
            { err, likelyWrong: likelyWrongSetting(err) },
            `CHAT SERVICE MISCONFIGURED: Agora refused our credentials; ${likelyWrongSetting(err)} is likely wrong. ` +
              'Registrations fail and /readyz answers 503 until it is fixed.',
          );
        }
      } else {
        next = 'unreachable';
        if (this.current !== 'unreachable') {
          logger.warn({ err }, 'Agora Chat is unreachable: registrations fail until it answers; tokens are still issued. Checking again.');
        }
      }
    }
    this.current = next;
    this.options.onState?.(next);
    return next;
  }
}

/** The setting a refusal most likely points at, from the HTTP status Agora answered with. */
function likelyWrongSetting(err: Error): string {
  const status = (err.cause as { status?: unknown } | undefined)?.status;
  if (status === 401) return 'AGORA_APP_CERT (or AGORA_APP_ID)';
  if (status === 404) return 'AGORA_APP_KEY (or AGORA_REST_API_URL)';
  return 'AGORA_APP_KEY (or AGORA_APP_ID)';
}
