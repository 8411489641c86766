/**
 * Decisions taken at the door, before any sandbox starts, about a backup a team already has:
 * is it still being written, is it suspiciously small, is it complete, can we restore it at
 * all, and which one of a listing to drill. Pure: sizes, times and texts in, errors out.
 */
import { incompleteDumpError } from '../dump/format';
import { DrillError, DrillErrorTypes } from '../errors';
import { formatBytes } from '../report/report';
import type { BackupFormat, BackupKind } from './format';

/** What a stat (or an object store's HEAD) says about a file at one moment. */
export interface ArtifactObservation {
  size: number;
  mtimeMs?: number;
  etag?: string;
}

/**
 * ArtifactInFlight (retryable) when a file changed between the observation taken before
 * reading it and the one taken after: a backup still being written (seed 000: a reader and a
 * writer on one file) is retried later, never called corrupt.
 */
export function checkNotInFlight(name: string, before: ArtifactObservation, after: ArtifactObservation): void {
  const change =
    before.size !== after.size
      ? `size ${before.size} -> ${after.size}`
      : before.mtimeMs !== after.mtimeMs
        ? `modified time ${iso(before.mtimeMs)} -> ${iso(after.mtimeMs)}`
        : before.etag !== after.etag
          ? `etag ${before.etag ?? 'none'} -> ${after.etag ?? 'none'}`
          : undefined;
  if (change === undefined) return;
  throw new DrillError(
    DrillErrorTypes.ArtifactInFlight,
    `file ${name} changed while it was read (${change}): a backup still being written; retried later, not called corrupt`,
    { details: { name, before, after } },
  );
}

const iso = (ms: number | undefined): string => (ms === undefined ? 'none' : new Date(ms).toISOString());

/** Default {@link checkBackupSize} ratio: half the last good backup. */
export const DEFAULT_MIN_SIZE_RATIO = 0.5;

/**
 * BackupTooSmall when a backup is empty, or smaller than `ratio` times the last good backup
 * of the same source: the signature of a dump cut short or of a backup of the wrong server.
 */
export function checkBackupSize(
  name: string,
  size: number,
  lastGood?: { name: string; size: number },
  ratio = DEFAULT_MIN_SIZE_RATIO,
): void {
  if (size === 0) {
    throw new DrillError(
      DrillErrorTypes.BackupTooSmall,
      `${name} is empty (0 bytes): the backup job wrote nothing; check its log and exit status`,
      { details: { name, size } },
    );
  }
  if (lastGood === undefined || size >= lastGood.size * ratio) return;
  throw new DrillError(
    DrillErrorTypes.BackupTooSmall,
    `${name} is ${formatBytes(size)}, less than ${Math.round(ratio * 100)}% of the last good backup of this source ` +
      `(${lastGood.name}, ${formatBytes(lastGood.size)}): a backup cut short, or of another server; ` +
      'if the data really shrank, lower the ratio for this source',
    { details: { name, size, lastGood, ratio } },
  );
}

/** DumpTruncated when a mysqldump / mariadb-dump file lacks its `-- Dump completed` trailer. */
export function checkDumpComplete(name: string, tail: string): void {
  const err = incompleteDumpError(name, tail);
  if (err) throw err;
}

/**
 * mydumper writes `metadata.partial` at its start and renames it `metadata` when the dump is
 * done, then with a `Finished dump at:` line: a directory without them is not a whole backup.
 */
export function checkMydumperComplete(name: string, files: readonly string[], metadata?: string): void {
  const base = files.map((f) => f.split('/').pop());
  if (!base.includes('metadata')) {
    const partial = base.includes('metadata.partial');
    throw new DrillError(
      partial ? DrillErrorTypes.ArtifactInFlight : DrillErrorTypes.DumpTruncated,
      partial
        ? `mydumper directory ${name} has metadata.partial and no metadata: mydumper is still writing it (retried later), or died part-way if this persists`
        : `mydumper directory ${name} has no metadata file: it is not a complete mydumper backup; take a new one`,
      { details: { name } },
    );
  }
  if (metadata !== undefined && !/^#? ?Finished dump at: /m.test(metadata)) {
    throw new DrillError(
      DrillErrorTypes.DumpTruncated,
      `mydumper directory ${name} has a metadata file without its "Finished dump at" line: mydumper stopped before the end; take a new backup`,
      { details: { name } },
    );
  }
}

