/**
 * A streaming reader of MySQL and MariaDB binary log files (binlog format v4) that turns
 * events into transactions: where each starts and ends, its GTID, time, SQL text and tables.
 * That is what point-in-time recovery needs to pick a stop position; row images are not
 * decoded.
 *
 * File layout: the magic `\xfe b i n`, then events. Every event starts with a 19-byte header
 * (timestamp u32, type u8, server_id u32, event_size u32, log_pos u32 = offset just after the
 * event, flags u16; all little-endian), then a type-specific post-header and body. When the
 * FORMAT_DESCRIPTION_EVENT says the checksum algorithm is CRC32, every event ends with a
 * 4-byte CRC32 of everything before it; it is verified here and never part of a payload.
 *
 * Memory: events are consumed as they arrive; only the first {@link MAX_KEPT_BODY} bytes of a
 * body are kept (row events keep none), so a 1 GiB row event costs no memory. A statement
 * longer than that is cut, with a marker, before it is stored.
 *
 * Pure module: no I/O, no Node built-ins beyond the global Buffer. Not for workflow code.
 * Event type numbers and layouts follow mysql-server libs/mysql/binlog/event/binlog_event.h
 * and MariaDB sql/log_event.h.
 */

import { DrillError } from '../errors';
import { addInterval, formatMariadbGtid, formatMysqlGtid, formatMysqlGtidSet, type MysqlGtidSet } from './gtid';
import type { Flavor } from '../types';

export interface BinlogTransaction {
  /** Binlog file name, e.g. `mysql-bin.000003`. */
  file: string;
  /** Offset of its first event (the GTID event, or BEGIN / the statement when there is none). */
  startPosition: number;
  /** Offset just after its last event (the commit event's log_pos). */
  endPosition: number;
  /**
   * Seconds since the epoch from the first event's header. MySQL and MariaDB both write the
   * time the statement (for a transaction: its first statement) started, not the commit time.
   */
  timestamp: number;
  /** MySQL (8.0.1+) GTID event immediate_commit_timestamp, microseconds since the epoch. */
  commitTimeMicros?: number;
  /** MySQL `uuid:n` / `uuid:tag:n`, MariaDB `domain-server-seq`. */
  gtid?: string;
  /**
   * SQL text of the QUERY events other than BEGIN/COMMIT (DDL, statement-format DML), and the
   * original statements carried by MariaDB ANNOTATE_ROWS / MySQL ROWS_QUERY events (so that a
   * row-format transaction can be found by the SQL that caused it).
   */
  statements: string[];
  /** `db.table` of each TABLE_MAP event (row-format changes), unique, in order. */
  tables: string[];
  kind: 'ddl' | 'dml' | 'other';
}

export interface BinlogFileSummary {
  file: string;
  serverVersion?: string;
  /** Flavor of the server that wrote the file, from its FORMAT_DESCRIPTION_EVENT. */
  flavor?: Flavor;
  checksum: 'none' | 'crc32';
  /** Header time of the first and last complete events (seconds since the epoch). */
  firstTimestamp?: number;
  lastTimestamp?: number;
  /** Offset after the last complete event (4 when only the magic is there). */
  endPosition: number;
  /** There are bytes after the last complete event: a file still being written, or cut. */
  truncatedTail: boolean;
  /** The FORMAT_DESCRIPTION_EVENT has LOG_EVENT_BINLOG_IN_USE_F: the server had not closed it. */
  inUse?: boolean;
  /** From the ROTATE event that ends the file. */
  rotatesTo?: string;
  /** MySQL PREVIOUS_GTIDS (canonical set) or MariaDB GTID_LIST (as listed) at the file's start. */
  previousGtids?: string;
  /** The file ends with a STOP event (clean server shutdown). */
  stopped: boolean;
  /** Offset of a transaction whose start is in the file but whose commit is not. */
  openTransactionStart?: number;
}

/** Event type codes (MySQL binlog_event.h `Log_event_type`, MariaDB log_event.h). */
export const BinlogEventType = {
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  APPEND_BLOCK: 9,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  PRE_GA_WRITE_ROWS: 20,
  PRE_GA_UPDATE_ROWS: 21,
  PRE_GA_DELETE_ROWS: 22,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS: 30,
  UPDATE_ROWS: 31,
  DELETE_ROWS: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  MARIADB_ANNOTATE_ROWS: 160,
  MARIADB_BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  MARIADB_START_ENCRYPTION: 164,
  MARIADB_QUERY_COMPRESSED: 165,
  MARIADB_WRITE_ROWS_COMPRESSED_V1: 166,
  MARIADB_UPDATE_ROWS_COMPRESSED_V1: 167,
  MARIADB_DELETE_ROWS_COMPRESSED_V1: 168,
  MARIADB_WRITE_ROWS_COMPRESSED: 169,
  MARIADB_UPDATE_ROWS_COMPRESSED: 170,
  MARIADB_DELETE_ROWS_COMPRESSED: 171,
} as const;

