/**
 * A source's binlog archive as its index records it: the files, the gaps between them, and
 * where an archiving run resumes.
 */

import { binlogBase, compareBinlogNames, findSequenceGaps, sortBinlogNames } from '../binlog/files';
import { gtidSetEquals, gtidSetUnion, normalizeGtidSet } from '../binlog/gtid';
import type { Flavor } from '../types';

/** One file of a source's binlog archive, as its index records it. */
export interface ArchivedFileEntry {
  file: string;
  bytes: number;
  sha256: string;
  /** Offset after the last complete event. */
  endPosition: number;
  /** GTID state at the file's start (MySQL PREVIOUS_GTIDS, MariaDB GTID_LIST). */
  previousGtids?: string;
  /** GTIDs of the file's transactions: MySQL a set, MariaDB the last per domain. */
  gtids?: string;
  firstCommitTime?: string;
  lastCommitTime?: string;
  /** The file ends with a ROTATE or STOP event: it will not grow any more. */
  sealed: boolean;
  archivedAt: string;
}

export interface ArchiveIndex {
  format: 1;
  source: string;
  flavor?: Flavor;
  files: ArchivedFileEntry[];
}

export interface ArchiveGap {
  kind: 'file' | 'gtid';
  /** The last usable file before the gap. */
  after: string;
  /** The first file after the gap. */
  before: string;
  /** Missing file names (kind 'file'). */
  missing: string[];
  description: string;
}

/**
 * Gaps of an archive: names missing from the numbering, files the index lists but that are
 * absent, and (when both files carry GTID state) transactions missing between two
 * consecutive files: the state at the start of file n+1 must equal the state at the start of
 * file n plus the GTIDs of file n.
 */
export function findArchiveGaps(index: ArchiveIndex, present: readonly string[], flavor: Flavor): ArchiveGap[] {
  const presentSet = new Set(present);
  const gaps: ArchiveGap[] = [];
  const known = sortBinlogNames([...new Set([...index.files.map((f) => f.file), ...present])]);
  const absent = known.filter((n) => !presentSet.has(n));
  for (const g of findSequenceGaps(known.filter((n) => presentSet.has(n)))) {
    gaps.push({ kind: 'file', after: g.after, before: g.before, missing: g.missing, description: `binlog ${g.missing.join(', ')} missing between ${g.after} and ${g.before}` });
  }
  // Absent files at either end of the present range are gaps too (the index knew them).
  const presentSorted = sortBinlogNames(present);
  for (const name of absent) {
    if (gaps.some((g) => g.missing.includes(name))) continue;
    const after = [...presentSorted].reverse().find((p) => compareBinlogNames(p, name) < 0) ?? '(start)';
    const before = presentSorted.find((p) => compareBinlogNames(p, name) > 0) ?? '(end)';
    gaps.push({ kind: 'file', after, before, missing: [name], description: `binlog ${name} is listed in the archive index but missing from the archive` });
  }
  const byName = new Map(index.files.map((f) => [f.file, f]));
  for (let i = 1; i < presentSorted.length; i++) {
    const prev = byName.get(presentSorted[i - 1]!);
    const next = byName.get(presentSorted[i]!);
    if (prev === undefined || next === undefined || prev.previousGtids === undefined || next.previousGtids === undefined) continue;
    if (gaps.some((g) => g.after === prev.file && g.before === next.file)) continue;
    const expected = gtidSetUnion(flavor, prev.previousGtids, prev.gtids ?? '');
    if (!gtidSetEquals(flavor, expected, next.previousGtids)) {
      gaps.push({
        kind: 'gtid',
        after: prev.file,
        before: next.file,
        missing: [],
        description: `GTID gap between ${prev.file} and ${next.file}: ${prev.file} ends at ${expected || '(empty)'} but ${next.file} starts at ${normalizeGtidSet(flavor, next.previousGtids) || '(empty)'} (transactions are missing from the archive; ${prev.file} may be an incomplete copy)`,
      });
    }
  }
  return gaps;
}

/**
 * Where an archiving run resumes: the archive is append-only, so it refetches its newest file
 * (which may be a partial copy of a file that was active then) and what follows, even when
 * the backup at hand needs only a later file: starting past the newest file would leave its
 * missing tail as a hole in the archive. Only an archive that does not reach back to `wanted`
 * (the oldest file a backup needs) is refetched from `wanted`. A hole in the middle is never
 * papered over by a refetch here: it is reported as a gap.
 */
export function archiveResumeFile(archived: readonly string[], wanted: string): string {
  const base = binlogBase(wanted);
  const same = sortBinlogNames(archived.filter((n) => binlogBase(n) === base));
  if (same.length === 0) return wanted;
  const oldest = same[0]!;
  if (compareBinlogNames(wanted, oldest) < 0) return wanted;
  return same[same.length - 1]!;
}

/**
 * Where an archiving run starts over when the source no longer has the archive's newest file
 * (purged before it was completed): the oldest file a backup needs (`wanted`), or, when the
 * source purged that one too, the oldest file it still has: the archive then holds all that can
 * still be had, and planning reports the hole for the replays and targets it breaks.
 */
export function archiveFallbackFile(wanted: string, oldestOnSource: string | undefined): string {
  if (oldestOnSource === undefined || binlogBase(oldestOnSource) !== binlogBase(wanted)) return wanted;
  return compareBinlogNames(oldestOnSource, wanted) > 0 ? oldestOnSource : wanted;
}
