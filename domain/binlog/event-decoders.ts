/**
 * Decoders of the event bodies the scanner reads: each takes the body (after the 19-byte
 * header, without the CRC trailer) and returns what point-in-time recovery needs from it.
 * A body too short for its fields throws RangeError; the scanner reports it as corruption.
 */

import { addInterval, formatMariadbGtid, formatMysqlGtid, formatMysqlGtidSet, type MysqlGtidSet } from './gtid';
import { readU55, uuidText, VarlenReader } from './byte-reader';
import { BinlogEventType as T } from './format';
import type { Flavor } from '../types';

/** Bodies of these events are kept in full (they are small, or their text is wanted). */
export const DECODED_EVENTS: ReadonlySet<number> = new Set<number>([
  T.QUERY,
  T.EXECUTE_LOAD_QUERY,
  T.ROTATE,
  T.TABLE_MAP,
  T.ROWS_QUERY,
  T.GTID,
  T.ANONYMOUS_GTID,
  T.GTID_TAGGED,
  T.PREVIOUS_GTIDS,
  T.MARIADB_ANNOTATE_ROWS,
  T.MARIADB_GTID,
  T.MARIADB_GTID_LIST,
]);

/** Longest body prefix kept for decoding; longer statements are cut to this. */
export const MAX_KEPT_BODY = 1 << 20;
/** Stands for the text of a MariaDB QUERY_COMPRESSED_EVENT (zlib; not decoded here). */
export const COMPRESSED_QUERY_PLACEHOLDER = '/* restore-drill: MariaDB compressed query event, text not decoded */';
const CUT_MARKER = ' /* restore-drill: statement cut */';

/** A statement whose body was not kept whole ends with a marker. */
function cut(text: string, complete: boolean): string {
  return complete ? text : text + CUT_MARKER;
}

/** Bytes of a FORMAT_DESCRIPTION_EVENT body up to the post-header lengths. */
export const FORMAT_DESCRIPTION_MIN_LENGTH = 57;

export interface FormatDescription {
  serverVersion: string;
  flavor: Flavor;
  headerLength: number;
  /** The checksum algorithm byte, on servers that write one. */
  checksumAlg?: number;
  /** Post-header length of each event type (index type - 1). */
  postHeaderLengths: number[];
}

/**
 * FORMAT_DESCRIPTION_EVENT: binlog_version u16, server_version char[50], create_timestamp
 * u32, header_length u8, post-header lengths (one per event type), then on checksum-aware
 * servers the checksum algorithm u8 and a 4-byte checksum, present whatever the algorithm.
 * The caller checks the body has {@link FORMAT_DESCRIPTION_MIN_LENGTH} bytes.
 */
export function decodeFormatDescription(body: Buffer): FormatDescription {
  const serverVersion = body.toString('latin1', 2, 52).replace(/\0.*$/s, '');
  const flavor: Flavor = /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql';
  const fde: FormatDescription = { serverVersion, flavor, headerLength: body[56]!, postHeaderLengths: [] };
  let postHeaderEnd = body.length;
  if (checksumAware(serverVersion, flavor) && body.length >= FORMAT_DESCRIPTION_MIN_LENGTH + 5) {
    fde.checksumAlg = body[body.length - 5]!;
    postHeaderEnd = body.length - 5;
  }
  fde.postHeaderLengths = [...body.subarray(FORMAT_DESCRIPTION_MIN_LENGTH, postHeaderEnd)];
  return fde;
}

/** Servers from MySQL 5.6.1 / MariaDB 5.3 write the checksum algorithm into the FDE. */
function checksumAware(version: string, flavor: Flavor): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (m === null) return true;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  const split = flavor === 'mariadb' ? [5, 3, 0] : [5, 6, 1];
  for (let i = 0; i < 3; i++) if (v[i] !== split[i]) return v[i]! > split[i]!;
  return true;
}

/** ROTATE: position u64 in the post-header, then the next file's name up to the event's end. */
export function decodeRotate(body: Buffer, postHeaderLength: number): string {
  return body.toString('utf8', postHeaderLength);
}

/**
 * QUERY_EVENT: post-header thread_id u32, exec_time u32, db_len u8, error_code u16,
 * status_vars_len u16 (EXECUTE_LOAD_QUERY adds 13 more bytes); then the status variables,
 * the default database and a NUL, then the statement up to the end of the event.
 */
export function decodeQueryText(body: Buffer, postHeaderLength: number, complete: boolean): string {
  if (body.length < postHeaderLength) throw new RangeError(`post-header of ${postHeaderLength} bytes beyond body length ${body.length}`);
  const dbLen = body[8]!;
  const statusLen = postHeaderLength >= 13 ? body.readUInt16LE(11) : 0;
  const at = postHeaderLength + statusLen + dbLen + 1;
  if (at > body.length) throw new RangeError(`statement offset ${at} beyond body length ${body.length}`);
  return cut(body.toString('utf8', at), complete);
}

/** MariaDB ANNOTATE_ROWS: the original statement of the row events that follow, as the whole body. */
export function decodeAnnotateRows(body: Buffer, complete: boolean): string {
  return cut(body.toString('utf8'), complete);
}

/** MySQL ROWS_QUERY: one length byte (capped at 255, so unreliable), then the text up to the event's end. */
export function decodeRowsQuery(body: Buffer, complete: boolean): string {
  return cut(body.toString('utf8', 1), complete);
}

