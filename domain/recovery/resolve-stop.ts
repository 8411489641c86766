/**
 * Where a replay from a backup must stop to reach a recovery target, found in the archived
 * transactions; targets the archive cannot serve are refused with the window it does cover.
 */

import type { BinlogTransaction } from '../binlog/events';
import { binlogBase, compareCoordinates, formatCoordinates } from '../binlog/files';
import { detectGtidFlavor, gtidSetContains, normalizeGtid } from '../binlog/gtid';
import type { BinlogCoordinates, Flavor } from '../types';
import { transactionMatches } from './statement-match';
import { badTarget, describeTarget, type RecoveryTarget } from './targets';
import { formatMicros, parseTime, targetTimeMicros, transactionTimeMicros } from './times';
import { transactionEnd, transactionStart } from './transactions';

export interface ResolvedStop {
  /** The last transaction the replay applies. */
  lastApplied?: BinlogTransaction;
  /** The first transaction after the backup that the replay leaves out. */
  firstExcluded?: BinlogTransaction;
  /** Where the replay must stop: the end of lastApplied, or the backup start if nothing applies. */
  stop: BinlogCoordinates;
  /** Set only with `bestEffort`: why the target itself was not reached (the stop is the archive's end). */
  shortfall?: string;
}

export interface ResolveOptions {
  /** Stop at the last archived transaction instead of refusing a target beyond it. */
  bestEffort?: boolean;
  /** The backup's GTID set (gtid_executed / gtid_binlog_pos): a GTID target inside it is refused. */
  startGtidSet?: string;
  /** ISO-8601 commit time of the backup's last transaction, or an upper bound of it: a time target not after it is refused. */
  startTime?: string;
  /**
   * The archive holds every event up to here, and no transaction starts between its last one
   * and here (the end of the last archived file, or the start of a transaction it cuts): a
   * position up to here that follows the last archived transaction is reached by applying them
   * all. MariaDB moves a source's position with no transaction (a binlog checkpoint event).
   */
  archivedThrough?: BinlogCoordinates;
}

function describeTx(t: BinlogTransaction): string {
  const gtid = t.gtid === undefined ? '' : `, GTID ${t.gtid}`;
  return `${t.file}:${t.startPosition}-${t.endPosition} (${formatMicros(transactionTimeMicros(t))}${gtid})`;
}

function windowText(start: BinlogCoordinates, after: BinlogTransaction[]): string {
  if (after.length === 0) return `no transaction is archived after the backup start ${formatCoordinates(start)}`;
  const first = after[0]!;
  const last = after[after.length - 1]!;
  return (
    `the archive covers from the backup start ${formatCoordinates(start)} to ${formatCoordinates(transactionEnd(last))}: ` +
    `first transaction ${describeTx(first)}, last ${describeTx(last)}`
  );
}

function stopAfter(start: BinlogCoordinates, applied: BinlogTransaction | undefined, excluded: BinlogTransaction | undefined): ResolvedStop {
  const r: ResolvedStop = { stop: applied === undefined ? { ...start } : transactionEnd(applied) };
  if (applied !== undefined) r.lastApplied = applied;
  if (excluded !== undefined) r.firstExcluded = excluded;
  return r;
}

/** The archive split at the backup's start, and what every refusal names. */
interface ResolveContext {
  target: RecoveryTarget;
  start: BinlogCoordinates;
  /** Archived transactions already in the backup. */
  before: BinlogTransaction[];
  /** Archived transactions from the backup's start on, in binlog order. */
  after: BinlogTransaction[];
  last: BinlogTransaction | undefined;
  backupText: string;
  opts: ResolveOptions;
}

