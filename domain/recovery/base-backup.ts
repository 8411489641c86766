/** Which published backup a recovery starts from, and what it already contains. */

import { binlogBase, compareBinlogNames, compareCoordinates, findSequenceGaps, formatCoordinates } from '../binlog/files';
import { DrillError } from '../errors';
import type { BinlogCoordinates } from '../types';
import type { ArchiveIndex } from './archive-index';
import { transactionStart } from './transactions';

/** What a published backup's manifest says about where it starts. */
export interface BackupCandidate {
  manifestPath: string;
  backupId: string;
  createdAt: string;
  /** When the dump completed: no transaction the backup contains committed later. */
  finishedAt?: string;
  coordinates: BinlogCoordinates;
  gtidSet?: string;
}

/**
 * The backup a recovery to `stop` starts from: the newest one (by binlog coordinates, then
 * creation time) whose coordinates are at or before `stop`, so replay only moves forward.
 * No new backup is ever taken for an incident: a backup taken after the accident would
 * contain it. Throws BadTarget naming the oldest backup when none precedes the target.
 */
export function chooseBaseBackup(backups: readonly BackupCandidate[], stop: BinlogCoordinates, targetText: string): BackupCandidate {
  const usable = backups.filter((b) => compareCoordinates(b.coordinates, stop) <= 0);
  if (usable.length === 0) {
    const oldest = [...backups].sort((a, b) => compareCoordinates(a.coordinates, b.coordinates))[0];
    throw new DrillError(
      'BadTarget',
      backups.length === 0
        ? `No published backup of this source exists, so ${targetText} cannot be recovered: a backup taken now would already contain the damage. Publish backups regularly (run drills) before you need them`
        : `No published backup precedes ${targetText} (stop at ${formatCoordinates(stop)}): the oldest backup ${oldest!.backupId} starts at ${formatCoordinates(oldest!.coordinates)}`,
      { details: { stop, backups: backups.map((b) => ({ backupId: b.backupId, coordinates: b.coordinates })) } },
    );
  }
  return usable.sort((a, b) => compareCoordinates(b.coordinates, a.coordinates) || Date.parse(b.createdAt) - Date.parse(a.createdAt))[0]!;
}

/**
 * For refusing time targets that precede a backup: when the archive holds no transaction
 * before the backup's coordinates in its own file (resolveStop compares with those itself),
 * the last commit the backup contains is the previous file's last commit (from the index)
 * or, when that file is not archived (never was, or retention removed it), at the latest
 * the time the backup finished. Undefined when the backup's own file already answers.
 */
export function backupLastCommitBound(
  start: BinlogCoordinates,
  transactions: readonly { file: string; startPosition: number }[],
  index: ArchiveIndex,
  finishedAt: string | undefined,
): string | undefined {
  if (transactions.some((t) => compareCoordinates(transactionStart(t), start) < 0 && t.file === start.file)) return undefined;
  const previous = index.files
    .filter((f) => binlogBase(f.file) === binlogBase(start.file) && compareBinlogNames(f.file, start.file) < 0)
    .sort((a, b) => compareBinlogNames(b.file, a.file))[0];
  const contiguous = previous !== undefined && findSequenceGaps([previous.file, start.file]).length === 0;
  if (contiguous && previous.lastCommitTime !== undefined) return previous.lastCommitTime;
  return finishedAt;
}
