/**
 * Recovery targets: where a point-in-time recovery stops, as the user writes it, and where
 * that is in the archived binary logs.
 *
 * Pure module, importable from workflow code: no Node built-ins, no I/O, no clock. It only
 * needs the types of binlog-events.ts.
 *
 * Time targets compare against each transaction's commit time: MySQL's
 * immediate_commit_timestamp (microseconds, MySQL 8.0.1+) when the binlog has it, else the
 * event header time, which is whole seconds and is the time the transaction's first statement
 * *started* (MariaDB always; MySQL without commit timestamps). With header times a target
 * inside a second is resolved to that second.
 */

import type { BinlogTransaction } from '../binlog/events';
import { binlogBase, compareCoordinates, formatCoordinates } from '../binlog/files';
import { DrillError } from '../errors';
import { detectGtidFlavor, gtidSetContains, normalizeGtid } from '../binlog/gtid';
import type { BinlogCoordinates, Flavor } from '../types';

export type RecoveryTarget =
  | { kind: 'latest' }
  /** ISO-8601 with explicit zone (Z or ±hh:mm). Exclusive: replays what committed strictly before it. */
  | { kind: 'time'; at: string }
  /** Inclusive: replays every transaction that ends at or before it; must be a transaction boundary. */
  | { kind: 'position'; file: string; position: number }
  /** Inclusive: replays up to and including this transaction. */
  | { kind: 'gtid'; gtid: string }
  /**
   * Stops just before the first transaction after the backup whose statement text or table
   * name matches `pattern` (case-insensitive plain text, whitespace collapsed, backticks and
   * database qualifiers ignored, matched at word boundaries).
   */
  | { kind: 'beforeEvent'; pattern: string };

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
}

function badTarget(message: string, details: Record<string, unknown> = {}): DrillError {
  return new DrillError('BadTarget', message, { details });
}

// ---------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

interface ParsedTime {
  /** Microseconds since the epoch (a sub-microsecond fraction rounds up). */
  micros: number;
  /** `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`. */
  canonical: string;
}

function parseTime(text: string): ParsedTime {
  const t = text.trim();
  const m = TIME.exec(t);
  if (m === null) {
    throw badTarget(`${JSON.stringify(text)} is not an ISO-8601 time such as 2026-11-21T14:37:00Z or 2026-11-21 14:37:00+01:00`, { target: text });
  }
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  if (zone === undefined) {
    throw badTarget(
      `Time ${JSON.stringify(text)} has no time zone. Add Z for UTC or an offset such as +01:00 ` +
        `(e.g. ${t.replace(' ', 'T')}Z); restore-drill never guesses the zone`,
      { target: text },
    );
  }
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const maxDay = mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1];
  if (mo < 1 || mo > 12 || maxDay === undefined || d < 1 || d > maxDay || h > 23 || mi > 59 || s > 59) {
    throw badTarget(`${JSON.stringify(text)} is not a valid date and time`, { target: text });
  }
  let offsetMinutes = 0;
  let zoneText = 'Z';
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) throw badTarget(`${JSON.stringify(text)} has an invalid zone offset ${zone}`, { target: text });
    offsetMinutes = sign * (oh * 60 + om);
    zoneText = `${zone[0]}${String(oh).padStart(2, '0')}:${String(om).padStart(2, '0')}`;
  }
  const fraction = frac ?? '';
  const fracMicros = fraction === '' ? 0 : Math.ceil(Number(`0.${fraction}`) * 1e6 - 1e-6);
  const micros = (Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000) * 1000 + fracMicros;
  const canonical =
    `${ys}-${mos}-${ds}T${hs}:${mis}:${String(s).padStart(2, '0')}` + (fraction === '' ? '' : `.${fraction}`) + zoneText;
  return { micros, canonical };
}

/** Microseconds since the epoch of a time target's `at` (throws BadTarget when it has no zone). */
export function targetTimeMicros(at: string): number {
  return parseTime(at).micros;
}

