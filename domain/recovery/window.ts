/** What the archive can reach: the recoverable window, and the gaps a replay must not cross. */

import { compareBinlogNames, compareCoordinates, filesForReplay, formatCoordinates } from '../binlog/files';
import { DrillError } from '../errors';
import type { BinlogCoordinates } from '../types';
import type { ArchiveGap } from './archive-index';
import type { BackupCandidate } from './base-backup';
import { describeTransaction, transactionStart, type TransactionSummary } from './transactions';

export interface RecoverableWindow {
  /** The oldest backup whose start the archive covers without a gap up to `to`. */
  from?: { backupId: string; coordinates: BinlogCoordinates; createdAt: string };
  /** The last archived transaction. */
  to?: TransactionSummary;
  gaps: ArchiveGap[];
  text: string;
}

/**
 * From the oldest backup the archive can roll forward (no gap between its start and the
 * archive's end) to the last archived transaction.
 */
export function recoverableWindow(backups: readonly BackupCandidate[], gaps: readonly ArchiveGap[], archivedFiles: readonly string[], lastArchived: TransactionSummary | undefined): RecoverableWindow {
  const sorted = [...backups].sort((a, b) => compareCoordinates(a.coordinates, b.coordinates));
  const usable = sorted.find((b) => {
    try {
      filesForReplay(archivedFiles, b.coordinates);
    } catch {
      return false;
    }
    // A GTID gap at or after the backup's file breaks its roll-forward too.
    return !gaps.some((g) => g.kind === 'gtid' && compareBinlogNames(b.coordinates.file, g.before) < 0);
  });
  const window: RecoverableWindow = { gaps: [...gaps], text: '' };
  if (usable !== undefined) window.from = { backupId: usable.backupId, coordinates: usable.coordinates, createdAt: usable.createdAt };
  if (lastArchived !== undefined) window.to = lastArchived;
  const fromText = usable === undefined ? 'no usable backup' : `backup ${usable.backupId} (${formatCoordinates(usable.coordinates)}, taken ${usable.createdAt})`;
  const toText = lastArchived === undefined ? 'no archived transaction' : `last archived transaction ${describeTransaction(lastArchived)}`;
  window.text = `recoverable window: ${fromText} → ${toText}` + (gaps.length === 0 ? '' : `; gaps: ${gaps.map((g) => g.description).join('; ')}`);
  return window;
}

/** The first gap a replay from `start` to `stop` would cross, if any. */
export function firstGapBetween(start: BinlogCoordinates, stop: BinlogCoordinates, gaps: readonly ArchiveGap[]): ArchiveGap | undefined {
  const inRange = (file: string, inclusiveStart: boolean): boolean => {
    const c = compareCoordinates({ file, position: 4 }, start);
    return (inclusiveStart ? c >= 0 : c > 0) && compareCoordinates({ file, position: 4 }, stop) <= 0;
  };
  const blocking = gaps.filter((g) => g.missing.some((m) => inRange(m, true)) || (g.kind === 'gtid' && inRange(g.before, false)));
  return blocking.sort((a, b) => compareBinlogNames(gapLimitFile(a), gapLimitFile(b)))[0];
}

/**
 * A time or before-event target stops just before the first transaction it leaves out. When
 * the archive has a gap between the stop and that transaction (a purged file, the lost tail of a
 * file copied while active), transactions in the gap may precede the target: the stop cannot be
 * proven. Undefined when nothing lies between them.
 */
export function gapHidingTarget(stop: BinlogCoordinates, firstExcluded: { file: string; startPosition: number } | undefined, gaps: readonly ArchiveGap[]): ArchiveGap | undefined {
  if (firstExcluded === undefined) return undefined;
  return firstGapBetween(stop, transactionStart(firstExcluded), gaps);
}

/** The first archived-or-missing file a gap makes unusable: nothing from it onwards can be replayed. */
export function gapLimitFile(g: ArchiveGap): string {
  return g.kind === 'file' ? g.missing[0]! : g.before;
}

/**
 * Refuses a replay from `start` to `stop` that crosses a gap, naming it and the window.
 */
export function assertNoGapBetween(start: BinlogCoordinates, stop: BinlogCoordinates, gaps: readonly ArchiveGap[], window: RecoverableWindow): void {
  const g = firstGapBetween(start, stop, gaps);
  if (g !== undefined) {
    throw new DrillError('BinlogGap', `Cannot replay from ${formatCoordinates(start)} to ${formatCoordinates(stop)}: ${g.description}. ${window.text}`, {
      details: { start, stop, missing: g.missing, gap: g },
    });
  }
}
