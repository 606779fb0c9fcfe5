import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasCode, isDomainError, ScryptPasswordHasher, type ImportUsersResult, type ProvisionChatUsersResult } from '@chat-app-server/core';
import { pino } from 'pino';
import { ConfigError, loadConfig, type ServerConfig } from '../config.js';
import { planImport } from '../import/plan.js';
import { startProgress } from '../import/progress.js';
import { readSource, SOURCE_KINDS, SourceError, type SourceKind, type SourceRow } from '../import/sources.js';
import { summaryText, Tally } from '../import/tally.js';
import { buildServer, type ChatAppServer } from '../server.js';
import { EXIT, UsageError, type Command, type CommandContext } from './command.js';

const USAGE = `Usage: chat-app-server import <source> <file> [options]

Sources:
  django-sqlite <db.sqlite3>            the Django sample's database (table users_appuserinfo)
  java-csv <app_user_info.csv>          the Java demo's app_user_info table as CSV with a header row
  accounts <file.csv|file.jsonl>        accounts of an existing backend (userAccount, optional chatUserName),
                                        no passwords: chat users are created through Agora's batch endpoint

Options:
  --dry-run           read and check everything, change nothing
  --verify            confirm at Agora that each adopted chat user exists (with the file's uuid)
  --report <file>     write one JSON line per row that was not imported (and per changed uid)
  --concurrency <n>   rows in flight (password imports, default 4 per CPU core) or
                      batches of 60 in flight (accounts, default 4)

Running the same import again changes nothing; an interrupted import finishes when run again.
Exit status: 0 every row imported or already present, 1 some were not, 2 usage or configuration error.`;

// Long enough to see movement, short enough for a log that someone watches.
const PROGRESS_SECONDS = 5;

