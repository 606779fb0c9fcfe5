import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ServerConfig } from '../config.js';
import { EXIT, UsageError, loadCommandConfig, type Command } from './command.js';

// The sources' parsers and the import itself load only when an import runs, so other commands start fast.
const SOURCE_KINDS = ['django-sqlite', 'java-csv', 'accounts'] as const;
type SourceKind = (typeof SOURCE_KINDS)[number];

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

export const importCommand: Command = {
  name: 'import',
  summary: 'bring users over from Agora\'s sample servers or a list of accounts',
  usage: USAGE,
  async run(args, context) {
    const options = parseOptions(args);
    const config = loadCommandConfig(context);
    if (config === undefined) return EXIT.usage;
    const file = resolve(context.cwd, options.file);
    const [{ planImport }, { readSource, SourceError }, { runImport }] = await Promise.all([
      import('../import/plan.js'), import('../import/sources.js'), import('../import/run-import.js'),
    ]);
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

export interface ImportOptions {
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