/**
 * Where a replay from `start` (the backup's binlog coordinates) must stop to reach `target`.
 * `transactions` are the scanned transactions of the archived files, in binlog order; those
 * that start before `start` are already in the backup and only serve to detect targets that
 * precede it.
 *
 * Throws DrillError('BadTarget') when the target precedes the backup, lies inside a
 * transaction (position), matches nothing (beforeEvent), or lies beyond the last archived
 * transaction (time, position, gtid) — the message names the recoverable window. With
 * `bestEffort`, a target beyond the archive resolves to the last archived transaction and
 * `shortfall` says why.
 */
export function resolveStop(
  target: RecoveryTarget,
  start: BinlogCoordinates,
  transactions: readonly BinlogTransaction[],
  opts: ResolveOptions = {},
): ResolvedStop {
  const ordered = [...transactions].sort((a, b) => compareCoordinates(transactionStart(a), transactionStart(b)));
  const after = ordered.filter((t) => compareCoordinates(transactionStart(t), start) >= 0);
  const ctx: ResolveContext = {
    target,
    start,
    before: ordered.filter((t) => compareCoordinates(transactionStart(t), start) < 0),
    after,
    last: after[after.length - 1],
    backupText: `the backup start ${formatCoordinates(start)}`,
    opts,
  };
  switch (target.kind) {
    case 'latest':
      return stopAfter(start, ctx.last, undefined);
    case 'time':
      return stopBeforeTime(ctx, target.at);
    case 'position':
      return stopAtPosition(ctx, { file: target.file, position: target.position });
    case 'gtid':
      return stopAfterGtid(ctx, target.gtid);
    case 'beforeEvent':
      return stopBeforeMatch(ctx, target.pattern);
  }
}

/** A target past the last archived transaction: refused, or with best effort the archive's end and why. */
function beyondArchive(ctx: ResolveContext, what: string): ResolvedStop {
  const { start, after, last } = ctx;
  const window = windowText(start, after);
  if (!ctx.opts.bestEffort) {
    throw badTarget(`${what} is beyond the archived binary logs: ${window}. Archive more binlogs, choose a target inside that window, or use best effort`, {
      target: describeTarget(ctx.target),
      start,
      lastArchived: last === undefined ? undefined : transactionEnd(last),
    });
  }
  return { ...stopAfter(start, last, undefined), shortfall: `${what} is beyond the archived binary logs (${window}); stopped at the last archived transaction` };
}

/** Time targets are exclusive: stop before the first transaction committed at or after `at`. */
function stopBeforeTime(ctx: ResolveContext, at: string): ResolvedStop {
  const { start, before, after } = ctx;
  const { micros, canonical } = parseTime(at);
  if (ctx.opts.startTime !== undefined && targetTimeMicros(ctx.opts.startTime) >= micros) {
    throw badTarget(`Time ${canonical} is not after the backup, whose last transaction committed at or before ${ctx.opts.startTime} (${ctx.backupText})`, {
      target: describeTarget(ctx.target),
      start,
    });
  }
  const inBackup = before.filter((t) => transactionTimeMicros(t) >= micros);
  if (inBackup.length > 0) {
    const t = inBackup[inBackup.length - 1]!;
    throw badTarget(`Time ${canonical} is before the backup: transaction ${describeTx(t)}, committed at or after it, is already in the backup (${ctx.backupText})`, {
      target: describeTarget(ctx.target),
      start,
    });
  }
  const idx = after.findIndex((t) => transactionTimeMicros(t) >= micros);
  if (idx < 0) return beyondArchive(ctx, `Time ${canonical}`);
  return stopAfter(start, idx === 0 ? undefined : after[idx - 1], after[idx]);
}

