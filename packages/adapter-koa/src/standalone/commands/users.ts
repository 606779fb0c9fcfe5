import { parseArgs } from 'node:util';
import { isDomainError, USER_STATUSES, type AdministerAccounts, type UserRecord, type UserStatus } from '@chat-app-server/core';
import { pino } from 'pino';
import type { ServerConfig } from '../config.js';
import { buildServer } from '../server.js';
import { EXIT, UsageError, loadCommandConfig, type Command, type CommandContext } from './command.js';

const USAGE = `Usage: chat-app-server users <command> [arguments] [--json]

Commands:
  list [--status active|pending|disabled|deleting]   every account, or those in one status
  show <account>       one account in detail
  disable <account>    no login, no tokens, bearers refused; at Agora the chat user is deactivated
                       and forced offline (run it again if Agora was unavailable)
  enable <account>     reactivate a disabled account and its chat user (older tokens stay revoked)
  revoke <account>     log the account out everywhere: every token issued so far is refused, and
                       its chat sessions are ended
  delete <account>     delete the chat user at Agora, then the account (if Agora is unavailable the
                       account stays unusable and the server finishes the deletion later)

Options:
  --json               one JSON document on stdout, for scripts

Other server instances see a disable, revoke or delete within PRINCIPAL_CACHE_TTL_SECONDS (default 60).
Exit status: 0 done, 1 not found or failed (the message says what was done), 2 usage or configuration error.`;

type Action = 'show' | 'disable' | 'enable' | 'revoke' | 'delete';
const ACTIONS: readonly Action[] = ['show', 'disable', 'enable', 'revoke', 'delete'];

interface UsersOptions {
  readonly action: 'list' | Action;
  readonly account: string | undefined;
  readonly status: UserStatus | undefined;
  readonly json: boolean;
}

/** What operators see of an account: never its password hash or lease. */
interface AccountView {
  readonly account: string;
  readonly status: UserStatus;
  readonly chatUserName: string;
  readonly chatUuid: string | null;
  readonly agoraUid: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Tokens issued before this instant are refused; null when nothing was revoked. */
  readonly tokensRevokedBefore: string | null;
}

export const usersCommand: Command = {
  name: 'users',
  summary: 'list, show, disable, enable, revoke or delete accounts',
  usage: USAGE,
  async run(args, context) {
    const options = parseOptions(args);
    const config = loadCommandConfig(context);
    if (config === undefined) return EXIT.usage;
    const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, base: { service: 'chat-app-server' } }, pino.destination(2));
    const server = await buildServer(config, { logger });
    try {
      if (server.emulator && options.action !== 'list' && options.action !== 'show') {
        context.stderr.write('Note: no AGORA_* settings, so the chat service is a built-in emulator that lives only as long as this command.\n');
      }
      return await perform(server.core.administerAccounts, options, context);
    } finally {
      await server.close();
    }
  },
};

async function perform(admin: AdministerAccounts, options: UsersOptions, context: CommandContext): Promise<number> {
  const out = (text: string) => context.stdout.write(`${text}\n`);
  try {
    if (options.action === 'list') {
      const users = (await admin.list(options.status ? { status: options.status } : {})).map(viewOf);
      out(options.json ? JSON.stringify(users, null, 2) : table(users));
      return EXIT.ok;
    }
    const account = options.account!;
    if (options.action === 'delete') {
      await admin.delete(account);
      out(options.json ? JSON.stringify({ account, deleted: true }) : `Deleted "${account}" and its chat user.`);
      return EXIT.ok;
    }
    const user = viewOf(await admin[options.action](account));
    out(options.json ? JSON.stringify(user, null, 2) : `${DONE[options.action](user)}${options.action === 'show' ? '' : '\n'}${details(user)}`);
    return EXIT.ok;
  } catch (err) {
    if (!isDomainError(err)) throw err;
    if (err.code === 'invalid_request') throw new UsageError(err.message);
    context.stderr.write(`${err.message}\n`);
    if (options.json) out(JSON.stringify({ error: err.code, message: err.message }));
    return EXIT.failed;
  }
}

const DONE: Readonly<Record<Action, (user: AccountView) => string>> = {
  show: () => '',
  disable: (u) => `Disabled "${u.account}": no login, no tokens; its chat user is deactivated and offline.`,
  enable: (u) => `Enabled "${u.account}": it can log in again (tokens issued before stay revoked).`,
  revoke: (u) => `Logged "${u.account}" out everywhere: tokens issued before ${u.tokensRevokedBefore} are refused.`,
  delete: (u) => `Deleted "${u.account}".`,
};

function viewOf(user: UserRecord): AccountView {
  return {
    account: user.account,
    status: user.status,
    chatUserName: user.chatUsername,
    chatUuid: user.chatUuid,
    agoraUid: String(user.agoraUid),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    tokensRevokedBefore: user.tokensNotBefore === 0 ? null : new Date(user.tokensNotBefore * 1000).toISOString(),
  };
}

function details(user: AccountView): string {
  const rows: Array<[string, string]> = [
    ['account', user.account],
    ['status', user.status],
    ['chat user', user.chatUserName],
    ['chat uuid', user.chatUuid ?? '-'],
    ['agoraUid', user.agoraUid],
    ['created', user.createdAt],
    ['updated', user.updatedAt],
    ['tokens revoked before', user.tokensRevokedBefore ?? '-'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n');
}

function table(users: readonly AccountView[]): string {
  if (users.length === 0) return 'No accounts.';
  const header = ['ACCOUNT', 'STATUS', 'CHAT USER', 'AGORA UID', 'CREATED'];
  const rows = users.map((u) => [u.account, u.status, u.chatUserName, u.agoraUid, u.createdAt]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line), `${users.length} account${users.length === 1 ? '' : 's'}`].join('\n');
}

function parseOptions(args: readonly string[]): UsersOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: { status: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [action, account, ...extra] = parsed.positionals;
  const { status, json } = parsed.values;
  if (action === undefined) throw new UsageError('Name a command: list, show, disable, enable, revoke or delete.');
  if (action === 'list') {
    if (account !== undefined) throw new UsageError(`list takes no account, got "${account}".`);
    if (status !== undefined && !USER_STATUSES.includes(status as UserStatus)) {
      throw new UsageError(`--status must be one of ${USER_STATUSES.join(', ')}, got "${status}".`);
    }
    return { action, account: undefined, status: status as UserStatus | undefined, json: json ?? false };
  }
  if (!ACTIONS.includes(action as Action)) throw new UsageError(`Unknown users command "${action}".`);
  if (status !== undefined) throw new UsageError('--status goes with list only.');
  if (account === undefined || account === '') throw new UsageError(`${action} needs an account.`);
  if (extra.length > 0) throw new UsageError(`${action} takes one account, got ${extra.length + 1}.`);
  return { action: action as Action, account, status: undefined, json: json ?? false };
}
