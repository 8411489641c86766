/**
 * Where a bisect without `--from` starts: the newest published backup before the target on
 * which the query passes. Each backup tried costs a restore, so the walk back is bounded.
 * Pure: the choice and the refusal's words.
 */
import { compareCoordinates, formatCoordinates } from '../binlog/files';
import { DrillError } from '../errors';
import type { BackupCandidate } from '../recovery/base-backup';
import type { BinlogCoordinates } from '../types';

/** Backups a bisect restores at most, newest first, looking for one on which the query passes. */
export const BISECT_BACKUPS_TRIED = 3;

/** A backup tried as the start, on which the query failed. */
export interface FailedStart {
  manifestPath: string;
  /** The query's value on it. */
  value: string;
}

/**
 * The next backup to try: the newest one at or before `stop` not tried yet. Refused with
 * BadTarget when {@link BISECT_BACKUPS_TRIED} have failed or no older backup is left.
 */
export function nextBisectStart(backups: readonly BackupCandidate[], stop: BinlogCoordinates, tried: readonly FailedStart[], expected: string): BackupCandidate {
  const failed = new Set(tried.map((t) => t.manifestPath));
  const newestFirst = backups
    .filter((b) => compareCoordinates(b.coordinates, stop) <= 0)
    .sort((a, b) => compareCoordinates(b.coordinates, a.coordinates) || Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const next = newestFirst.find((b) => !failed.has(b.manifestPath));
  if (next && tried.length < BISECT_BACKUPS_TRIED) return next;
  throw new DrillError('BadTarget', noPassingStart(tried, expected, next ? `the bisect tries at most ${BISECT_BACKUPS_TRIED}` : `no older backup precedes ${formatCoordinates(stop)}`), {
    details: { tried },
  });
}

/** Why no start was found: every backup tried, with the query's value on it. */
export function noPassingStart(tried: readonly FailedStart[], expected: string, why: string): string {
  const list = tried.map((t) => `${t.manifestPath} (it returns ${t.value})`).join(', ');
  return `the start is wrong: the query already fails on ${tried.length === 1 ? 'the newest backup' : `each of the ${tried.length} newest backups`} before the target, expected ${expected}: ${list}; ${why}. Start from an older backup with --from <manifest.json>, or check the query`;
}
