/**
 * Recovery targets: where a point-in-time recovery stops, as the user writes it
 * ({@link parseTarget}), as a drill request carries it ({@link TargetRequest}, validated by
 * config/schema.ts) and as it is resolved against the binlogs ({@link RecoveryTarget}).
 */

import { DrillError } from '../errors';
import { detectGtidFlavor, normalizeGtid } from '../binlog/gtid';
import type { BinlogCoordinates } from '../types';
import { collapseWhitespace } from './statement-match';
import { parseTime } from './times';

/** A point in the binlog stream: what {@link resolveStop} finds in the archive. */
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

/** The drill's own consistent snapshot of the source, taken after the backup; known only once the drill has taken it. */
export interface CheckpointTarget {
  kind: 'checkpoint';
}

/** What a drill request asks for: a {@link RecoveryTarget}, or the drill's checkpoint. */
export type TargetRequest = RecoveryTarget | CheckpointTarget;

/** The recovery target a request stands for: a checkpoint becomes the position the drill's checkpoint recorded. */
export function resolveTargetRequest(request: TargetRequest, checkpointAt?: BinlogCoordinates): RecoveryTarget {
  if (request.kind !== 'checkpoint') return request;
  if (checkpointAt === undefined) throw new DrillError('BadTarget', 'the checkpoint target needs a source checkpoint, which this drill did not take');
  return { kind: 'position', file: checkpointAt.file, position: checkpointAt.position };
}

/** A target that cannot be read or reached: the message says why and what would work. */
export function badTarget(message: string, details: Record<string, unknown> = {}): DrillError {
  return new DrillError('BadTarget', message, { details });
}

const POSITION = /^(.+\.\d+):(\d+)$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const SYNTAX =
  "'latest', a time with a zone ('2026-11-21T14:37:00Z', '2026-11-21 14:37:00+01:00'), a position ('mysql-bin.000042:1234'), " +
  "a GTID ('3e11fa47-71ca-11e1-9e33-c80aa9429562:23' or MariaDB '0-1-100'), or 'before:DROP TABLE grades'";

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
  const pattern = collapseWhitespace(text);
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

/** The one text of a target, for messages, reports and the DrillTarget search attribute; {@link parseTarget} reads it back (all but `checkpoint`). */
export function describeTarget(t: TargetRequest): string {
  switch (t.kind) {
    case 'checkpoint':
      return 'checkpoint';
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
