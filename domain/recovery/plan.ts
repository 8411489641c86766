/**
 * Point-in-time recovery decisions: which backup serves a target, what the archive can
 * reach (the recoverable window and its gaps), which transactions a skip removes, how the
 * replay is cut into segments around them, what RPO was achieved and whether the sandbox
 * proves the point reached.
 *
 * Pure module, importable from workflow code: no Node built-ins, no I/O, no clock.
 */

import type { BinlogTransaction } from '../binlog/events';
import { binlogBase, compareBinlogNames, compareCoordinates, filesForReplay, findSequenceGaps, formatCoordinates, sortBinlogNames } from '../binlog/files';
import { DrillError } from '../errors';
import {
  addInterval,
  detectGtidFlavor,
  formatMariadbGtidList,
  formatMysqlGtidSet,
  gtidSetContains,
  gtidSetEquals,
  gtidSetUnion,
  normalizeGtid,
  normalizeGtidSet,
  parseMariadbGtid,
  parseMysqlGtid,
} from '../binlog/gtid';
import type { MariadbGtidList, MysqlGtidSet } from '../binlog/gtid';
import { formatMicros, transactionTimeMicros } from './targets';
import type { BinlogCoordinates, Flavor } from '../types';

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

function txStart(t: { file: string; startPosition: number }): BinlogCoordinates {
  return { file: t.file, position: t.startPosition };
}

function txEnd(t: { file: string; endPosition: number }): BinlogCoordinates {
  return { file: t.file, position: t.endPosition };
}

// ---------------------------------------------------------------------------------------
// Base backup
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Archive index and recoverable window
// ---------------------------------------------------------------------------------------

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

export interface RecoverableWindow {
  /** The oldest backup whose start the archive covers without a gap up to `to`. */
  from?: { backupId: string; coordinates: BinlogCoordinates; createdAt: string };
  /** The last archived transaction. */
  to?: TransactionSummary;
  gaps: ArchiveGap[];
  text: string;
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
  if (transactions.some((t) => compareCoordinates(txStart(t), start) < 0 && t.file === start.file)) return undefined;
  const previous = index.files
    .filter((f) => binlogBase(f.file) === binlogBase(start.file) && compareBinlogNames(f.file, start.file) < 0)
    .sort((a, b) => compareBinlogNames(b.file, a.file))[0];
  const contiguous = previous !== undefined && findSequenceGaps([previous.file, start.file]).length === 0;
  if (contiguous && previous.lastCommitTime !== undefined) return previous.lastCommitTime;
  return finishedAt;
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
  return firstGapBetween(stop, txStart(firstExcluded), gaps);
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

// ---------------------------------------------------------------------------------------
// Skipping transactions
// ---------------------------------------------------------------------------------------

/** A transaction to leave out of the replay: by GTID, or by its exact binlog byte range. */
export type SkipSpec = { gtid: string } | { file: string; startPosition: number; endPosition: number };

export function describeSkip(s: SkipSpec): string {
  return 'gtid' in s ? `GTID ${s.gtid}` : `${s.file}:${s.startPosition}-${s.endPosition}`;
}

/**
 * The archived transactions each skip names, in binlog order. A position range must start
 * and end on transaction boundaries (it may span several whole transactions). Every skipped
 * transaction must lie in the replay, after `start` and at or before `stop`.
 */
export function resolveSkips(skips: readonly SkipSpec[], start: BinlogCoordinates, stop: BinlogCoordinates, transactions: readonly BinlogTransaction[]): BinlogTransaction[] {
  const inReplay = transactions.filter((t) => compareCoordinates(txStart(t), start) >= 0 && compareCoordinates(txEnd(t), stop) <= 0);
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
    for (const t of found) chosen.set(formatCoordinates(txStart(t)), t);
  }
  return [...chosen.values()].sort((a, b) => compareCoordinates(txStart(a), txStart(b)));
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
  for (const t of [...skipped].sort((a, b) => compareCoordinates(txStart(a), txStart(b)))) {
    push(txStart(t));
    if (compareCoordinates(txEnd(t), cursor) > 0) cursor = txEnd(t);
  }
  push(stop);
  return segments;
}

