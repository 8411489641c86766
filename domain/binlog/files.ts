/**
 * The sequence of binary log files: ordering, gaps, and which archived files a replay needs.
 *
 * A binlog file is named `<base>.<index>`, e.g. `mysql-bin.000042`. The index is zero-padded
 * to at least six digits and grows past 999999 without padding (`mysql-bin.1000000`), so
 * names must be compared by base and numeric index, never as strings.
 *
 * Pure module, importable from workflow code: no Node built-ins, no I/O.
 */

import { DrillError } from '../errors';
import type { BinlogCoordinates } from '../types';

const NAME = /^(.*)\.(\d+)$/;

interface ParsedName {
  base: string;
  index: number;
  digits: number;
}

function parseName(name: string): ParsedName {
  const m = NAME.exec(name);
  if (m === null || m[1] === '') {
    throw new DrillError('BadConfig', `${JSON.stringify(name)} is not a binary log file name (expected <base>.<number>, e.g. mysql-bin.000042)`, {
      details: { file: name },
    });
  }
  const index = Number(m[2]);
  if (!Number.isSafeInteger(index)) {
    throw new DrillError('BadConfig', `Binary log file name ${JSON.stringify(name)} has an index too large to handle`, { details: { file: name } });
  }
  return { base: m[1]!, index, digits: m[2]!.length };
}

/** The numeric suffix of a binlog file name: `mysql-bin.000042` → 42. */
export function binlogIndex(name: string): number {
  return parseName(name).index;
}

/** The base of a binlog file name: `mysql-bin.000042` → `mysql-bin`. */
export function binlogBase(name: string): string {
  return parseName(name).base;
}

/** `mysql-bin` + 43, padded like `like` (at least six digits): `mysql-bin.000043`. */
export function binlogName(base: string, index: number, like?: string): string {
  const digits = like === undefined ? 6 : parseName(like).digits;
  return `${base}.${String(index).padStart(digits, '0')}`;
}

/** Orders by base name, then numerically by index. */
export function compareBinlogNames(a: string, b: string): number {
  const pa = parseName(a);
  const pb = parseName(b);
  if (pa.base !== pb.base) return pa.base < pb.base ? -1 : 1;
  return pa.index - pb.index;
}

/** A sorted copy (by base, then index). */
export function sortBinlogNames(names: readonly string[]): string[] {
  return [...names].sort(compareBinlogNames);
}

/** Orders coordinates by file (see {@link compareBinlogNames}), then position. */
export function compareCoordinates(a: BinlogCoordinates, b: BinlogCoordinates): number {
  const byFile = compareBinlogNames(a.file, b.file);
  return byFile !== 0 ? byFile : a.position - b.position;
}

export function formatCoordinates(c: BinlogCoordinates): string {
  return `${c.file}:${c.position}`;
}

export interface SequenceGap {
  /** The last present file before the gap. */
  after: string;
  /** The first present file after the gap. */
  before: string;
  /** Every missing name, in order. */
  missing: string[];
}

/**
 * Holes in the numbering of each base's files, e.g. `mysql-bin.000043` missing between
 * `.000042` and `.000044`. Duplicates are ignored; files of different bases never form a gap.
 */
export function findSequenceGaps(names: readonly string[]): SequenceGap[] {
  const sorted = sortBinlogNames([...new Set(names)]);
  const gaps: SequenceGap[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = parseName(sorted[i - 1]!);
    const next = parseName(sorted[i]!);
    if (prev.base !== next.base || next.index - prev.index <= 1) continue;
    const missing: string[] = [];
    for (let n = prev.index + 1; n < next.index; n++) missing.push(binlogName(prev.base, n, sorted[i - 1]));
    gaps.push({ after: sorted[i - 1]!, before: sorted[i]!, missing });
  }
  return gaps;
}

/** At most this many missing names are listed in an error's details. */
const MAX_LISTED_MISSING = 1000;

/** `a.000043, a.000044`, or `a.000043, a.000044, a.000045, … a.000050 (8 files)`. */
function describeMissing(missing: string[], count: number, lastMissing: string): string {
  if (count <= 5) return missing.join(', ');
  return `${missing.slice(0, 3).join(', ')}, … ${lastMissing} (${count} files)`;
}

/**
 * The archived files a replay from `from` to `to` (default: the newest archived file) reads,
 * in order. Throws DrillError('BinlogGap') naming the missing files when the archive lacks any
 * file of that range (including when the range starts before the oldest archived file or ends
 * after the newest), and DrillError('BadTarget') when `to` precedes `from`.
 * Archived files of another base name are ignored.
 */
export function filesForReplay(archived: readonly string[], from: BinlogCoordinates, to?: BinlogCoordinates): string[] {
  const fromName = parseName(from.file);
  if (to !== undefined) {
    const toName = parseName(to.file);
    if (toName.base !== fromName.base) {
      throw new DrillError(
        'BadTarget',
        `Target ${formatCoordinates(to)} is in a different binary log series than the backup start ${formatCoordinates(from)}`,
        { details: { from, to } },
      );
    }
    if (compareCoordinates(to, from) < 0) {
      throw new DrillError(
        'BadTarget',
        `Target ${formatCoordinates(to)} is before the backup start ${formatCoordinates(from)}: a replay can only move forward`,
        { details: { from, to } },
      );
    }
  }
  const byIndex = new Map<number, string>();
  for (const name of archived) {
    const p = parseName(name);
    if (p.base === fromName.base) byIndex.set(p.index, name);
  }
  const range = `from ${formatCoordinates(from)} to ${to === undefined ? 'the newest archived file' : formatCoordinates(to)}`;
  if (byIndex.size === 0) {
    throw new DrillError('BinlogGap', `No ${fromName.base}.* binary logs are archived; the replay ${range} needs ${from.file} onwards`, {
      details: { from, to, missing: [from.file], archived: [...archived] },
    });
  }
  const indexes = [...byIndex.keys()].sort((a, b) => a - b);
  const first = indexes[0]!;
  const last = indexes[indexes.length - 1]!;
  const toIndex = to === undefined ? Math.max(last, fromName.index) : parseName(to.file).index;
  const missing: string[] = [];
  let missingCount = 0;
  let lastMissing = '';
  const files: string[] = [];
  for (let n = fromName.index; n <= toIndex; n++) {
    const name = byIndex.get(n);
    if (name !== undefined) {
      files.push(name);
      continue;
    }
    missingCount++;
    lastMissing = binlogName(fromName.base, n, from.file);
    if (missing.length < MAX_LISTED_MISSING) missing.push(lastMissing);
    // Past the newest archived file every index is missing: no need to walk them one by one.
    if (n > last && toIndex - n > MAX_LISTED_MISSING) {
      missingCount += toIndex - n;
      lastMissing = binlogName(fromName.base, toIndex, from.file);
      break;
    }
  }
  if (missingCount > 0) {
    const oldest = byIndex.get(first)!;
    const newest = byIndex.get(last)!;
    let why: string;
    if (fromName.index < first) why = `the archive starts at ${oldest}, after the backup start ${formatCoordinates(from)}`;
    else if (toIndex > last) why = `the archive ends at ${newest}`;
    else why = 'the archive has a hole';
    throw new DrillError(
      'BinlogGap',
      `Cannot replay ${range}: ${why}; missing ${describeMissing(missing, missingCount, lastMissing)} (archived ${oldest} … ${newest})`,
      { details: { from, to, missing, missingCount, oldest, newest } },
    );
  }
  return files;
}