/** Kinds restore-drill restores today. XtraBackup needs an image that ships xtrabackup. */
export const RESTORABLE_KINDS: readonly BackupKind[] = ['logical-dump', 'mydumper', 'mariabackup'];

/** UnsupportedBackupFormat when a recognised backup cannot be restored with the tools at hand. */
export function checkRestorable(name: string, format: BackupFormat, restorable: readonly BackupKind[] = RESTORABLE_KINDS): void {
  const refuse = (why: string): never => {
    throw new DrillError(DrillErrorTypes.UnsupportedBackupFormat, `${name} ${why}`, { details: { name, kind: format.kind, tool: format.tool } });
  };
  if (!restorable.includes(format.kind)) {
    if (format.kind === 'xtrabackup') {
      refuse(
        `is a Percona XtraBackup backup${format.toolVersion ? ` (xtrabackup ${format.toolVersion})` : ''}: restoring it needs an image with ` +
          'xtrabackup of the same major version as the server, which this deployment does not have',
      );
    }
    refuse(`is a ${format.kind} backup, which this deployment is not set up to restore`);
  }
  if (format.physical?.incremental) {
    refuse("is an incremental physical backup: it restores only on top of its full backup and the increments before it, and a team's chain is not drilled yet; drill its full backup, or let the engine take and drill its own chains (backup: { method: physical, kind: incremental })");
  }
}

// ---- which backup of a listing -----------------------------------------------------------------

export interface ListedBackup {
  /** Object key or path. */
  key: string;
  size: number;
  modifiedMs: number;
}

export type PickPolicy =
  | { kind: 'latest' }
  | { kind: 'oldest' }
  /** One of the backups of the last `withinDays` days; `random` in [0, 1) is drawn by the caller. */
  | { kind: 'random'; withinDays: number; nowMs: number; random: number }
  | { kind: 'named'; key: string };

const DAY_MS = 24 * 3600 * 1000;

/** The backup a drill restores out of a listing of `where` (e.g. `s3://b/p/`). */
export function pickBackup(where: string, list: readonly ListedBackup[], policy: PickPolicy = { kind: 'latest' }): ListedBackup {
  if (list.length === 0) {
    throw new DrillError(DrillErrorTypes.BadConfig, `no backups under ${where} — check the prefix`, { details: { where } });
  }
  // Newest first; equal times by key, so the same listing always gives the same pick.
  const byAge = [...list].sort((a, b) => b.modifiedMs - a.modifiedMs || a.key.localeCompare(b.key));
  switch (policy.kind) {
    case 'latest':
      return byAge[0]!;
    case 'oldest':
      return byAge[byAge.length - 1]!;
    case 'named': {
      const found = list.find((b) => b.key === policy.key || b.key.endsWith(`/${policy.key}`));
      if (found) return found;
      throw new DrillError(
        DrillErrorTypes.BadConfig,
        `no backup ${policy.key} under ${where}; the newest there: ${byAge.slice(0, 3).map((b) => b.key).join(', ')}`,
        { details: { where, key: policy.key } },
      );
    }
    case 'random': {
      if (!(policy.random >= 0 && policy.random < 1) || !(policy.withinDays > 0)) {
        throw new DrillError(DrillErrorTypes.BadConfig, `random pick needs 0 <= random < 1 and withinDays > 0 (got ${policy.random}, ${policy.withinDays})`);
      }
      const recent = byAge.filter((b) => b.modifiedMs >= policy.nowMs - policy.withinDays * DAY_MS);
      if (recent.length === 0) {
        throw new DrillError(
          DrillErrorTypes.BadConfig,
          `no backup under ${where} in the last ${policy.withinDays} days: the newest, ${byAge[0]!.key}, is from ${iso(byAge[0]!.modifiedMs)}; are backups still being taken?`,
          { details: { where, withinDays: policy.withinDays } },
        );
      }
      return recent[Math.floor(policy.random * recent.length)]!;
    }
  }
}