const T = BinlogEventType;

export const BINLOG_MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);
export const EVENT_HEADER_LENGTH = 19;
/** FORMAT_DESCRIPTION_EVENT header flag: the file was open for writing. */
export const LOG_EVENT_BINLOG_IN_USE_F = 0x1;
/** MariaDB GTID_EVENT flags2 bits. */
export const MariadbGtidFlags = { STANDALONE: 1, GROUP_COMMIT_ID: 2, TRANSACTIONAL: 4, ALLOW_PARALLEL: 8, WAITED: 16, DDL: 32, PREPARED_XA: 64, COMPLETED_XA: 128 } as const;
/** Checksum algorithm byte of the FORMAT_DESCRIPTION_EVENT. */
export const ChecksumAlg = { OFF: 0, CRC32: 1, UNDEF: 255 } as const;

/** Bodies of these events are kept in full (they are small, or their text is wanted). */
const DECODED = new Set<number>([
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
const ROW_EVENTS = new Set<number>([
  T.PRE_GA_WRITE_ROWS,
  T.PRE_GA_UPDATE_ROWS,
  T.PRE_GA_DELETE_ROWS,
  T.WRITE_ROWS_V1,
  T.UPDATE_ROWS_V1,
  T.DELETE_ROWS_V1,
  T.WRITE_ROWS,
  T.UPDATE_ROWS,
  T.DELETE_ROWS,
  T.PARTIAL_UPDATE_ROWS,
  T.MARIADB_WRITE_ROWS_COMPRESSED_V1,
  T.MARIADB_UPDATE_ROWS_COMPRESSED_V1,
  T.MARIADB_DELETE_ROWS_COMPRESSED_V1,
  T.MARIADB_WRITE_ROWS_COMPRESSED,
  T.MARIADB_UPDATE_ROWS_COMPRESSED,
  T.MARIADB_DELETE_ROWS_COMPRESSED,
]);
/** Events that belong to the statement after them (statement format): they open a transaction. */
const STATEMENT_CONTEXT = new Set<number>([T.INTVAR, T.RAND, T.USER_VAR, T.BEGIN_LOAD_QUERY, T.APPEND_BLOCK]);

/** Longest body prefix kept for decoding; longer statements are cut to this. */
export const MAX_KEPT_BODY = 1 << 20;
/** Stands for the text of a MariaDB QUERY_COMPRESSED_EVENT (zlib; not decoded here). */
export const COMPRESSED_QUERY_PLACEHOLDER = '/* restore-drill: MariaDB compressed query event, text not decoded */';
const CUT_MARKER = ' /* restore-drill: statement cut */';

// ---------------------------------------------------------------------------------------
// CRC32 (IEEE 802.3, reflected, as zlib's crc32())
// ---------------------------------------------------------------------------------------

/** Slicing-by-8 tables: CRC_TABLES[0] is the classic byte table, [k] advances k more bytes. */
const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = tables[k - 1]![n]!;
      tables[k]![n] = (prev >>> 8) ^ t0[prev & 0xff]!;
    }
  }
  return tables;
})();

/** Continues a CRC32: start with `crc32Update(0, bytes)`, feed further bytes with the result. */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      t7[c & 0xff]! ^
      t6[(c >>> 8) & 0xff]! ^
      t5[(c >>> 16) & 0xff]! ^
      t4[c >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}

// ---------------------------------------------------------------------------------------
// Byte queue
// ---------------------------------------------------------------------------------------

