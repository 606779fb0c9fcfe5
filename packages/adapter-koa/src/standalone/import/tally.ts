import { createWriteStream, type WriteStream } from 'node:fs';
import { SKIP_REASONS } from './plan.js';

/** How one row ended, as the summary and the report see it. */
export type RowEnd =
  | { readonly kind: 'created' | 'adopted' | 'present'; readonly ref: string; readonly userAccount: string; readonly note?: { reason: string; message: string }; readonly agoraUid?: number }
  | { readonly kind: 'left'; readonly ref: string; readonly userAccount?: string; readonly reason: string; readonly message: string };

/** Counts rows by outcome and reason, and writes the report (one JSON line per row worth reading). */
export class Tally {
  created = 0;
  adopted = 0;
  present = 0;
  readonly skipped = new Map<string, number>();
  readonly failed = new Map<string, number>();
  private reportLines = 0;
  private readonly report: WriteStream | undefined;

  constructor(reportFile: string | undefined) {
    this.report = reportFile === undefined ? undefined : createWriteStream(reportFile, { flags: 'w' });
  }

  get imported(): number {
    return this.created + this.adopted;
  }

  get failures(): number {
    return [...this.failed.values()].reduce((a, b) => a + b, 0);
  }

  get skips(): number {
    return [...this.skipped.values()].reduce((a, b) => a + b, 0);
  }

  add(end: RowEnd): void {
    if (end.kind === 'left') {
      const counts = SKIP_REASONS.has(end.reason) ? this.skipped : this.failed;
      counts.set(end.reason, (counts.get(end.reason) ?? 0) + 1);
      this.write({
        ref: end.ref, ...(end.userAccount === undefined ? {} : { userAccount: end.userAccount }),
        status: SKIP_REASONS.has(end.reason) ? 'skipped' : 'failed', reason: end.reason, message: end.message,
      });
      return;
    }
    this[end.kind]++;
    if (end.note && end.kind !== 'present') {
      this.write({
        ref: end.ref, userAccount: end.userAccount, status: 'imported', reason: end.note.reason, message: end.note.message,
        ...(end.agoraUid === undefined ? {} : { agoraUid: String(end.agoraUid) }),
      });
    }
  }

  /** Flushes and closes the report. @returns how many lines it has */
  async close(): Promise<number> {
    if (this.report) await new Promise<void>((resolve, reject) => this.report!.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return this.reportLines;
  }

  private write(line: Record<string, unknown>): void {
    this.reportLines++;
    this.report?.write(`${JSON.stringify(line)}\n`);
  }
}

/** The closing summary, for people. */
export function summaryText(
  tally: Tally,
  o: { label: string; rows: number; dryRun: boolean; interrupted: number; processed: number; seconds: number; report?: { file: string; lines: number } },
): string {
  const byReason = (counts: Map<string, number>) =>
    [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason}: ${n}`).join(', ');
  const would = o.dryRun ? 'would be ' : '';
  const lines = [
    `${o.label}: ${o.rows} rows${o.dryRun ? ' (dry run: nothing was changed)' : ''}`,
    `  ${would}imported   ${tally.imported} (chat users adopted: ${tally.adopted}, created: ${tally.created})`,
    `  already imported  ${tally.present}`,
    `  skipped           ${tally.skips}${tally.skips ? ` (${byReason(tally.skipped)})` : ''}`,
    `  failed            ${tally.failures}${tally.failures ? ` (${byReason(tally.failed)})` : ''}`,
  ];
  lines.push(`  took              ${o.seconds.toFixed(1)} s for ${o.processed} rows (${(o.processed / Math.max(o.seconds, 0.001)).toFixed(0)} rows/s)`);
  if (o.interrupted > 0) lines.push(`  not processed     ${o.interrupted} (interrupted: run the same command again to finish)`);
  if (o.report) lines.push(`Report: ${o.report.file} (${o.report.lines} ${o.report.lines === 1 ? 'line' : 'lines'})`);
  else if (tally.failures + tally.skips > 0) lines.push('Add --report <file.jsonl> to list each row that was not imported.');
  return `${lines.join('\n')}\n`;
}
