import { availableParallelism } from 'node:os';
import { hasCode, isDomainError, ScryptPasswordHasher, type ImportUsersResult, type ProvisionChatUsersResult } from '@chat-app-server/core';
import { pino } from 'pino';
import type { ServerConfig } from '../config.js';
import { EXIT, type CommandContext } from '../commands/command.js';
import { buildServer, type ChatAppServer } from '../server.js';
import type { ImportOptions } from '../commands/import.js';
import type { RowProblem, SourceRow } from './sources.js';
import { startProgress } from './progress.js';
import { summaryText, Tally } from './tally.js';

// Long enough to see movement, short enough for a log that someone watches.
const PROGRESS_SECONDS = 5;

/** Runs a planned import against the configured database and Agora; prints the summary. @returns the exit status */
export async function runImport(
  options: ImportOptions, config: ServerConfig, rows: SourceRow[], left: RowProblem[],
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
  const started = performance.now();
  let seconds = 0;
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
    seconds = (performance.now() - started) / 1000;
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
    label: `${label} ${options.file}`, rows: rows.length + left.length, dryRun: options.dryRun, interrupted, processed, seconds,
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