/** TABLE_MAP: table_id (6 bytes, 4 if the post-header is 6 long), flags u16, db, table. */
export function decodeTableMap(body: Buffer, postHeaderLength: number): string {
  let at = postHeaderLength;
  if (at >= body.length) throw new RangeError('database name beyond body');
  const dbLen = body[at]!;
  const db = body.toString('utf8', at + 1, at + 1 + dbLen);
  at += 1 + dbLen + 1;
  if (at >= body.length) throw new RangeError('table name beyond body');
  const tableLen = body[at]!;
  if (at + 1 + tableLen > body.length) throw new RangeError('table name beyond body');
  const table = body.toString('utf8', at + 1, at + 1 + tableLen);
  return `${db}.${table}`;
}

export interface DecodedGtid {
  gtid?: string;
  /** immediate_commit_timestamp, microseconds since the epoch. */
  commitTimeMicros?: number;
}

/**
 * MySQL GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT: flags u8, uuid 16 bytes, gno i64; then
 * (5.7+) lt_type u8 = 2, last_committed i64, sequence_number i64; then (8.0.1+)
 * immediate_commit_timestamp in 7 bytes, whose top bit says that an
 * original_commit_timestamp (7 bytes) follows; later fields are not needed.
 */
export function decodeMysqlGtid(body: Buffer): DecodedGtid {
  const uuid = uuidText(body, 1);
  const gno = body.readBigInt64LE(17);
  const out: DecodedGtid = {};
  if (gno > 0n) out.gtid = formatMysqlGtid({ uuid, tag: '', gno });
  const LOGICAL_TIMESTAMP_TYPECODE = 2;
  if (body.length >= 42 + 7 && body[25] === LOGICAL_TIMESTAMP_TYPECODE) {
    const { value } = readU55(body, 42);
    if (value > 0) out.commitTimeMicros = value;
  }
  return out;
}

/**
 * MySQL 8.3+ GTID_TAGGED_LOG_EVENT, in mysql::serialization format: a message header
 * (version, size, last non-ignorable field id, all varlen) then fields, each a varlen field id
 * and its value. Fields: 0 gtid_flags, 1 uuid (16 varlen bytes), 2 gno (signed), 3 tag
 * (string), 4 last_committed, 5 sequence_number, 6 immediate_commit_timestamp, 7 original
 * commit timestamp (omitted when equal), 8 transaction_length, ... Decoding stops after 6.
 */
export function decodeTaggedGtid(body: Buffer): DecodedGtid {
  const r = new VarlenReader(body, 0, body.length);
  r.uint(); // version
  const size = Number(r.uint());
  const end = Math.min(body.length, size);
  r.uint(); // last non-ignorable field id
  const reader = new VarlenReader(body, r.pos, end);
  let uuid: string | undefined;
  let gno = 0n;
  let tag = '';
  let commitTimeMicros: number | undefined;
  while (!reader.done) {
    const id = Number(reader.uint());
    if (id === 0) reader.uint();
    else if (id === 1) {
      const bytes = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) bytes[i] = Number(reader.uint());
      uuid = uuidText(bytes, 0);
    } else if (id === 2) gno = reader.int();
    else if (id === 3) tag = reader.string().toLowerCase();
    else if (id === 4 || id === 5) reader.int();
    else if (id === 6) {
      const v = Number(reader.uint());
      if (v > 0) commitTimeMicros = v;
      break;
    } else break;
  }
  const out: DecodedGtid = {};
  if (uuid !== undefined && gno > 0n) out.gtid = formatMysqlGtid({ uuid, tag, gno });
  if (commitTimeMicros !== undefined) out.commitTimeMicros = commitTimeMicros;
  return out;
}

/** MariaDB GTID_EVENT: seq_no u64, domain_id u32, flags2 u8; the server id is the header's. */
export function decodeMariadbGtid(body: Buffer, serverId: number): { gtid: string; flags: number } {
  const seq = body.readBigUInt64LE(0);
  const domain = body.readUInt32LE(8);
  const flags = body.length > 12 ? body[12]! : 0;
  return { gtid: formatMariadbGtid({ domain, server: serverId, seq }), flags };
}

/**
 * MySQL PREVIOUS_GTIDS_LOG_EVENT: u64 whose top byte is the format (0 untagged, 1 tagged)
 * and whose low 56 bits are the number of UUIDs (tagged: bits 8..55); per UUID: 16 bytes, in
 * the tagged format a varlen-length tag, then n_intervals u64 and [start, end) i64 pairs.
 */
export function decodePreviousGtids(body: Buffer): string {
  const head = body.readBigUInt64LE(0);
  const tagged = head >> 56n === 1n;
  const count = Number(tagged ? (head >> 8n) & ((1n << 48n) - 1n) : head & ((1n << 56n) - 1n));
  const set: MysqlGtidSet = new Map();
  let at = 8;
  for (let i = 0; i < count; i++) {
    const uuid = uuidText(body, at);
    at += 16;
    let tag = '';
    if (tagged) {
      const r = new VarlenReader(body, at, body.length);
      tag = r.string().toLowerCase();
      at = r.pos;
    }
    const n = Number(body.readBigUInt64LE(at));
    at += 8;
    for (let k = 0; k < n; k++) {
      const start = body.readBigInt64LE(at);
      const endExclusive = body.readBigInt64LE(at + 8);
      at += 16;
      if (endExclusive <= start) throw new RangeError(`empty GTID interval [${start}, ${endExclusive})`);
      addInterval(set, uuid, tag, { start, end: endExclusive - 1n });
    }
  }
  return formatMysqlGtidSet(set);
}

/** MariaDB GTID_LIST_EVENT: count u32 (low 28 bits), then (domain u32, server u32, seq u64)×count. */
export function decodeGtidList(body: Buffer): string {
  const count = body.readUInt32LE(0) & 0x0fffffff;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 16;
    out.push(formatMariadbGtid({ domain: body.readUInt32LE(at), server: body.readUInt32LE(at + 4), seq: body.readBigUInt64LE(at + 8) }));
  }
  return out.join(',');
}
