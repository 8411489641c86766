/** Archived transactions as recovery sees them: their binlog coordinates, and the summary reports show. */

import type { BinlogTransaction } from '../binlog/events';
import type { BinlogCoordinates } from '../types';
import { formatMicros, transactionTimeMicros } from './times';

/** Where a transaction starts: the coordinates of its first event. */
export function transactionStart(t: { file: string; startPosition: number }): BinlogCoordinates {
  return { file: t.file, position: t.startPosition };
}

/** Where a transaction ends: the coordinates just after its commit event. */
export function transactionEnd(t: { file: string; endPosition: number }): BinlogCoordinates {
  return { file: t.file, position: t.endPosition };
}

/** One archived transaction as reports show it. */
export interface TransactionSummary {
  file: string;
  startPosition: number;
  endPosition: number;
  gtid?: string;
  /** ISO-8601 UTC, microseconds: MySQL's commit timestamp, else the event header second. */
  commitTime: string;
}

export function summarizeTransaction(t: BinlogTransaction): TransactionSummary;
export function summarizeTransaction(t: BinlogTransaction | undefined): TransactionSummary | undefined;
export function summarizeTransaction(t: BinlogTransaction | undefined): TransactionSummary | undefined {
  if (t === undefined) return undefined;
  const s: TransactionSummary = { file: t.file, startPosition: t.startPosition, endPosition: t.endPosition, commitTime: formatMicros(transactionTimeMicros(t)) };
  if (t.gtid !== undefined) s.gtid = t.gtid;
  return s;
}

export function describeTransaction(t: TransactionSummary): string {
  return `${t.file}:${t.startPosition}-${t.endPosition}${t.gtid === undefined ? '' : ` GTID ${t.gtid}`} committed ${t.commitTime}`;
}