export const importCommand: Command = {
  name: 'import',
  summary: 'bring users over from Agora\'s sample servers or a list of accounts',
  usage: USAGE,
  async run(args, context) {
    const options = parseOptions(args);
    let config: ServerConfig;
    try {
      config = loadConfig(context.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      context.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    const file = resolve(context.cwd, options.file);
    let plan;
    try {
      plan = planImport(await readSource(options.kind, file), config.agora.mode === 'agora' ? config.agora.appKey : undefined);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      context.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    const report = options.report === undefined ? undefined : resolve(context.cwd, options.report);
    return runImport(options, config, plan.rows, plan.left, report, context);
  },
};

interface ImportOptions {
  readonly kind: SourceKind;
  readonly file: string;
  readonly dryRun: boolean;
  readonly verify: boolean;
  readonly report: string | undefined;
  readonly concurrency: number | undefined;
}

function parseOptions(args: readonly string[]): ImportOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        verify: { type: 'boolean', default: false },
        report: { type: 'string' },
        concurrency: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [kind, file, ...extra] = parsed.positionals;
  if (kind === undefined) throw new UsageError('Name a source: django-sqlite, java-csv or accounts.');
  if (!(SOURCE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`Unknown source "${kind}"; use django-sqlite, java-csv or accounts.`);
  if (file === undefined) throw new UsageError(`Name the file to import: import ${kind} <file>.`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}".`);
  const raw = parsed.values.concurrency;
  if (raw !== undefined && (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000)) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 1000, got "${raw}".`);
  }
  if (parsed.values.report === '') throw new UsageError('--report needs a file name.');
  return {
    kind: kind as SourceKind, file, dryRun: parsed.values['dry-run'], verify: parsed.values.verify,
    report: parsed.values.report, concurrency: raw === undefined ? undefined : Number(raw),
  };
}

async function runImport(
  options: ImportOptions, config: ServerConfig, rows: SourceRow[], left: Array<{ ref: string; userAccount?: string; reason: string; message: string }>,
  reportFile: string | undefined, context: CommandContext,
): Promise<number> {
  const tally = new Tally(reportFile);
  for (const problem of left) tally.add({ kind: 'left', ...problem });
  const cores = availableParallelism();
  // The server's own hasher, allowed to use every core and to queue the whole import.
  const passwordHasher = new ScryptPasswordHasher({ concurrency: cores, maxQueue: Number.MAX_SAFE_INTEGER, maxWaitMs: Infinity });
  const logger = pino({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, base: { service: 'chat-app-server' } }, pino.destination(2));
  const server: ChatAppServer = await buildServer(config, { passwordHasher, logger });
  if (server.emulator) {
    context.stderr.write('Note: no AGORA_* settings, so chat users live in the built-in emulator and vanish when this command ends.\n');
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(130);
    context.stderr.write(`\n${signal}: finishing the rows in flight, then stopping (again to stop at once)\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const label = `import ${options.kind}`;
  const progress = startProgress({ label, total: rows.length, stream: context.stderr, intervalSeconds: PROGRESS_SECONDS });
  let processed = 0;
  let fatal: unknown;
  try {
    if (options.kind === 'accounts') {
      await server.core.provisionChatUsers.execute(
        rows.map((row) => ({ account: row.userAccount, ...(row.chatUsername ? { chatUsername: row.chatUsername } : {}) })),
        {
          dryRun: options.dryRun, concurrency: options.concurrency ?? 4, signal: controller.signal,
          onResult: (result) => { processed++; tally.add(accountEnd(rows[result.index]!, result)); },
          onProgress: (p) => progress.update(p.done),
        },
      );
    } else {
      await server.core.importUsers.execute(
        rows.map((row) => ({
          account: row.userAccount, password: row.password ?? '', chatUsername: row.chatUsername ?? '',
          ...(row.chatUuid === undefined ? {} : { chatUuid: row.chatUuid }),
          ...(row.agoraUid === undefined ? {} : { agoraUid: row.agoraUid }),
        })),
        {
          dryRun: options.dryRun, verify: options.verify, concurrency: options.concurrency ?? 4 * cores, signal: controller.signal,
          onResult: (result) => { processed++; tally.add(passwordEnd(rows[result.index]!, result)); },
          onProgress: (p) => progress.update(p.done),
        },
      );
    }
  } catch (err) {
    if (!controller.signal.aborted) fatal = err;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server.close();
  }
  const lines = await tally.close();
  if (fatal !== undefined) {
    if (hasCode(fatal, 'chat_service_misconfigured')) {
      context.stderr.write(`Agora Chat refused this server's credentials: ${fatal.message}\nFix the AGORA_* settings and run the import again.\n`);
      return EXIT.usage;
    }
    throw fatal;
  }
  const interrupted = rows.length - processed;
  context.stdout.write(summaryText(tally, {
    label: `${label} ${options.file}`, rows: rows.length + left.length, dryRun: options.dryRun, interrupted,
    ...(reportFile === undefined ? {} : { report: { file: reportFile, lines } }),
  }));
  return tally.failures > 0 || interrupted > 0 ? EXIT.failed : EXIT.ok;
}

function passwordEnd(row: SourceRow, result: ImportUsersResult) {
  if (result.status === 'failed') return { kind: 'left' as const, ref: row.ref, userAccount: row.userAccount, reason: result.reason, message: result.message };
  if (result.status === 'present') return { kind: 'present' as const, ref: row.ref, userAccount: row.userAccount };
  const note = result.agoraUidRedrawn
    ? { reason: 'agora_uid_redrawn', message: `column agora_uid: ${row.agoraUid} belongs to another user here; a new uid was drawn` }
    : row.note;
  return {
    kind: 'adopted' as const, ref: row.ref, userAccount: row.userAccount,
    ...(note ? { note } : {}), ...(result.principal ? { agoraUid: result.principal.agoraUid } : {}),
  };
}

function accountEnd(row: SourceRow, result: ProvisionChatUsersResult) {
  if (result.status !== 'failed') return { kind: result.status, ref: row.ref, userAccount: row.userAccount };
  const { error } = result;
  const reason = isDomainError(error) ? error.code : 'internal_error';
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'left' as const, ref: row.ref, userAccount: row.userAccount, reason, message };
}