/** POSIX shell quoting for a generated command line. */
function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell text that replays all segments into one client: `( tool … ; tool … ) | client`.
 * MySQL documents this form for several binlog runs: separate client sessions would lose
 * temporary tables and session state between them.
 * https://dev.mysql.com/doc/refman/8.4/en/mysqlbinlog.html (processing multiple files)
 */
export function replayPipeline(tool: string, dir: string, segments: readonly ReplaySegment[], client: readonly string[]): string {
  const runs = segments.map((s) =>
    [tool, `--start-position=${s.from.position}`, `--stop-position=${s.to.position}`, ...s.files.map((f) => quote(`${dir.replace(/\/$/, '')}/${f}`))].join(' '),
  );
  return `( ${runs.join('; ')} ) | ${client.join(' ')}`;
}

// ---------------------------------------------------------------------------------------
// Expected state, RPO and proof
// ---------------------------------------------------------------------------------------

/**
 * The GTID set a MySQL sandbox must show after the replay: the backup's set plus every
 * applied transaction's GTID. Undefined when the backup has no set or a transaction has no GTID.
 */
export function expectedGtidSet(flavor: Flavor, backupGtidSet: string | undefined, applied: readonly BinlogTransaction[]): string | undefined {
  if (flavor !== 'mysql' || backupGtidSet === undefined) return undefined;
  if (applied.some((t) => t.gtid === undefined)) return undefined;
  return gtidSetUnion('mysql', backupGtidSet, gtidSetOf('mysql', applied.map((t) => t.gtid!)));
}

/** The set (MySQL) or per-domain position (MariaDB) of many GTIDs, built in one pass. */
export function gtidSetOf(flavor: Flavor, gtids: readonly string[]): string {
  if (flavor === 'mysql') {
    const set: MysqlGtidSet = new Map();
    for (const g of gtids) {
      const p = parseMysqlGtid(g);
      addInterval(set, p.uuid, p.tag, { start: p.gno, end: p.gno });
    }
    return formatMysqlGtidSet(set);
  }
  const list: MariadbGtidList = new Map();
  for (const g of gtids) {
    const p = parseMariadbGtid(g);
    const prev = list.get(p.domain);
    if (prev === undefined || p.seq > prev.seq) list.set(p.domain, p);
  }
  return formatMariadbGtidList(list);
}

/**
 * Data loss of the recovery in seconds: 0 when the target was reached. When it was not
 * (best effort), the time between the last applied commit and what was asked: the target
 * time, or for other targets `nowMicros` (everything after the archive's end is lost).
 */
export function achievedRpoSeconds(opts: { reached: boolean; targetTimeMicros?: number; lastAppliedMicros?: number; nowMicros: number }): number {
  if (opts.reached) return 0;
  const asked = opts.targetTimeMicros ?? opts.nowMicros;
  const got = opts.lastAppliedMicros ?? 0;
  return Math.max(0, Math.round((asked - got) / 1000)) / 1000;
}

export interface RecoveryProof {
  method: 'gtid_executed' | 'gtid_slave_pos' | 'unavailable';
  passed?: boolean;
  expected?: string;
  actual?: string;
  /** What was checked, or why nothing could be. */
  message: string;
}

/**
 * Compares a MySQL sandbox's `@@gtid_executed` with what the archive says was applied: equal
 * to the expected set, containing the last applied GTID, and containing neither the first
 * transaction not applied nor any skipped one.
 */
