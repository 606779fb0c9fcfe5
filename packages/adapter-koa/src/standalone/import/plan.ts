import { accountKeyOf } from '@chat-app-server/core';
import type { RowProblem, Source, SourceRow } from './sources.js';

/** Reasons for rows left out on purpose: they do not make an import fail. */
export const SKIP_REASONS: ReadonlySet<string> = new Set(['duplicate_row', 'other_app_key']);

export interface ImportPlan {
  /** Rows to hand to the import, in file order. */
  readonly rows: SourceRow[];
  /** Rows left out, with why (failures and skips; see {@link SKIP_REASONS}). */
  readonly left: RowProblem[];
}

/**
 * Applies the rules that need the whole file: rows that are one account (after normalisation and
 * case folding) or one chat user are all left out, unless they are exact copies of one row (then
 * that row is imported once); an RTC uid that several rows claim is kept by none of them. With
 * `appKey`, rows of another Agora app (the Java demo's `appkey` column) are skipped.
 */
export function planImport(source: Source, appKey?: string): ImportPlan {
  const left: RowProblem[] = [...source.problems];
  let rows = source.rows;
  if (appKey !== undefined) {
    rows = rows.filter((row) => {
      if (row.appKey === undefined || row.appKey.toLowerCase() === appKey.toLowerCase()) return true;
      left.push({ ref: row.ref, userAccount: row.userAccount, reason: 'other_app_key', message: `column appkey: ${row.appKey} is not this server's app (${appKey})` });
      return false;
    });
  }

  const dropped = new Set<SourceRow>();
  const byAccount = groupBy(rows, (row) => accountKeyOf(row.userAccount));
  for (const group of byAccount.values()) {
    if (group.length < 2) continue;
    const [first, ...copies] = group as [SourceRow, ...SourceRow[]];
    if (copies.every((row) => fingerprint(row) === fingerprint(first))) {
      for (const row of copies) {
        dropped.add(row);
        left.push({ ref: row.ref, userAccount: row.userAccount, reason: 'duplicate_row', message: `an exact copy of ${first.ref}, which is imported` });
      }
      continue;
    }
    for (const row of group) {
      dropped.add(row);
      const others = group.filter((r) => r !== row).map((r) => `${r.ref} (${r.userAccount})`);
      left.push({
        ref: row.ref, userAccount: row.userAccount, reason: 'duplicate_account',
        message: `the same account as ${others.join(', ')} once prepared (fullwidth forms mapped, case folded); none of them is imported`,
      });
    }
  }
  rows = rows.filter((row) => !dropped.has(row));

  const byChatUser = groupBy(rows.filter((row) => row.chatUsername), (row) => row.chatUsername!.toLowerCase());
  for (const group of byChatUser.values()) {
    if (group.length < 2) continue;
    for (const row of group) {
      dropped.add(row);
      const others = group.filter((r) => r !== row).map((r) => `${r.ref} (${r.userAccount})`);
      left.push({ ref: row.ref, userAccount: row.userAccount, reason: 'duplicate_chat_user', message: `the chat user ${row.chatUsername} is also claimed by ${others.join(', ')}; none of them is imported` });
    }
  }
  rows = rows.filter((row) => !dropped.has(row));

  const byUid = groupBy(rows.filter((row) => row.agoraUid !== undefined), (row) => String(row.agoraUid));
  const shared = new Map<SourceRow, SourceRow[]>();
  for (const group of byUid.values()) if (group.length > 1) for (const row of group) shared.set(row, group);
  rows = rows.map((row) => {
    const group = shared.get(row);
    if (!group) return row;
    const { agoraUid, ...rest } = row;
    const others = group.filter((r) => r !== row).map((r) => r.ref).join(', ');
    return { ...rest, note: { reason: 'agora_uid_redrawn', message: `column agora_uid: ${agoraUid} is also used by ${others}; a new uid was drawn` } };
  });
  return { rows, left };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function fingerprint(row: SourceRow): string {
  return JSON.stringify([row.userAccount, row.password, row.chatUsername?.toLowerCase(), row.chatUuid, row.agoraUid, row.appKey]);
}