/** Position targets are inclusive and must fall on a transaction boundary. */
function stopAtPosition(ctx: ResolveContext, pos: BinlogCoordinates): ResolvedStop {
  const { start, after, last } = ctx;
  const startBase = binlogBase(start.file);
  if (binlogBase(pos.file) !== startBase) {
    throw badTarget(`Position ${formatCoordinates(pos)} is not in the backup's binary log series (${startBase}.*; ${ctx.backupText})`, { target: describeTarget(ctx.target), start });
  }
  const cmp = compareCoordinates(pos, start);
  if (cmp < 0) {
    throw badTarget(`Position ${formatCoordinates(pos)} is before ${ctx.backupText}: a replay can only move forward from the backup`, { target: describeTarget(ctx.target), start });
  }
  const inside = after.find((t) => t.file === pos.file && t.startPosition < pos.position && pos.position < t.endPosition);
  if (inside !== undefined) {
    const earlier = formatCoordinates(transactionStart(inside));
    throw badTarget(
      `Position ${formatCoordinates(pos)} is inside transaction ${describeTx(inside)}, not on a transaction boundary; ` +
        `the nearest boundaries are ${earlier} (before it) and ${formatCoordinates(transactionEnd(inside))} (after it)`,
      { target: describeTarget(ctx.target), start, before: earlier, after: formatCoordinates(transactionEnd(inside)) },
    );
  }
  if (cmp === 0) return stopAfter(start, undefined, after[0]);
  if (last === undefined || compareCoordinates(pos, transactionEnd(last)) > 0) {
    const through = ctx.opts.archivedThrough;
    if (through !== undefined && compareCoordinates(pos, through) <= 0) return stopAfter(start, last, undefined);
    return beyondArchive(ctx, `Position ${formatCoordinates(pos)}`);
  }
  const idx = after.findIndex((t) => compareCoordinates(transactionEnd(t), pos) > 0);
  const applied = idx < 0 ? last : idx === 0 ? undefined : after[idx - 1];
  return stopAfter(start, applied, idx < 0 ? undefined : after[idx]);
}

/** GTID targets are inclusive: stop after that transaction. */
function stopAfterGtid(ctx: ResolveContext, gtid: string): ResolvedStop {
  const { start, before, after } = ctx;
  const flavor: Flavor | undefined = detectGtidFlavor(gtid);
  if (flavor === undefined) throw badTarget(`${JSON.stringify(gtid)} is not a single GTID`, { target: describeTarget(ctx.target) });
  const wanted = normalizeGtid(flavor, gtid);
  const same = (t: BinlogTransaction): boolean => t.gtid !== undefined && detectGtidFlavor(t.gtid) === flavor && normalizeGtid(flavor, t.gtid) === wanted;
  const idx = after.findIndex(same);
  if (idx >= 0) return stopAfter(start, after[idx], after[idx + 1]);
  const inBackup = before.find(same);
  if (inBackup !== undefined || (ctx.opts.startGtidSet !== undefined && gtidSetContains(flavor, ctx.opts.startGtidSet, wanted))) {
    throw badTarget(`GTID ${wanted} is already in the backup (${ctx.backupText}${ctx.opts.startGtidSet === undefined ? '' : `, GTID set ${ctx.opts.startGtidSet}`}): the target precedes the backup`, {
      target: describeTarget(ctx.target),
      start,
    });
  }
  return beyondArchive(ctx, `GTID ${wanted}`);
}

/** beforeEvent targets stop before the first transaction after the backup that matches `pattern`. */
function stopBeforeMatch(ctx: ResolveContext, pattern: string): ResolvedStop {
  const { start, before, after } = ctx;
  const idx = after.findIndex((t) => transactionMatches(t, pattern));
  if (idx >= 0) return stopAfter(start, idx === 0 ? undefined : after[idx - 1], after[idx]);
  const earlier = [...before].reverse().find((t) => transactionMatches(t, pattern));
  if (earlier !== undefined) {
    throw badTarget(
      `The only transaction matching ${JSON.stringify(pattern)} is ${describeTx(earlier)}, which is already in the backup (${ctx.backupText}): restore an older backup`,
      { target: describeTarget(ctx.target), start, matched: transactionStart(earlier) },
    );
  }
  throw badTarget(`No archived transaction after ${ctx.backupText} matches ${JSON.stringify(pattern)}; ${windowText(start, after)}`, {
    target: describeTarget(ctx.target),
    start,
  });
}