export function proveByGtidExecuted(actual: string, expected: string | undefined, lastApplied?: TransactionSummary, firstNotApplied?: TransactionSummary, skipped: readonly TransactionSummary[] = []): RecoveryProof {
  const problems: string[] = [];
  const norm = normalizeGtidSet('mysql', actual);
  if (expected !== undefined && !gtidSetEquals('mysql', expected, norm)) problems.push(`gtid_executed is ${norm || '(empty)'} but the archive says ${expected || '(empty)'}`);
  if (lastApplied?.gtid !== undefined && !gtidSetContains('mysql', norm, lastApplied.gtid)) problems.push(`last applied transaction ${lastApplied.gtid} is missing`);
  if (firstNotApplied?.gtid !== undefined && gtidSetContains('mysql', norm, firstNotApplied.gtid)) problems.push(`first transaction not to apply ${firstNotApplied.gtid} was applied`);
  for (const s of skipped) if (s.gtid !== undefined && gtidSetContains('mysql', norm, s.gtid)) problems.push(`skipped transaction ${s.gtid} was applied`);
  const proof: RecoveryProof = {
    method: 'gtid_executed',
    passed: problems.length === 0,
    actual: norm,
    message:
      problems.length === 0
        ? `sandbox gtid_executed matches the archive: last applied ${lastApplied?.gtid ?? '(none)'}, first not applied ${firstNotApplied?.gtid ?? '(none)'}${skipped.length ? `, skipped ${skipped.map((s) => s.gtid).join(', ')}` : ''}`
        : problems.join('; '),
  };
  if (expected !== undefined) proof.expected = expected;
  return proof;
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

/** What a recovery reached, as the drill report states it. */
export interface RecoveryReport {
  /** The backup replay started from, and how it was chosen. */
  baseBackup: { manifestPath: string; coordinates: BinlogCoordinates; chosen: 'given' | 'taken' | 'newest-before-target' };
  transactionsApplied: number;
  lastApplied?: TransactionSummary;
  firstNotApplied?: TransactionSummary;
  skipped: TransactionSummary[];
  lastArchived?: TransactionSummary;
  /** Best effort: why the target itself was not reached. */
  shortfall?: string;
  window: string;
  proof?: RecoveryProof;
}

/**
 * MariaDB: after a replay by the server's applier, `@@gtid_slave_pos` is the position of the
 * last applied GTID per domain. It must name the last applied transaction's GTID exactly
 * (not the first one left out). Empty: the client replay leaves no GTID state to read.
 */
export function proveByGtidSlavePos(actual: string, lastApplied?: TransactionSummary, firstNotApplied?: TransactionSummary): RecoveryProof {
  const norm = normalizeGtidSet('mariadb', actual);
  if (norm === '' || lastApplied?.gtid === undefined) {
    return { method: 'unavailable', actual: norm, message: 'the sandbox keeps no GTID position for this replay (MariaDB without a binary log, replayed through the client); the point reached rests on the archive plan and the data checks' };
  }
  const problems: string[] = [];
  if (!gtidSetContains('mariadb', norm, lastApplied.gtid)) problems.push(`last applied transaction ${lastApplied.gtid} is not reached (gtid_slave_pos ${norm})`);
  if (firstNotApplied?.gtid !== undefined && gtidSetContains('mariadb', norm, firstNotApplied.gtid)) problems.push(`first transaction not to apply ${firstNotApplied.gtid} was applied (gtid_slave_pos ${norm})`);
  return {
    method: 'gtid_slave_pos',
    passed: problems.length === 0,
    actual: norm,
    expected: lastApplied.gtid,
    message: problems.length === 0 ? `sandbox gtid_slave_pos ${norm} is exactly the last applied transaction ${lastApplied.gtid}` : problems.join('; '),
  };
}

/** Lines for the text and Markdown reports: where the recovery started, where it landed, what it left out. */
export function describeRecovery(r: RecoveryReport): string[] {
  const lines = [
    `base backup ${r.baseBackup.manifestPath} at ${formatCoordinates(r.baseBackup.coordinates)} (${r.baseBackup.chosen})`,
    `applied ${r.transactionsApplied} transaction(s); last applied ${r.lastApplied ? describeTransaction(r.lastApplied) : '(none: the backup itself)'}`,
    `first not applied ${r.firstNotApplied ? describeTransaction(r.firstNotApplied) : '(none: the archive ends here)'}`,
  ];
  for (const s of r.skipped) lines.push(`skipped ${describeTransaction(s)}`);
  if (r.shortfall !== undefined) lines.push(`shortfall: ${r.shortfall}`);
  if (r.proof !== undefined) lines.push(`proof (${r.proof.method}${r.proof.passed === undefined ? '' : r.proof.passed ? ', passed' : ', FAILED'}): ${r.proof.message}`);
  return lines;
}
