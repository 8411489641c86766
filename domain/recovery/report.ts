/** What a recovery reached and what it cost, as the drill report states it. */

import { formatCoordinates } from '../binlog/files';
import type { BinlogCoordinates } from '../types';
import type { RecoveryProof } from './proof';
import { describeTransaction, type TransactionSummary } from './transactions';

/** What a recovery reached, as the drill report states it. */
export interface RecoveryReport {
  /** The backup replay started from, and how it was chosen. */
  baseBackup: { manifestPath: string; coordinates: BinlogCoordinates; chosen: 'given' | 'taken' | 'newest-before-target' };
  transactionsApplied: number;
  lastApplied?: TransactionSummary;
  firstNotApplied?: TransactionSummary;
  skipped: TransactionSummary[];
  lastArchived?: TransactionSummary;
  /** Best effort: why the target itself was not reached. */
  shortfall?: string;
  window: string;
  proof?: RecoveryProof;
}

/** Lines for the text and Markdown reports: where the recovery started, where it landed, what it left out. */
export function describeRecovery(r: RecoveryReport): string[] {
  const lines = [
    `base backup ${r.baseBackup.manifestPath} at ${formatCoordinates(r.baseBackup.coordinates)} (${r.baseBackup.chosen})`,
    `applied ${r.transactionsApplied} transaction(s); last applied ${r.lastApplied ? describeTransaction(r.lastApplied) : '(none: the backup itself)'}`,
    `first not applied ${r.firstNotApplied ? describeTransaction(r.firstNotApplied) : '(none: the archive ends here)'}`,
  ];
  for (const s of r.skipped) lines.push(`skipped ${describeTransaction(s)}`);
  if (r.shortfall !== undefined) lines.push(`shortfall: ${r.shortfall}`);
  if (r.proof !== undefined) lines.push(`proof (${r.proof.method}${r.proof.passed === undefined ? '' : r.proof.passed ? ', passed' : ', FAILED'}): ${r.proof.message}`);
  return lines;
}

/**
 * Data loss of the recovery in seconds: 0 when the target was reached. When it was not
 * (best effort), the time between the last applied commit and what was asked: the target
 * time, or for other targets `nowMicros` (everything after the archive's end is lost).
 */
export function achievedRpoSeconds(opts: { reached: boolean; targetTimeMicros?: number; lastAppliedMicros?: number; nowMicros: number }): number {
  if (opts.reached) return 0;
  const asked = opts.targetTimeMicros ?? opts.nowMicros;
  const got = opts.lastAppliedMicros ?? 0;
  return Math.max(0, Math.round((asked - got) / 1000)) / 1000;
}
