/**
 * Backup and binlog retention: which published backups of a source may go, and which archived
 * binlog files with them. Pure: the janitor activity lists folders and reads manifests and the
 * archive index; this decides.
 *
 * Guarantees: the newest backup is never removed; a backup whose manifest is unreadable is
 * never removed (a human decides); a binlog file is removed only when it lies before the start
 * file of the oldest kept backup, so every kept backup still rolls forward to the end of the
 * archive and only a prefix of the archive ever goes.
 */
import { binlogBase, compareBinlogNames, compareCoordinates, formatCoordinates, sortBinlogNames } from '../binlog/files';
import { DrillError, DrillErrorTypes } from '../errors';
import type { BinlogCoordinates } from '../types';

/** How much of one source's history to keep. */
export interface RetentionPolicy {
  /** The N newest backups (by binlog coordinates) are kept; at least 1. */
  keepBackups: number;
  /** Also keep every backup finished less than this many seconds ago. */
  keepNewerThanSeconds?: number;
  /** The N newest drill reports are kept (at least 1); unset: reports are never pruned. */
  keepReports?: number;
}

/** A policy per source, as the janitor run receives it (workflow input: no secrets). */
export interface SourceRetentionPolicy extends RetentionPolicy {
  source: string;
}

/** A published backup as its manifest describes it. */
export interface RetainedBackupInfo {
  /** The backup's folder name under `backups/`. */
  folder: string;
  backupId: string;
  createdAt: string;
  finishedAt: string;
  coordinates: BinlogCoordinates;
  gtidSet?: string;
  /** An increment: the backups it is restored through (its full backup first), kept while it is. */
  chain?: string[];
}

/** A backup folder whose manifest is missing or does not parse. */
export interface UnreadableBackup {
  folder: string;
  problem: string;
}

export interface RetentionInput {
  backups: readonly RetainedBackupInfo[];
  unreadable: readonly UnreadableBackup[];
  /** Archived binlog file names: those present plus those the index lists. */
  archivedFiles: readonly string[];
  policy: RetentionPolicy;
  now: Date;
}

export interface BackupVerdict {
  folder: string;
  backupId: string;
  reason: string;
}

export interface RetentionDecision {
  removeBackups: BackupVerdict[];
  keepBackups: BackupVerdict[];
  /** Left alone for a human: unreadable manifests. */
  reported: UnreadableBackup[];
  /** Archived files to remove: always a prefix of the archive (in binlog order). */
  removeBinlogs: string[];
  /** The first archived file kept; the archive starts here after the sweep. */
  binlogsKeptFrom?: string;
  binlogReason: string;
}

/** Throws BadConfig when the policy could remove the newest backup or is not a number of backups. */
export function assertRetentionPolicy(policy: RetentionPolicy, source = 'this source'): void {
  if (!Number.isInteger(policy.keepBackups) || policy.keepBackups < 1)
    throw new DrillError(DrillErrorTypes.BadConfig, `retention of ${source}: keepBackups is ${policy.keepBackups}; it must be a whole number of at least 1 (the newest backup is never removed)`);
  const d = policy.keepNewerThanSeconds;
  if (d !== undefined && (!Number.isFinite(d) || d < 0))
    throw new DrillError(DrillErrorTypes.BadConfig, `retention of ${source}: keepBackupsFor is ${d} s; it must be a duration such as 14d`);
  const r = policy.keepReports;
  if (r !== undefined && (!Number.isInteger(r) || r < 1))
    throw new DrillError(DrillErrorTypes.BadConfig, `retention of ${source}: keepReports is ${r}; it must be a whole number of at least 1`);
}

/** Newest first: by binlog coordinates, then by when the backup finished. */
function newestFirst(a: RetainedBackupInfo, b: RetainedBackupInfo): number {
  return compareCoordinates(b.coordinates, a.coordinates) || Date.parse(b.finishedAt) - Date.parse(a.finishedAt);
}

function describeAge(seconds: number): string {
  return seconds % 86400 === 0 ? `${seconds / 86400} d` : `${Math.round(seconds / 3600)} h`;
}

/** A kept increment keeps every backup of its chain: without one of them it cannot be prepared. */
function keepChains(keep: BackupVerdict[], remove: BackupVerdict[], backups: readonly RetainedBackupInfo[]): void {
  const byId = new Map(backups.map((b) => [b.backupId, b]));
  const pending = [...keep];
  while (pending.length > 0) {
    const kept = pending.pop()!;
    for (const id of byId.get(kept.backupId)?.chain ?? []) {
      const at = remove.findIndex((r) => r.backupId === id);
      if (at < 0) continue;
      const [member] = remove.splice(at, 1);
      const verdict = { ...member!, reason: `in the chain of kept increment ${kept.backupId}: it cannot be prepared without it` };
      keep.push(verdict);
      pending.push(verdict);
    }
  }
}

export function decideRetention(input: RetentionInput): RetentionDecision {
  assertRetentionPolicy(input.policy);
  const { keepBackups: keepCount, keepNewerThanSeconds } = input.policy;
  const sorted = [...input.backups].sort(newestFirst);
  const keep: BackupVerdict[] = [];
  const remove: BackupVerdict[] = [];
  sorted.forEach((b, i) => {
    const verdict = (reason: string) => ({ folder: b.folder, backupId: b.backupId, reason });
    const finished = Date.parse(b.finishedAt || b.createdAt);
    const ageSeconds = (input.now.getTime() - finished) / 1000;
    if (i === 0) keep.push(verdict('the newest backup is always kept'));
    else if (i < keepCount) keep.push(verdict(`one of the ${keepCount} newest backups`));
    else if (keepNewerThanSeconds !== undefined && Number.isNaN(ageSeconds)) keep.push(verdict(`finish time ${JSON.stringify(b.finishedAt)} unreadable: its age cannot be checked against ${describeAge(keepNewerThanSeconds)}`));
    else if (keepNewerThanSeconds !== undefined && ageSeconds < keepNewerThanSeconds) keep.push(verdict(`finished less than ${describeAge(keepNewerThanSeconds)} ago`));
    else remove.push(verdict(`older than the ${keepCount} newest backups${keepNewerThanSeconds === undefined ? '' : ` and than ${describeAge(keepNewerThanSeconds)}`}`));
  });

  keepChains(keep, remove, sorted);
  const decision: RetentionDecision = { removeBackups: remove, keepBackups: keep, reported: [...input.unreadable], removeBinlogs: [], binlogReason: '' };
  const keptIds = new Set(keep.map((k) => k.backupId));
  const oldestKept = sorted.filter((b) => keptIds.has(b.backupId)).pop();
  const archive = sortBinlogNames([...new Set(input.archivedFiles)]);
  if (oldestKept === undefined) {
    decision.binlogReason = 'no readable backup: the archive is kept whole';
    return decision;
  }
  const cut = oldestKept.coordinates.file;
  const base = binlogBase(cut);
  // Another series (log_basename changed) is not ordered against this one: keep it.
  decision.removeBinlogs = archive.filter((f) => binlogBase(f) === base && compareBinlogNames(f, cut) < 0);
  const kept = archive.filter((f) => !decision.removeBinlogs.includes(f));
  const keptFrom = kept.find((f) => binlogBase(f) === base) ?? kept[0];
  if (keptFrom !== undefined) decision.binlogsKeptFrom = keptFrom;
  decision.binlogReason = `the oldest kept backup ${oldestKept.backupId} starts at ${formatCoordinates(oldestKept.coordinates)}: every file from ${cut} on is kept for its point-in-time recovery`;
  return decision;
}
