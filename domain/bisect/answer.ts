/**
 * The bisect's answer: the transaction after which the query first fails, what it did, the
 * query's value just before and just after it, and the two PITRs worth running next.
 */
import type { BinlogTransaction } from '../binlog/events';
import { formatCoordinates } from '../binlog/files';
import { summarizeTransaction, type TransactionSummary } from '../recovery/transactions';
import type { BinlogCoordinates } from '../types';

/** Rows one row event of the culprit changed in one table, with the first rows' images as the binlog tool prints them. */
export interface RowChangeSummary {
  table: string;
  kind: 'INSERT' | 'UPDATE' | 'DELETE';
  rows: number;
  /** Before (WHERE) and after (SET) images of the first rows: `@1=3 @2='x'`. */
  firstRows: { before?: string; after?: string }[];
}

export interface BisectCost {
  restores: number;
  replays: number;
  transactionsReplayed: number;
  snapshots: number;
  rewinds: number;
  evaluations: number;
  seconds: number;
}

export interface BisectAnswer {
  source: string;
  query: string;
  expected: string;
  /** The backup the sandbox was restored from and the window searched. */
  backup: string;
  window: { from: BinlogCoordinates; to: BinlogCoordinates; transactions: number };
  culprit: TransactionSummary & { index: number; statements: string[]; tables: string[]; kind: BinlogTransaction['kind']; rowChanges?: RowChangeSummary[] };
  /** The transaction just before the culprit; absent when the culprit is the window's first. */
  previous?: TransactionSummary;
  valueBefore: string;
  valueAfter: string;
  next: { pitrBefore: string; pitrSkip: string };
  cost: BisectCost;
}

/** How `pitr --skip` names a transaction: its GTID, else its byte range. */
export function skipArgument(t: TransactionSummary): string {
  return t.gtid ?? `${t.file}:${t.startPosition}-${t.endPosition}`;
}

/**
 * How `pitr --to` names the point just before the culprit: the GTID of the transaction before
 * it, else (none, or no GTIDs) the position where the culprit starts.
 */
export function beforeArgument(culprit: TransactionSummary, previous: TransactionSummary | undefined): string {
  return previous?.gtid ?? formatCoordinates({ file: culprit.file, position: culprit.startPosition });
}

export function nextSteps(source: string, culprit: TransactionSummary, previous: TransactionSummary | undefined): BisectAnswer['next'] {
  return {
    pitrBefore: `restore-drill pitr ${source} --to ${beforeArgument(culprit, previous)}`,
    pitrSkip: `restore-drill pitr ${source} --to latest --skip ${skipArgument(culprit)}`,
  };
}

export function culpritOf(t: BinlogTransaction, index: number, rowChanges?: RowChangeSummary[]): BisectAnswer['culprit'] {
  return { ...summarizeTransaction(t), index, statements: t.statements, tables: t.tables, kind: t.kind, ...(rowChanges && rowChanges.length > 0 ? { rowChanges } : {}) };
}

const ROW_EVENT = /^### (INSERT INTO|UPDATE|DELETE FROM) (\S+)/;
const FIRST_ROWS = 3;

/**
 * Row changes from the binlog tool's decoded rows (`mysqlbinlog -v --base64-output=DECODE-ROWS`,
 * `mariadb-binlog` the same): per table and kind, the row count and the first rows' images.
 */
export function parseRowChanges(decoded: string): RowChangeSummary[] {
  const byKey = new Map<string, RowChangeSummary>();
  let row: { before?: string[]; after?: string[] } | undefined;
  let part: 'before' | 'after' | undefined;
  let current: RowChangeSummary | undefined;
  const close = () => {
    if (current && row && current.firstRows.length < FIRST_ROWS)
      current.firstRows.push({ ...(row.before ? { before: row.before.join(' ') } : {}), ...(row.after ? { after: row.after.join(' ') } : {}) });
    row = undefined;
  };
  for (const line of decoded.split('\n')) {
    const event = ROW_EVENT.exec(line);
    if (event) {
      close();
      const kind = event[1]!.split(' ')[0] as RowChangeSummary['kind'];
      const table = event[2]!.replace(/`/g, '');
      const key = `${kind} ${table}`;
      current = byKey.get(key) ?? { table, kind, rows: 0, firstRows: [] };
      byKey.set(key, current);
      current.rows++;
      row = {};
      part = undefined;
      continue;
    }
    if (!line.startsWith('###') || !row) continue;
    const text = line.slice(3).trim();
    if (text === 'WHERE') part = 'before';
    else if (text === 'SET') part = 'after';
    else if (part && text.startsWith('@')) (row[part] ??= []).push(text.replace(/\s*\/\*.*\*\/\s*$/, ''));
  }
  close();
  return [...byKey.values()];
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function renderBisectAnswer(a: BisectAnswer): string {
  const c = a.culprit;
  const lines = [
    `The query first fails after transaction ${c.index} of ${a.window.transactions} replayed from ${a.backup}:`,
    `  ${c.file}:${c.startPosition}-${c.endPosition}${c.gtid ? `  GTID ${c.gtid}` : ''}  committed ${c.commitTime}`,
  ];
  for (const s of c.statements.slice(0, 5)) lines.push(`  statement: ${cut(s.replace(/\s+/g, ' '), 300)}`);
  if (c.statements.length > 5) lines.push(`  … and ${c.statements.length - 5} more statements`);
  for (const r of c.rowChanges ?? []) {
    lines.push(`  ${r.kind} ${r.table}: ${r.rows} row${r.rows === 1 ? '' : 's'}`);
    for (const f of r.firstRows) {
      if (f.before) lines.push(`    before: ${cut(f.before, 300)}`);
      if (f.after) lines.push(`    after:  ${cut(f.after, 300)}`);
    }
  }
  if (c.statements.length === 0 && !c.rowChanges?.length && c.tables.length > 0) lines.push(`  tables: ${c.tables.join(', ')}`);
  lines.push(
    `Query value just before it: ${a.valueBefore}; just after it: ${a.valueAfter} (expected ${a.expected}).`,
    `Window: ${formatCoordinates(a.window.from)} → ${formatCoordinates(a.window.to)}.`,
    `Cost: ${a.cost.restores} restore, ${a.cost.replays} replays (${a.cost.transactionsReplayed} transactions), ${a.cost.snapshots} snapshots, ${a.cost.rewinds} rewinds, ${a.cost.evaluations} query runs, ${Math.round(a.cost.seconds)} s.`,
    'Next:',
    `  just before it:   ${a.next.pitrBefore}`,
    `  everything but it: ${a.next.pitrSkip}`,
  );
  return lines.join('\n');
}