/** Pushed chunks, read from the front without copying more than a read needs. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private headOffset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Exactly n bytes (the caller checks `length >= n`). */
  read(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const head = this.chunks[0]!;
    if (head.length - this.headOffset >= n) {
      const out = head.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.readUpTo(n - filled);
      part.copy(out, filled);
      filled += part.length;
    }
    return out;
  }

  /** Up to n bytes from the front chunk (at least one when the queue is not empty). */
  readUpTo(n: number): Buffer {
    const head = this.chunks[0]!;
    const take = Math.min(n, head.length - this.headOffset);
    const out = head.subarray(this.headOffset, this.headOffset + take);
    this.advance(take);
    return out;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.length -= n;
    while (this.chunks.length > 0 && this.headOffset >= this.chunks[0]!.length) {
      this.headOffset -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Event decoding helpers
// ---------------------------------------------------------------------------------------

interface EventHeader {
  timestamp: number;
  type: number;
  serverId: number;
  size: number;
  logPos: number;
  flags: number;
}

function readHeader(b: Buffer): EventHeader {
  return {
    timestamp: b.readUInt32LE(0),
    type: b.readUInt8(4),
    serverId: b.readUInt32LE(5),
    size: b.readUInt32LE(9),
    logPos: b.readUInt32LE(13),
    flags: b.readUInt16LE(17),
  };
}

function uuidText(b: Buffer, at: number): string {
  const h = b.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 7-byte little-endian unsigned integer without its top bit (MySQL commit timestamps). */
function readU55(b: Buffer, at: number): { value: number; highBit: boolean } {
  const high = b[at + 6]!;
  return { value: b.readUIntLE(at, 6) + (high & 0x7f) * 2 ** 48, highBit: (high & 0x80) !== 0 };
}

/** A reader of mysql::serialization varlen integers and strings (tagged GTID events). */
class VarlenReader {
  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Unsigned: the number of trailing one bits of the first byte is the number of bytes that
   * follow (all 8 when the first byte is 0xff); the little-endian value of all the bytes,
   * shifted right by that count plus one, is the number.
   */
  uint(): bigint {
    this.need(1);
    const first = this.b[this.pos]!;
    let extra = 0;
    while (extra < 8 && (first >> extra) & 1) extra++;
    if (extra === 8) {
      this.need(9);
      const v = this.b.readBigUInt64LE(this.pos + 1);
      this.pos += 9;
      return v;
    }
    const len = extra + 1;
    this.need(len);
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.b[this.pos + i]!);
    this.pos += len;
    return v >> BigInt(len);
  }

  /** Signed: the unsigned form with the sign in its lowest bit (set: -(v >> 1) - 1). */
  int(): bigint {
    const u = this.uint();
    return u & 1n ? -(u >> 1n) - 1n : u >> 1n;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = Number(this.uint());
    return this.bytes(n).toString('utf8');
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('mysql::serialization data ends early');
  }
}

type StatementClass = 'begin' | 'commit' | 'rollback' | 'xa-end' | 'ddl' | 'dml' | 'other';

/** Removes leading whitespace and comments (`/* *\/`, `-- `, `#`; keeps `/*!` versioned code). */
function stripLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    s = s.replace(/^\s+/, '');
    if (s.startsWith('/*!')) {
      // Versioned comment: its content is executed; look inside.
      s = s.slice(3).replace(/^\d{5,6}/, '');
      continue;
    }
    if (s.startsWith('/*')) {
      const end = s.indexOf('*/');
      if (end < 0) return '';
      s = s.slice(end + 2);
      continue;
    }
    if (s.startsWith('--') || s.startsWith('#')) {
      const end = s.indexOf('\n');
      if (end < 0) return '';
      s = s.slice(end + 1);
      continue;
    }
    return s;
  }
}

const DDL_WORDS = new Set(['CREATE', 'ALTER', 'DROP', 'RENAME', 'TRUNCATE']);
const DML_WORDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'LOAD']);

