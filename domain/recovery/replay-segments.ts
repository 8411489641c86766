/**
 * Leaving transactions out of a replay (a bad UPDATE): which archived transactions a skip
 * names, and the replay cut into segments around them.
 */

import type { BinlogTransaction } from '../binlog/events';
import { compareCoordinates, filesForReplay, formatCoordinates } from '../binlog/files';
import { detectGtidFlavor, normalizeGtid } from '../binlog/gtid';
import { DrillError } from '../errors';
import type { BinlogCoordinates } from '../types';
import { describeTransaction, summarizeTransaction, transactionEnd, transactionStart } from './transactions';

/** A transaction to leave out of the replay: by GTID, or by its exact binlog byte range. */
export type SkipSpec = { gtid: string } | { file: string; startPosition: number; endPosition: number };

const SKIP_SYNTAX = 'a GTID (MySQL uuid:n, MariaDB domain-server-seq) nor a binlog byte range file:start-end (mysql-bin.000004:1234-5678)';
const FILE_RANGE = /^([^\s:]+):(\d+)-(\d+)$/;
const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * A skip as an operator writes it (`pitr --skip`): one GTID, or one transaction's (or several
 * whole transactions') byte range in an archived binlog. Only the form is checked here; that it
 * names transactions inside the replay is {@link resolveSkips}'s to say once the archive is read.
 */
export function parseSkip(text: string): SkipSpec {
  const t = text.trim();
  if (detectGtidFlavor(t) !== undefined) return { gtid: t };
  const range = FILE_RANGE.exec(t);
  if (range && UUID_LIKE.test(range[1]!))
    throw new DrillError('BadTarget', `skip ${JSON.stringify(text)} is a GTID interval: name one GTID per skip (repeat --skip for each)`, { details: { skip: text } });
  if (range) {
    const [startPosition, endPosition] = [Number(range[2]), Number(range[3])];
    if (startPosition < 4 || endPosition <= startPosition)
      throw new DrillError('BadTarget', `skip ${JSON.stringify(text)}: a byte range starts at 4 or later and ends after it starts (the start and end positions of the transaction in SHOW BINLOG EVENTS or mysqlbinlog)`, { details: { skip: text } });
    return { file: range[1]!, startPosition, endPosition };
  }
  throw new DrillError('BadTarget', `skip ${JSON.stringify(text)} is neither ${SKIP_SYNTAX}`, { details: { skip: text } });
}

export function describeSkip(s: SkipSpec): string {
  return 'gtid' in s ? `GTID ${s.gtid}` : `${s.file}:${s.startPosition}-${s.endPosition}`;
}

/**
 * The archived transactions each skip names, in binlog order. A position range must start
 * and end on transaction boundaries (it may span several whole transactions). Every skipped
 * transaction must lie in the replay, after `start` and at or before `stop`.
 */
export function resolveSkips(skips: readonly SkipSpec[], start: BinlogCoordinates, stop: BinlogCoordinates, transactions: readonly BinlogTransaction[]): BinlogTransaction[] {
  const inReplay = transactions.filter((t) => compareCoordinates(transactionStart(t), start) >= 0 && compareCoordinates(transactionEnd(t), stop) <= 0);
  const chosen = new Map<string, BinlogTransaction>();
  const window = `the replay runs from ${formatCoordinates(start)} to ${formatCoordinates(stop)}`;
  for (const s of skips) {
    let found: BinlogTransaction[];
    if ('gtid' in s) {
      const flavor = detectGtidFlavor(s.gtid);
      if (flavor === undefined) throw new DrillError('BadTarget', `skip ${JSON.stringify(s.gtid)} is not a single GTID (MySQL uuid:n, MariaDB domain-server-seq)`);
      const wanted = normalizeGtid(flavor, s.gtid);
      found = inReplay.filter((t) => t.gtid !== undefined && detectGtidFlavor(t.gtid) === flavor && normalizeGtid(flavor, t.gtid) === wanted);
      if (found.length === 0) {
        const anywhere = transactions.find((t) => t.gtid !== undefined && detectGtidFlavor(t.gtid) === flavor && normalizeGtid(flavor, t.gtid) === wanted);
        throw new DrillError(
          'BadTarget',
          anywhere === undefined
            ? `skip GTID ${wanted}: no archived transaction has it; ${window}`
            : `skip GTID ${wanted}: transaction ${describeTransaction(summarizeTransaction(anywhere))} is outside the replay (${window}), so there is nothing to skip`,
          { details: { skip: s } },
        );
      }
    } else {
      const first = inReplay.findIndex((t) => t.file === s.file && t.startPosition === s.startPosition);
      const last = inReplay.findIndex((t) => t.file === s.file && t.endPosition === s.endPosition);
      if (first < 0 || last < first) {
        throw new DrillError(
          'BadTarget',
          `skip ${describeSkip(s)} does not start and end on transaction boundaries inside the replay (${window}); name a transaction as file:start-end from the archive, or by its GTID`,
          { details: { skip: s } },
        );
      }
      found = inReplay.slice(first, last + 1);
    }
    for (const t of found) chosen.set(formatCoordinates(transactionStart(t)), t);
  }
  return [...chosen.values()].sort((a, b) => compareCoordinates(transactionStart(a), transactionStart(b)));
}

/** One run of the binlog tool: from a position in the first file to a position in the last. */
export interface ReplaySegment {
  from: BinlogCoordinates;
  to: BinlogCoordinates;
  files: string[];
}

/**
 * The replay from `start` to `stop` cut around skipped transactions: each segment is one
 * binlog-tool run (`--start-position` applies to its first file, `--stop-position` to its
 * last), and all segments feed ONE client session so session state survives.
 */
export function replaySegments(archived: readonly string[], start: BinlogCoordinates, stop: BinlogCoordinates, skipped: readonly BinlogTransaction[]): ReplaySegment[] {
  const segments: ReplaySegment[] = [];
  let cursor = start;
  const push = (to: BinlogCoordinates): void => {
    if (compareCoordinates(cursor, to) < 0) segments.push({ from: cursor, to, files: filesForReplay(archived, cursor, to) });
  };
  for (const t of [...skipped].sort((a, b) => compareCoordinates(transactionStart(a), transactionStart(b)))) {
    push(transactionStart(t));
    if (compareCoordinates(transactionEnd(t), cursor) > 0) cursor = transactionEnd(t);
  }
  push(stop);
  return segments;
}
