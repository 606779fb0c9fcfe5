import { ConfigError, loadConfig, type Env, type ServerConfig } from '../config.js';

/** Exit statuses shared by every command. */
export const EXIT = Object.freeze({
  /** Everything asked for was done. */
  ok: 0,
  /** The command ran, but some of the work failed (named in its output). */
  failed: 1,
  /** Bad arguments or configuration: nothing was done. */
  usage: 2,
});

/** What a command gets from the command line's entry point. */
export interface CommandContext {
  /** The environment, `.env` already applied. */
  readonly env: Env;
  /** Where relative paths in arguments start (the caller's directory, also under `pnpm cli`). */
  readonly cwd: string;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * One command group of `chat-app-server <command>`. Each lives in its own module and is listed in
 * the entry point's command table; nothing else needs to change to add one.
 */
export interface Command {
  readonly name: string;
  /** One line for the overview. */
  readonly summary: string;
  /** The command's own help text. */
  readonly usage: string;
  /** @returns the exit status (see {@link EXIT}); throw {@link UsageError} for bad arguments */
  run(args: readonly string[], context: CommandContext): Promise<number>;
}

/** Bad arguments: the entry point prints the message and the command's usage, and exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The server's configuration for a command, or undefined after writing why it is invalid to stderr. */
export function loadCommandConfig(context: CommandContext): ServerConfig | undefined {
  try {
    return loadConfig(context.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    context.stderr.write(`${err.message}\n`);
    return undefined;
  }
}