/** What a QUERY event's text does for transaction boundaries and kinds. */
export function classifyStatement(sql: string): StatementClass {
  const s = stripLeadingComments(sql).toUpperCase();
  const words = s.split(/[\s;(]+/, 3);
  const w0 = words[0] ?? '';
  const w1 = words[1] ?? '';
  if (w0 === 'BEGIN' && (w1 === '' || w1 === 'WORK')) return 'begin';
  if (w0 === 'START' && w1 === 'TRANSACTION') return 'begin';
  if (w0 === 'XA' && (w1 === 'START' || w1 === 'BEGIN')) return 'begin';
  if (w0 === 'XA' && (w1 === 'END' || w1 === 'SUSPEND')) return 'xa-end';
  if (w0 === 'COMMIT') return 'commit';
  if (w0 === 'ROLLBACK' && w1 !== 'TO') return 'rollback';
  if (DDL_WORDS.has(w0)) return 'ddl';
  if (DML_WORDS.has(w0)) return 'dml';
  return 'other';
}

interface OpenTransaction {
  start: number;
  timestamp: number;
  commitTimeMicros?: number;
  gtid?: string;
  statements: string[];
  tables: string[];
  tableSet: Set<string>;
  /** BEGIN (or XA START) seen: the transaction ends at XID / COMMIT / ROLLBACK / XA_PREPARE. */
  begun: boolean;
  hasRows: boolean;
  hasDdl: boolean;
  hasDml: boolean;
}

function corrupt(file: string, position: number, message: string, details: Record<string, unknown> = {}): DrillError {
  return new DrillError('ArtifactCorrupt', `Binary log ${file} is corrupt at position ${position}: ${message}`, {
    details: { file, position, ...details },
  });
}

/**
 * Reads one binlog file pushed in order as chunks of any size (an event may span pushes).
 * `push` returns the transactions whose commit event arrived in that chunk; `finish` says
 * how the file ended and returns any transaction not yet returned (none: push returns each
 * as soon as it is complete). A transaction whose commit is missing (file still being
 * written) is never returned; see `summary.openTransactionStart`.
 *
 * Throws DrillError('ArtifactCorrupt') for a bad magic number, a CRC32 mismatch, or an
 * event whose size or next-position field is impossible; DrillError('VersionMismatch') when
 * `flavor` is given and the file was written by the other flavor; DrillError('BadConfig')
 * for an encrypted MariaDB binlog. A truncated tail is not an error.
 */
export class BinlogFileScanner {
  private readonly queue = new ByteQueue();
  private phase: 'magic' | 'header' | 'body' | 'finished' = 'magic';
  /** File offset of the first byte not yet consumed. */
  private offset = 0;
  private endPosition = 0;

  // Current event.
  private eventStart = 0;
  private header: EventHeader | undefined;
  private headerBytes: Buffer | undefined;
  private dataRemaining = 0;
  private keep = 0;
  private kept: Buffer[] = [];
  private keptLength = 0;
  private crc = 0;

  // File state.
  private checksumLen = 0;
  private checksum: 'none' | 'crc32' = 'none';
  private postHeaderLengths: number[] = [];
  private serverVersion: string | undefined;
  private detectedFlavor: Flavor | undefined;
  private inUse: boolean | undefined;
  private firstTimestamp: number | undefined;
  private lastTimestamp: number | undefined;
  private rotatesTo: string | undefined;
  private previousGtids: string | undefined;
  private stopped = false;

  private tx: OpenTransaction | undefined;
  private out: BinlogTransaction[] = [];

  constructor(
    readonly file: string,
    private readonly flavor?: Flavor,
  ) {}

  push(chunk: Buffer): BinlogTransaction[] {
    if (this.phase === 'finished') throw new Error(`BinlogFileScanner(${this.file}): push after finish`);
    this.queue.push(chunk);
    this.pump();
    const done = this.out;
    this.out = [];
    return done;
  }

  finish(): { transactions: BinlogTransaction[]; summary: BinlogFileSummary } {
    const truncatedTail = this.queue.length > 0 || this.phase === 'body';
    this.phase = 'finished';
    const transactions = this.out;
    this.out = [];
    const summary: BinlogFileSummary = {
      file: this.file,
      checksum: this.checksum,
      endPosition: this.endPosition,
      truncatedTail,
      stopped: this.stopped,
    };
    if (this.serverVersion !== undefined) summary.serverVersion = this.serverVersion;
    if (this.detectedFlavor !== undefined) summary.flavor = this.detectedFlavor;
    if (this.firstTimestamp !== undefined) summary.firstTimestamp = this.firstTimestamp;
    if (this.lastTimestamp !== undefined) summary.lastTimestamp = this.lastTimestamp;
    if (this.inUse !== undefined) summary.inUse = this.inUse;
    if (this.rotatesTo !== undefined) summary.rotatesTo = this.rotatesTo;
    if (this.previousGtids !== undefined) summary.previousGtids = this.previousGtids;
    if (this.tx !== undefined) summary.openTransactionStart = this.tx.start;
    return { transactions, summary };
  }

  private pump(): void {
    for (;;) {
      if (this.phase === 'magic') {
        if (this.queue.length < BINLOG_MAGIC.length) return;
        const magic = this.queue.read(BINLOG_MAGIC.length);
        if (!magic.equals(BINLOG_MAGIC)) {
          throw new DrillError('ArtifactCorrupt', `${this.file} is not a binary log: it does not start with the binlog magic number`, {
            details: { file: this.file, position: 0, found: magic.toString('hex') },
          });
        }
        this.offset = this.endPosition = BINLOG_MAGIC.length;
        this.phase = 'header';
      } else if (this.phase === 'header') {
        if (this.queue.length < EVENT_HEADER_LENGTH) return;
        this.startEvent(this.queue.read(EVENT_HEADER_LENGTH));
      } else if (this.phase === 'body') {
        if (!this.readBody()) return;
      } else {
        return;
      }
    }
  }

  private startEvent(headerBytes: Buffer): void {
    const h = readHeader(headerBytes);
    this.eventStart = this.offset;
    this.offset += EVENT_HEADER_LENGTH;
    // The FORMAT_DESCRIPTION_EVENT is read whole: it says whether there is a CRC trailer.
    const isFde = h.type === T.FORMAT_DESCRIPTION;
    const trailer = isFde ? 0 : this.checksumLen;
    if (h.size < EVENT_HEADER_LENGTH + trailer) {
      throw corrupt(this.file, this.eventStart, `event of type ${h.type} claims a size of ${h.size} bytes, less than its header`, {
        type: h.type,
        size: h.size,
      });
    }
    const expectedNext = (this.eventStart + h.size) % 2 ** 32;
    if (h.logPos !== 0 && h.logPos !== expectedNext) {
      throw corrupt(
        this.file,
        this.eventStart,
        `event of type ${h.type} and size ${h.size} says the next event is at ${h.logPos}, not ${this.eventStart + h.size}`,
        { type: h.type, size: h.size, logPos: h.logPos },
      );
    }
    this.header = h;
    // A copy: the bytes may be a view of the caller's chunk, which it may reuse after push.
    this.headerBytes = Buffer.from(headerBytes);
    this.dataRemaining = h.size - EVENT_HEADER_LENGTH - trailer;
    this.keep = isFde ? this.dataRemaining : DECODED.has(h.type) ? Math.min(this.dataRemaining, MAX_KEPT_BODY) : 0;
    this.kept = [];
    this.keptLength = 0;
    this.crc = trailer > 0 ? crc32Update(0, headerBytes) : 0;
    this.phase = 'body';
  }

  /** Consumes body bytes; true when the event is complete and handled. */
  private readBody(): boolean {
    const h = this.header!;
    const isFde = h.type === T.FORMAT_DESCRIPTION;
    const trailer = isFde ? 0 : this.checksumLen;
    while (this.dataRemaining > 0) {
      if (this.queue.length === 0) return false;
      const part = this.queue.readUpTo(this.dataRemaining);
      this.dataRemaining -= part.length;
      this.offset += part.length;
      if (trailer > 0) this.crc = crc32Update(this.crc, part);
      if (this.keptLength < this.keep) {
        const slice = part.subarray(0, this.keep - this.keptLength);
        // Copy: the chunk belongs to the caller, who may reuse it after push returns.
        this.kept.push(Buffer.from(slice));
        this.keptLength += slice.length;
      }
    }
    if (trailer > 0) {
      if (this.queue.length < trailer) return false;
      const stored = this.queue.read(trailer).readUInt32LE(0);
      this.offset += trailer;
      if (stored !== this.crc) {
        throw corrupt(this.file, this.eventStart, `CRC32 mismatch in event of type ${h.type} (stored ${hex32(stored)}, computed ${hex32(this.crc)})`, {
          type: h.type,
          stored: hex32(stored),
          computed: hex32(this.crc),
        });
      }
    }
    const body = this.kept.length === 1 ? this.kept[0]! : Buffer.concat(this.kept, this.keptLength);
    const bodyComplete = this.keptLength === h.size - EVENT_HEADER_LENGTH - trailer;
    this.kept = [];
    this.phase = 'header';
    this.handleEvent(h, body, bodyComplete);
    this.endPosition = this.offset;
    if (h.timestamp !== 0) {
      if (this.firstTimestamp === undefined) this.firstTimestamp = h.timestamp;
      this.lastTimestamp = h.timestamp;
    }
    return true;
  }

  private postHeaderLength(type: number, fallback: number): number {
    const v = this.postHeaderLengths[type - 1];
    return v === undefined || v === 0 ? fallback : v;
  }

  private handleEvent(h: EventHeader, body: Buffer, bodyComplete: boolean): void {
    const end = this.eventStart + h.size;
    try {
      this.dispatch(h, body, bodyComplete, end);
    } catch (err) {
      if (err instanceof DrillError) throw err;
      if (err instanceof RangeError) {
        throw corrupt(this.file, this.eventStart, `event of type ${h.type} is too short for its content (${err.message})`, { type: h.type });
      }
      throw err;
    }
  }

  private dispatch(h: EventHeader, body: Buffer, bodyComplete: boolean, end: number): void {
    switch (h.type) {
      case T.FORMAT_DESCRIPTION:
        this.onFormatDescription(h, body);
        return;
      case T.MARIADB_START_ENCRYPTION:
        throw new DrillError(
          'BadConfig',
          `Binary log ${this.file} is encrypted (MariaDB encrypt_binlog=ON, START_ENCRYPTION_EVENT at ${this.eventStart}); restore-drill cannot read encrypted binlogs`,
          { details: { file: this.file, position: this.eventStart } },
        );
      case T.ROTATE: {
        const ph = this.postHeaderLength(T.ROTATE, 8);
        this.rotatesTo = body.toString('utf8', ph);
        return;
      }
      case T.STOP:
        this.stopped = true;
        return;
      case T.PREVIOUS_GTIDS:
        this.previousGtids = decodePreviousGtids(body);
        return;
      case T.MARIADB_GTID_LIST:
        this.previousGtids = decodeGtidList(body);
        return;
      case T.GTID:
      case T.ANONYMOUS_GTID: {
        const g = decodeMysqlGtid(body);
        this.open(h, g.gtid === undefined || h.type === T.ANONYMOUS_GTID ? undefined : g.gtid, g.commitTimeMicros);
        return;
      }
      case T.GTID_TAGGED: {
        const g = decodeTaggedGtid(body);
        this.open(h, g.gtid, g.commitTimeMicros);
        return;
      }
      case T.MARIADB_GTID: {
        const seq = body.readBigUInt64LE(0);
        const domain = body.readUInt32LE(8);
        const flags = body.length > 12 ? body[12]! : 0;
        const tx = this.open(h, formatMariadbGtid({ domain, server: h.serverId, seq }), undefined);
        if (flags & MariadbGtidFlags.DDL) tx.hasDdl = true;
        // A MariaDB GTID event *is* the BEGIN of its event group (no BEGIN query follows)
        // unless FL_STANDALONE says the group is one statement without COMMIT.
        tx.begun = (flags & MariadbGtidFlags.STANDALONE) === 0;
        return;
      }
      case T.QUERY:
      case T.EXECUTE_LOAD_QUERY: {
        const text = decodeQueryText(body, this.postHeaderLength(h.type, h.type === T.QUERY ? 13 : 26), bodyComplete);
        this.onStatement(h, text, end);
        return;
      }
      case T.MARIADB_QUERY_COMPRESSED:
        // zlib-compressed text (log_bin_compress=ON, statements over log_bin_compress_min_len):
        // not decoded. It is never BEGIN/COMMIT (too short to be compressed).
        this.onStatement(h, COMPRESSED_QUERY_PLACEHOLDER, end);
        return;
      case T.XID:
      case T.XA_PREPARE:
        if (this.tx !== undefined) this.close(end);
        return;
      case T.TRANSACTION_PAYLOAD: {
        // MySQL binlog_transaction_compression=ON: the whole transaction after its GTID event
        // (BEGIN, TABLE_MAP, rows, XID) is one zstd-compressed payload. Its inner events are
        // not decoded, so its tables and statements stay unknown; only row-format DML is ever
        // compressed, so it is a DML transaction that ends with this event.
        const tx = this.ensureOpen(h);
        tx.hasRows = true;
        this.close(end);
        return;
      }
      case T.TABLE_MAP: {
        const tx = this.ensureOpen(h);
        const name = decodeTableMap(body, this.postHeaderLength(T.TABLE_MAP, 8));
        if (!tx.tableSet.has(name)) {
          tx.tableSet.add(name);
          tx.tables.push(name);
        }
        return;
      }
      case T.MARIADB_ANNOTATE_ROWS: {
        const tx = this.ensureOpen(h);
        this.addStatement(tx, cut(body.toString('utf8'), bodyComplete));
        return;
      }
      case T.ROWS_QUERY: {
        // One length byte (capped at 255, so unreliable), then the text up to the event's end.
        const tx = this.ensureOpen(h);
        this.addStatement(tx, cut(body.toString('utf8', 1), bodyComplete));
        return;
      }
      default:
        if (ROW_EVENTS.has(h.type)) {
          this.ensureOpen(h).hasRows = true;
        } else if (STATEMENT_CONTEXT.has(h.type)) {
          this.ensureOpen(h);
        }
      // Anything else (heartbeats, checkpoints, incidents, unknown types) is skipped by size.
    }
  }

  private onFormatDescription(h: EventHeader, body: Buffer): void {
    // binlog_version u16, server_version char[50], create_timestamp u32, header_length u8,
    // post-header lengths (one per event type), then on checksum-aware servers the checksum
    // algorithm u8 and a 4-byte checksum, present whatever the algorithm.
    if (body.length < 57) throw corrupt(this.file, this.eventStart, 'FORMAT_DESCRIPTION_EVENT is too short');
    const version = body.toString('latin1', 2, 52).replace(/\0.*$/s, '');
    const headerLength = body[56]!;
    if (headerLength !== EVENT_HEADER_LENGTH) {
      throw corrupt(this.file, this.eventStart, `unsupported event header length ${headerLength} (only binlog format v4 is read)`);
    }
    this.serverVersion = version;
    const flavor: Flavor = /mariadb/i.test(version) ? 'mariadb' : 'mysql';
    this.detectedFlavor = flavor;
    if (this.flavor !== undefined && this.flavor !== flavor) {
      throw new DrillError('VersionMismatch', `Binary log ${this.file} was written by ${version} (${flavor}), not by a ${this.flavor} server`, {
        details: { file: this.file, serverVersion: version, expected: this.flavor },
      });
    }
    this.inUse = (h.flags & LOG_EVENT_BINLOG_IN_USE_F) !== 0;
    let postHeaderEnd = body.length;
    if (checksumAware(version, flavor) && body.length >= 57 + 5) {
      const alg = body[body.length - 5]!;
      postHeaderEnd = body.length - 5;
      if (alg === ChecksumAlg.CRC32) {
        // The CRC covers the event as first written, with the in-use flag clear (the server
        // clears that flag in place when it closes the file, without rewriting the CRC).
        const header = Buffer.from(this.headerBytes!);
        header.writeUInt16LE(h.flags & ~LOG_EVENT_BINLOG_IN_USE_F, 17);
        const computed = crc32Update(crc32Update(0, header), body.subarray(0, body.length - 4));
        const stored = body.readUInt32LE(body.length - 4);
        if (computed !== stored) {
          throw corrupt(this.file, this.eventStart, `CRC32 mismatch in FORMAT_DESCRIPTION_EVENT (stored ${hex32(stored)}, computed ${hex32(computed)})`, {
            type: h.type,
            stored: hex32(stored),
            computed: hex32(computed),
          });
        }
        this.checksum = 'crc32';
        this.checksumLen = 4;
      } else if (alg !== ChecksumAlg.OFF && alg !== ChecksumAlg.UNDEF) {
        throw corrupt(this.file, this.eventStart, `unknown binlog checksum algorithm ${alg}`);
      }
    }
    this.postHeaderLengths = [...body.subarray(57, postHeaderEnd)];
  }

  private onStatement(h: EventHeader, text: string, end: number): void {
    const cls = classifyStatement(text);
    if (cls === 'begin') {
      const tx = this.ensureOpen(h);
      tx.begun = true;
      return;
    }
    if (cls === 'commit' || cls === 'rollback') {
      if (this.tx !== undefined) this.close(end);
      return;
    }
    if (cls === 'xa-end') return;
    const tx = this.ensureOpen(h);
    this.addStatement(tx, text);
    if (cls === 'ddl') tx.hasDdl = true;
    // A statement outside BEGIN … COMMIT is a transaction by itself: DDL after its GTID event
    // (MySQL; MariaDB FL_STANDALONE), XA COMMIT/ROLLBACK, or anything in a GTID-less binlog.
    if (!tx.begun) this.close(end);
  }

  private addStatement(tx: OpenTransaction, text: string): void {
    tx.statements.push(text);
    if (classifyStatement(text) === 'dml') tx.hasDml = true;
  }

  private open(h: EventHeader, gtid: string | undefined, commitTimeMicros: number | undefined): OpenTransaction {
    // A GTID event while a transaction is open means the open one never committed (it was
    // cut off); it is dropped, as a replay would drop it.
    const tx: OpenTransaction = {
      start: this.eventStart,
      timestamp: h.timestamp,
      statements: [],
      tables: [],
      tableSet: new Set(),
      begun: false,
      hasRows: false,
      hasDdl: false,
      hasDml: false,
    };
    if (gtid !== undefined) tx.gtid = gtid;
    if (commitTimeMicros !== undefined) tx.commitTimeMicros = commitTimeMicros;
    this.tx = tx;
    return tx;
  }

  private ensureOpen(h: EventHeader): OpenTransaction {
    return this.tx ?? this.open(h, undefined, undefined);
  }

  private close(end: number): void {
    const tx = this.tx!;
    this.tx = undefined;
    const t: BinlogTransaction = {
      file: this.file,
      startPosition: tx.start,
      endPosition: end,
      timestamp: tx.timestamp,
      statements: tx.statements,
      tables: tx.tables,
      kind: tx.hasDdl ? 'ddl' : tx.hasRows || tx.hasDml ? 'dml' : 'other',
    };
    if (tx.commitTimeMicros !== undefined) t.commitTimeMicros = tx.commitTimeMicros;
    if (tx.gtid !== undefined) t.gtid = tx.gtid;
    this.out.push(t);
  }
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function cut(text: string, complete: boolean): string {
  return complete ? text : text + CUT_MARKER;
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

/**
 * QUERY_EVENT: post-header thread_id u32, exec_time u32, db_len u8, error_code u16,
 * status_vars_len u16 (EXECUTE_LOAD_QUERY adds 13 more bytes); then the status variables,
 * the default database and a NUL, then the statement up to the end of the event.
 */
function decodeQueryText(body: Buffer, postHeaderLength: number, complete: boolean): string {
  if (body.length < postHeaderLength) throw new RangeError(`post-header of ${postHeaderLength} bytes beyond body length ${body.length}`);
  const dbLen = body[8]!;
  const statusLen = postHeaderLength >= 13 ? body.readUInt16LE(11) : 0;
  const at = postHeaderLength + statusLen + dbLen + 1;
  if (at > body.length) throw new RangeError(`statement offset ${at} beyond body length ${body.length}`);
  return cut(body.toString('utf8', at), complete);
}

/** TABLE_MAP: table_id (6 bytes, 4 if the post-header is 6 long), flags u16, db, table. */
function decodeTableMap(body: Buffer, postHeaderLength: number): string {
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

/**
 * MySQL GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT: flags u8, uuid 16 bytes, gno i64; then
 * (5.7+) lt_type u8 = 2, last_committed i64, sequence_number i64; then (8.0.1+)
 * immediate_commit_timestamp in 7 bytes, whose top bit says that an
 * original_commit_timestamp (7 bytes) follows; later fields are not needed.
 */
function decodeMysqlGtid(body: Buffer): { gtid?: string; commitTimeMicros?: number } {
  const uuid = uuidText(body, 1);
  const gno = body.readBigInt64LE(17);
  const out: { gtid?: string; commitTimeMicros?: number } = {};
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
function decodeTaggedGtid(body: Buffer): { gtid?: string; commitTimeMicros?: number } {
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
  const out: { gtid?: string; commitTimeMicros?: number } = {};
  if (uuid !== undefined && gno > 0n) out.gtid = formatMysqlGtid({ uuid, tag, gno });
  if (commitTimeMicros !== undefined) out.commitTimeMicros = commitTimeMicros;
  return out;
}

/**
 * MySQL PREVIOUS_GTIDS_LOG_EVENT: u64 whose top byte is the format (0 untagged, 1 tagged)
 * and whose low 56 bits are the number of UUIDs (tagged: bits 8..55); per UUID: 16 bytes, in
 * the tagged format a varlen-length tag, then n_intervals u64 and [start, end) i64 pairs.
 */
function decodePreviousGtids(body: Buffer): string {
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
function decodeGtidList(body: Buffer): string {
  const count = body.readUInt32LE(0) & 0x0fffffff;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 16;
    out.push(formatMariadbGtid({ domain: body.readUInt32LE(at), server: body.readUInt32LE(at + 4), seq: body.readBigUInt64LE(at + 8) }));
  }
  return out.join(',');
}

/** Scans a whole file held in memory. */
export function scanBinlogFile(file: string, bytes: Buffer, flavor?: Flavor): { transactions: BinlogTransaction[]; summary: BinlogFileSummary } {
  const scanner = new BinlogFileScanner(file, flavor);
  const transactions = scanner.push(bytes);
  const end = scanner.finish();
  return { transactions: [...transactions, ...end.transactions], summary: end.summary };
}