/** ISO-8601 UTC with microseconds, e.g. `2026-11-21T14:37:00.123456Z`. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // …SS.mmmZ
  const sub = String(micros - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${sub}Z`;
}

/** The time a time target compares with: commit micros when known, else header seconds. */
export function transactionTimeMicros(t: BinlogTransaction): number {
  return t.commitTimeMicros ?? t.timestamp * 1_000_000;
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

const POSITION = /^(.+\.\d+):(\d+)$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const SYNTAX =
  "'latest', a time with a zone ('2026-11-21T14:37:00Z', '2026-11-21 14:37:00+01:00'), a position ('mysql-bin.000042:1234'), " +
  "a GTID ('3e11fa47-71ca-11e1-9e33-c80aa9429562:23' or MariaDB '0-1-100'), or 'before:DROP TABLE grades'";

function collapse(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

function parsePosition(text: string, original: string): RecoveryTarget {
  const m = POSITION.exec(text.trim());
  if (m === null) throw badTarget(`${JSON.stringify(original)} is not a binlog position such as mysql-bin.000042:1234`, { target: original });
  const position = Number(m[2]);
  if (!Number.isSafeInteger(position) || position < 4) {
    throw badTarget(`Position ${m[2]} in ${JSON.stringify(original)} is not a valid binlog offset (events start at 4)`, { target: original });
  }
  return { kind: 'position', file: m[1]!, position };
}

function parseGtidTarget(text: string, original: string): RecoveryTarget {
  const t = text.trim();
  const flavor = detectGtidFlavor(t);
  if (flavor === undefined) {
    throw badTarget(`${JSON.stringify(original)} is not a single GTID (MySQL uuid:n or uuid:tag:n, MariaDB domain-server-seq)`, { target: original });
  }
  return { kind: 'gtid', gtid: normalizeGtid(flavor, t) };
}

function parseBefore(text: string, original: string): RecoveryTarget {
  const pattern = collapse(text);
  if (pattern === '') throw badTarget(`${JSON.stringify(original)} names no statement to stop before (e.g. before:DROP TABLE grades)`, { target: original });
  return { kind: 'beforeEvent', pattern };
}

/**
 * Parses the CLI syntax: `latest`; a time with a zone (`2026-11-21T14:37:00Z`,
 * `2026-11-21 14:37:00+01:00`; a time without zone is refused); `mysql-bin.000042:1234`;
 * a GTID (`uuid:n`, `uuid:tag:n`, MariaDB `d-s-n`); `before:DROP TABLE grades`. The explicit
 * prefixes `time:`, `position:`, `gtid:` (which {@link describeTarget} writes) are accepted too;
 * `gtid:` is needed for a MariaDB GTID that looks like a date (`gtid:2026-11-21`).
 */
export function parseTarget(text: string): RecoveryTarget {
  const t = text.trim();
  if (t === '') throw badTarget(`Empty recovery target; expected ${SYNTAX}`, { target: text });
  if (t.toLowerCase() === 'latest') return { kind: 'latest' };
  const prefix = /^(before|time|position|pos|gtid):/i.exec(t);
  if (prefix !== null) {
    const rest = t.slice(prefix[0].length);
    switch (prefix[1]!.toLowerCase()) {
      case 'before':
        return parseBefore(rest, text);
      case 'time':
        return { kind: 'time', at: parseTime(rest).canonical };
      case 'gtid':
        return parseGtidTarget(rest, text);
      default:
        return parsePosition(rest, text);
    }
  }
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/i.test(t)) return { kind: 'time', at: parseTime(t).canonical };
  if (DATE_ONLY.test(t)) {
    throw badTarget(
      `${JSON.stringify(text)} is ambiguous: for a time give the time of day and a zone (${t}T00:00:00Z); ` +
        `for a MariaDB GTID write gtid:${t}`,
      { target: text },
    );
  }
  if (POSITION.test(t)) return parsePosition(t, text);
  if (detectGtidFlavor(t) !== undefined) return parseGtidTarget(t, text);
  throw badTarget(`Cannot read recovery target ${JSON.stringify(text)}; expected ${SYNTAX}`, { target: text });
}

/** One line for reports and search attributes; {@link parseTarget} reads it back. */
export function describeTarget(t: RecoveryTarget): string {
  switch (t.kind) {
    case 'latest':
      return 'latest';
    case 'time':
      return `time:${t.at}`;
    case 'position':
      return `position:${t.file}:${t.position}`;
    case 'gtid':
      return `gtid:${t.gtid}`;
    case 'beforeEvent':
      return `before:${t.pattern}`;
  }
}

// ---------------------------------------------------------------------------------------
// Matching statements
// ---------------------------------------------------------------------------------------

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;

/** Lower case, backticks removed, whitespace collapsed. */
function normalizeText(text: string): string {
  return collapse(text.replace(/`/g, '')).toLowerCase();
}

/** Also without database qualifiers: `school.grades` → `grades`. */
function withoutQualifiers(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}_$.])[\p{L}\p{N}_$]+\.(?=[\p{L}_$])/gu, '');
}

/** Whether `needle` occurs in `hay` without cutting an identifier at either end. */
function containsAtBoundaries(hay: string, needle: string): boolean {
  const first = IDENT_CHAR.test(needle[0]!);
  const last = IDENT_CHAR.test(needle[needle.length - 1]!);
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    const before = i === 0 ? '' : hay[i - 1]!;
    const after = i + needle.length >= hay.length ? '' : hay[i + needle.length]!;
    if (first && before !== '' && IDENT_CHAR.test(before)) continue;
    if (last && after !== '' && IDENT_CHAR.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Whether a transaction matches a beforeEvent pattern: some statement contains it (see
 * {@link RecoveryTarget}), or it is a table name, `db.table` or `table`, of the transaction.
 */
export function transactionMatches(t: BinlogTransaction, pattern: string): boolean {
  const p = normalizeText(pattern);
  if (p === '') return false;
  for (const table of t.tables) {
    const name = table.toLowerCase();
    if (name === p || name.slice(name.indexOf('.') + 1) === p) return true;
  }
  for (const statement of t.statements) {
    const s = normalizeText(statement);
    if (containsAtBoundaries(s, p)) return true;
    if (containsAtBoundaries(withoutQualifiers(s), withoutQualifiers(p))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Resolving
// ---------------------------------------------------------------------------------------

function txStart(t: BinlogTransaction): BinlogCoordinates {
  return { file: t.file, position: t.startPosition };
}

function txEnd(t: BinlogTransaction): BinlogCoordinates {
  return { file: t.file, position: t.endPosition };
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
    `the archive covers from the backup start ${formatCoordinates(start)} to ${formatCoordinates(txEnd(last))}: ` +
    `first transaction ${describeTx(first)}, last ${describeTx(last)}`
  );
}

function stopAfter(start: BinlogCoordinates, applied: BinlogTransaction | undefined, excluded: BinlogTransaction | undefined): ResolvedStop {
  const r: ResolvedStop = { stop: applied === undefined ? { ...start } : txEnd(applied) };
  if (applied !== undefined) r.lastApplied = applied;
  if (excluded !== undefined) r.firstExcluded = excluded;
  return r;
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
  const startBase = binlogBase(start.file);
  const ordered = [...transactions].sort((a, b) => compareCoordinates(txStart(a), txStart(b)));
  const before = ordered.filter((t) => compareCoordinates(txStart(t), start) < 0);
  const after = ordered.filter((t) => compareCoordinates(txStart(t), start) >= 0);
  const last = after[after.length - 1];
  const backupText = `the backup start ${formatCoordinates(start)}`;

  const beyond = (what: string): ResolvedStop => {
    const window = windowText(start, after);
    if (!opts.bestEffort) {
      throw badTarget(`${what} is beyond the archived binary logs: ${window}. Archive more binlogs, choose a target inside that window, or use best effort`, {
        target: describeTarget(target),
        start,
        lastArchived: last === undefined ? undefined : txEnd(last),
      });
    }
    return { ...stopAfter(start, last, undefined), shortfall: `${what} is beyond the archived binary logs (${window}); stopped at the last archived transaction` };
  };

  switch (target.kind) {
    case 'latest':
      return stopAfter(start, last, undefined);

    case 'time': {
      const { micros, canonical } = parseTime(target.at);
      if (opts.startTime !== undefined && targetTimeMicros(opts.startTime) >= micros) {
        throw badTarget(`Time ${canonical} is not after the backup, whose last transaction committed at or before ${opts.startTime} (${backupText})`, {
          target: describeTarget(target),
          start,
        });
      }
      const inBackup = before.filter((t) => transactionTimeMicros(t) >= micros);
      if (inBackup.length > 0) {
        const t = inBackup[inBackup.length - 1]!;
        throw badTarget(`Time ${canonical} is before the backup: transaction ${describeTx(t)}, committed at or after it, is already in the backup (${backupText})`, {
          target: describeTarget(target),
          start,
        });
      }
      const idx = after.findIndex((t) => transactionTimeMicros(t) >= micros);
      if (idx < 0) return beyond(`Time ${canonical}`);
      return stopAfter(start, idx === 0 ? undefined : after[idx - 1], after[idx]);
    }

    case 'position': {
      const pos: BinlogCoordinates = { file: target.file, position: target.position };
      if (binlogBase(pos.file) !== startBase) {
        throw badTarget(`Position ${formatCoordinates(pos)} is not in the backup's binary log series (${startBase}.*; ${backupText})`, { target: describeTarget(target), start });
      }
      const cmp = compareCoordinates(pos, start);
      if (cmp < 0) {
        throw badTarget(`Position ${formatCoordinates(pos)} is before ${backupText}: a replay can only move forward from the backup`, { target: describeTarget(target), start });
      }
      const inside = after.find((t) => t.file === pos.file && t.startPosition < pos.position && pos.position < t.endPosition);
      if (inside !== undefined) {
        const earlier = formatCoordinates(txStart(inside));
        throw badTarget(
          `Position ${formatCoordinates(pos)} is inside transaction ${describeTx(inside)}, not on a transaction boundary; ` +
            `the nearest boundaries are ${earlier} (before it) and ${formatCoordinates(txEnd(inside))} (after it)`,
          { target: describeTarget(target), start, before: earlier, after: formatCoordinates(txEnd(inside)) },
        );
      }
      if (cmp === 0) return stopAfter(start, undefined, after[0]);
      if (last === undefined || compareCoordinates(pos, txEnd(last)) > 0) {
        return beyond(`Position ${formatCoordinates(pos)}`);
      }
      const idx = after.findIndex((t) => compareCoordinates(txEnd(t), pos) > 0);
      const applied = idx < 0 ? last : idx === 0 ? undefined : after[idx - 1];
      return stopAfter(start, applied, idx < 0 ? undefined : after[idx]);
    }

    case 'gtid': {
      const flavor: Flavor | undefined = detectGtidFlavor(target.gtid);
      if (flavor === undefined) throw badTarget(`${JSON.stringify(target.gtid)} is not a single GTID`, { target: describeTarget(target) });
      const wanted = normalizeGtid(flavor, target.gtid);
      const same = (t: BinlogTransaction): boolean => t.gtid !== undefined && detectGtidFlavor(t.gtid) === flavor && normalizeGtid(flavor, t.gtid) === wanted;
      const idx = after.findIndex(same);
      if (idx >= 0) return stopAfter(start, after[idx], after[idx + 1]);
      const inBackup = before.find(same);
      if (inBackup !== undefined || (opts.startGtidSet !== undefined && gtidSetContains(flavor, opts.startGtidSet, wanted))) {
        throw badTarget(`GTID ${wanted} is already in the backup (${backupText}${opts.startGtidSet === undefined ? '' : `, GTID set ${opts.startGtidSet}`}): the target precedes the backup`, {
          target: describeTarget(target),
          start,
        });
      }
      return beyond(`GTID ${wanted}`);
    }

    case 'beforeEvent': {
      const idx = after.findIndex((t) => transactionMatches(t, target.pattern));
      if (idx >= 0) return stopAfter(start, idx === 0 ? undefined : after[idx - 1], after[idx]);
      const earlier = [...before].reverse().find((t) => transactionMatches(t, target.pattern));
      if (earlier !== undefined) {
        throw badTarget(
          `The only transaction matching ${JSON.stringify(target.pattern)} is ${describeTx(earlier)}, which is already in the backup (${backupText}): restore an older backup`,
          { target: describeTarget(target), start, matched: txStart(earlier) },
        );
      }
      throw badTarget(`No archived transaction after ${backupText} matches ${JSON.stringify(target.pattern)}; ${windowText(start, after)}`, {
        target: describeTarget(target),
        start,
      });
    }
  }
}
