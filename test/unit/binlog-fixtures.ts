/**
 * A small binlog writer for tests: encodes MySQL and MariaDB binlog v4 events, with correct
 * CRC32 trailers when checksums are on, and records where each event starts and ends.
 * Event layouts follow the server sources (see domain/binlog/format.ts); bodies that the
 * scanner does not decode (row images) are filler.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { BinlogEventType as T, MariadbGtidFlags } from '../../domain/binlog/format';
import type { Flavor } from '../../domain/types';

export interface WriterOptions {
  flavor: Flavor;
  /** CRC32 trailers (default true). */
  checksum?: boolean;
  serverVersion?: string;
  serverId?: number;
  /** Header time of events written without an explicit one. */
  timestamp?: number;
  /** Set LOG_EVENT_BINLOG_IN_USE_F on the FORMAT_DESCRIPTION_EVENT. */
  inUse?: boolean;
  /** TABLE_MAP post-header length (8: 6-byte table ids; 6: 4-byte ids, pre-5.1.4). */
  tableMapPostHeader?: number;
  /** Skip the FORMAT_DESCRIPTION_EVENT (write it yourself, or test without one). */
  noFormatDescription?: boolean;
}

export interface EventOptions {
  timestamp?: number;
  serverId?: number;
  flags?: number;
  /** Write a wrong log_pos. */
  logPos?: number;
  /** Flip a bit of the CRC trailer. */
  badCrc?: boolean;
}

export interface Span {
  start: number;
  end: number;
}

export const UUID_A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
export const UUID_B = 'aaaaaaaa-bbbb-cccc-dddd-000000000001';

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function i64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
}
function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}
/** 7-byte little-endian integer (MySQL commit timestamps), with an optional top-bit flag. */
function u56(n: number, highBit = false): Buffer {
  const b = Buffer.alloc(7);
  b.writeUIntLE(n % 2 ** 48, 0, 6);
  b[6] = Math.floor(n / 2 ** 48) | (highBit ? 0x80 : 0);
  return b;
}

/** mysql::serialization varlen unsigned integer. */
export function varlenUint(v: bigint | number): Buffer {
  const n = BigInt(v);
  for (let len = 1; len <= 8; len++) {
    if (n < 1n << BigInt(7 * len)) {
      const encoded = (n << BigInt(len)) | ((1n << BigInt(len - 1)) - 1n);
      const b = Buffer.alloc(len);
      let x = encoded;
      for (let i = 0; i < len; i++) {
        b[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      return b;
    }
  }
  return Buffer.concat([Buffer.from([0xff]), u64(n)]);
}
/** mysql::serialization varlen signed integer: sign in the lowest bit. */
export function varlenInt(v: bigint | number): Buffer {
  const n = BigInt(v);
  return varlenUint(n >= 0n ? n << 1n : ((-n - 1n) << 1n) | 1n);
}
function varlenString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([varlenUint(b.length), b]);
}

export class BinlogWriter {
  private readonly parts: Buffer[] = [Buffer.from([0xfe, 0x62, 0x69, 0x6e])];
  position = 4;
  readonly flavor: Flavor;
  readonly checksum: boolean;
  readonly serverId: number;
  timestamp: number;
  private readonly opts: WriterOptions;

  constructor(opts: WriterOptions) {
    this.opts = opts;
    this.flavor = opts.flavor;
    this.checksum = opts.checksum ?? true;
    this.serverId = opts.serverId ?? 1;
    this.timestamp = opts.timestamp ?? 1_795_000_000;
    if (!opts.noFormatDescription) this.formatDescription();
  }

  /** Appends one event; returns where it starts and ends. */
  event(type: number, body: Buffer, o: EventOptions = {}): Span {
    // The FORMAT_DESCRIPTION_EVENT body carries its own algorithm byte and CRC.
    const crcLen = this.checksum && type !== T.FORMAT_DESCRIPTION ? 4 : 0;
    const size = 19 + body.length + crcLen;
    const start = this.position;
    const header = Buffer.alloc(19);
    header.writeUInt32LE(o.timestamp ?? this.timestamp, 0);
    header.writeUInt8(type, 4);
    header.writeUInt32LE(o.serverId ?? this.serverId, 5);
    header.writeUInt32LE(size, 9);
    header.writeUInt32LE(o.logPos ?? start + size, 13);
    header.writeUInt16LE(o.flags ?? 0, 17);
    const parts = [header, body];
    if (crcLen > 0) {
      let crc = crc32(Buffer.concat([header, body]));
      if (o.badCrc) crc = (crc ^ 1) >>> 0;
      parts.push(u32(crc));
    }
    const bytes = Buffer.concat(parts);
    this.parts.push(bytes);
    this.position += bytes.length;
    return { start, end: this.position };
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }

  /** Raw bytes appended as they are (for torn tails). */
  raw(bytes: Buffer): void {
    this.parts.push(bytes);
    this.position += bytes.length;
  }

  formatDescription(o: { version?: string; alg?: number; inUse?: boolean; badCrc?: boolean } = {}): Span {
    const version =
      o.version ?? this.opts.serverVersion ?? (this.flavor === 'mariadb' ? '10.11.11-MariaDB-log' : '9.7.0');
    const count = this.flavor === 'mariadb' ? 171 : 42;
    const post = Buffer.alloc(count);
    post[T.QUERY - 1] = 13;
    post[T.ROTATE - 1] = 8;
    post[T.EXECUTE_LOAD_QUERY - 1] = 26;
    post[T.TABLE_MAP - 1] = this.opts.tableMapPostHeader ?? 8;
    post[T.WRITE_ROWS - 1] = 10;
    post[T.GTID - 1] = 42;
    post[T.ANONYMOUS_GTID - 1] = 42;
    if (this.flavor === 'mariadb') post[T.MARIADB_GTID - 1] = 19;
    const ver = Buffer.alloc(50);
    ver.write(version, 'latin1');
    const fixed = Buffer.concat([u16(4), ver, u32(this.timestamp), Buffer.from([19]), post]);
    const alg = o.alg ?? (this.checksum ? 1 : 0);
    const flags = o.inUse ?? this.opts.inUse ? 1 : 0;
    // The FDE carries the algorithm byte and a CRC whatever the algorithm; the CRC is
    // computed with the in-use flag clear.
    const header = Buffer.alloc(19);
    const size = 19 + fixed.length + 5;
    header.writeUInt32LE(this.timestamp, 0);
    header.writeUInt8(T.FORMAT_DESCRIPTION, 4);
    header.writeUInt32LE(this.serverId, 5);
    header.writeUInt32LE(size, 9);
    header.writeUInt32LE(this.position + size, 13);
    header.writeUInt16LE(0, 17);
    let crc = crc32(Buffer.concat([header, fixed, Buffer.from([alg])]));
    if (o.badCrc) crc = (crc ^ 1) >>> 0;
    return this.event(T.FORMAT_DESCRIPTION, Buffer.concat([fixed, Buffer.from([alg]), u32(crc)]), { flags });
  }

  // ----- MySQL -----

  previousGtids(entries: { uuid: string; tag?: string; intervals: [number, number][] }[], tagged = false): Span {
    const n = BigInt(entries.length);
    const head = tagged ? (1n << 56n) | (n << 8n) | 1n : n;
    const parts = [u64(head)];
    for (const e of entries) {
      parts.push(uuidBytes(e.uuid));
      if (tagged) parts.push(varlenString(e.tag ?? ''));
      parts.push(u64(e.intervals.length));
      for (const [s, end] of e.intervals) parts.push(i64(s), i64(end + 1));
    }
    return this.event(T.PREVIOUS_GTIDS, Buffer.concat(parts));
  }

  /** GTID_LOG_EVENT (or ANONYMOUS_GTID_LOG_EVENT when `uuid` is undefined). */
  mysqlGtid(g: { uuid?: string; gno?: number; commitMicros?: number; originalMicros?: number; legacy?: boolean }, o: EventOptions = {}): Span {
    const anonymous = g.uuid === undefined;
    const parts = [Buffer.from([anonymous ? 0 : 1]), anonymous ? Buffer.alloc(16) : uuidBytes(g.uuid!), i64(anonymous ? 0 : g.gno ?? 1)];
    if (!g.legacy) {
      parts.push(Buffer.from([2]), i64(0), i64(1));
      if (g.commitMicros !== undefined) {
        const original = g.originalMicros !== undefined && g.originalMicros !== g.commitMicros;
        parts.push(u56(g.commitMicros, original));
        if (original) parts.push(u56(g.originalMicros!));
        parts.push(Buffer.from([0xfc, 0x10, 0x01]), u32(90700)); // transaction_length (packed), server version
      }
    }
    return this.event(anonymous ? T.ANONYMOUS_GTID : T.GTID, Buffer.concat(parts), o);
  }

  /** GTID_TAGGED_LOG_EVENT (MySQL 8.3+), mysql::serialization format. */
  taggedGtid(g: { uuid: string; tag: string; gno: number; commitMicros: number }, o: EventOptions = {}): Span {
    const fields = Buffer.concat([
      varlenUint(0), varlenUint(1), // gtid_flags
      varlenUint(1), Buffer.concat([...uuidBytes(g.uuid)].map((b) => varlenUint(b))),
      varlenUint(2), varlenInt(g.gno),
      varlenUint(3), varlenString(g.tag),
      varlenUint(4), varlenInt(0),
      varlenUint(5), varlenInt(1),
      varlenUint(6), varlenUint(g.commitMicros),
      varlenUint(8), varlenUint(300), // transaction_length (field 7 omitted: same as 6)
      varlenUint(9), varlenUint(90700),
    ]);
    const version = varlenUint(1);
    const last = varlenUint(0);
    let size = version.length + 1 + last.length + fields.length;
    size = version.length + varlenUint(size).length + last.length + fields.length;
    return this.event(T.GTID_TAGGED, Buffer.concat([version, varlenUint(size), last, fields]), o);
  }

  xid(o: EventOptions = {}): Span {
    return this.event(T.XID, u64(12345), o);
  }

  rowsQuery(text: string, o: EventOptions = {}): Span {
    const b = Buffer.from(text, 'utf8');
    return this.event(T.ROWS_QUERY, Buffer.concat([Buffer.from([Math.min(b.length, 255)]), b]), o);
  }

  payload(o: EventOptions = {}): Span {
    return this.event(T.TRANSACTION_PAYLOAD, Buffer.from('28b52ffd00580100000000', 'hex'), o);
  }

  xaPrepare(o: EventOptions = {}): Span {
    return this.event(T.XA_PREPARE, Buffer.concat([Buffer.from([0]), u32(1), u32(3), u32(0), Buffer.from('abc')]), o);
  }

  // ----- MariaDB -----

  mariaGtid(g: { domain?: number; seq: number | bigint; flags?: number; serverId?: number }, o: EventOptions = {}): Span {
    const flags = g.flags ?? 0;
    const xa = MariadbGtidFlags.PREPARED_XA | MariadbGtidFlags.COMPLETED_XA;
    const tail =
      flags & MariadbGtidFlags.GROUP_COMMIT_ID
        ? u64(77)
        : flags & xa
          ? Buffer.concat([u32(1), Buffer.from([2, 0]), Buffer.from('x1')]) // format_id, gtrid/bqual lengths, xid
          : Buffer.alloc(6);
    return this.event(T.MARIADB_GTID, Buffer.concat([u64(g.seq), u32(g.domain ?? 0), Buffer.from([flags]), tail]), {
      ...o,
      serverId: g.serverId ?? o.serverId,
    });
  }

  gtidList(entries: { domain: number; server: number; seq: number }[]): Span {
    const parts = [u32(entries.length)];
    for (const e of entries) parts.push(u32(e.domain), u32(e.server), u64(e.seq));
    return this.event(T.MARIADB_GTID_LIST, Buffer.concat(parts));
  }

  checkpoint(file: string): Span {
    return this.event(T.MARIADB_BINLOG_CHECKPOINT, Buffer.concat([u32(file.length), Buffer.from(file)]));
  }

  annotate(text: string, o: EventOptions = {}): Span {
    return this.event(T.MARIADB_ANNOTATE_ROWS, Buffer.from(text, 'utf8'), o);
  }

  // ----- Both -----

  query(text: string, o: EventOptions & { db?: string; type?: number } = {}): Span {
    const db = Buffer.from(o.db ?? 'school', 'utf8');
    // Status variables: Q_FLAGS2_CODE (0) u32, Q_SQL_MODE_CODE (1) u64, Q_CATALOG_NZ_CODE (6).
    const status = Buffer.concat([Buffer.from([0]), u32(0), Buffer.from([1]), u64(0), Buffer.from([6, 3]), Buffer.from('std')]);
    const type = o.type ?? T.QUERY;
    const post = [u32(42), u32(0), Buffer.from([db.length]), u16(0), u16(status.length)];
    if (type === T.EXECUTE_LOAD_QUERY) post.push(u32(1), u32(0), u32(0), Buffer.from([0]));
    const body = Buffer.concat([...post, status, db, Buffer.from([0]), Buffer.from(text, 'utf8')]);
    return this.event(type, body, o);
  }

  tableMap(db: string, table: string, o: EventOptions & { tableId?: number } = {}): Span {
    const idLen = (this.opts.tableMapPostHeader ?? 8) === 6 ? 4 : 6;
    const id = Buffer.alloc(idLen);
    id.writeUIntLE(o.tableId ?? 108, 0, idLen);
    const d = Buffer.from(db, 'utf8');
    const t = Buffer.from(table, 'utf8');
    const tail = Buffer.from([1, 3, 0, 0]); // 1 column, LONG, no metadata, null bitmap
    return this.event(T.TABLE_MAP, Buffer.concat([id, u16(1), Buffer.from([d.length]), d, Buffer.from([0]), Buffer.from([t.length]), t, Buffer.from([0]), tail]), o);
  }

  rows(type: number = T.WRITE_ROWS, size = 40, o: EventOptions = {}): Span {
    const body = Buffer.alloc(size, 0xab);
    return this.event(type, body, o);
  }

  intvar(o: EventOptions = {}): Span {
    return this.event(T.INTVAR, Buffer.concat([Buffer.from([2]), u64(1)]), o);
  }

  rotate(next: string, o: EventOptions = {}): Span {
    return this.event(T.ROTATE, Buffer.concat([u64(4), Buffer.from(next, 'utf8')]), o);
  }

  stop(o: EventOptions = {}): Span {
    return this.event(T.STOP, Buffer.alloc(0), o);
  }

  // ----- Whole transactions -----

  /** A DDL statement in its own transaction (MySQL: GTID + query; MariaDB: standalone GTID + query). */
  ddl(sql: string, g: { gno?: number; uuid?: string; seq?: number; domain?: number; commitMicros?: number }, o: EventOptions = {}): Span {
    const first =
      this.flavor === 'mysql'
        ? this.mysqlGtid({ uuid: g.uuid ?? UUID_A, gno: g.gno ?? 1, commitMicros: g.commitMicros }, o)
        : this.mariaGtid({ domain: g.domain, seq: g.seq ?? 1, flags: MariadbGtidFlags.STANDALONE | MariadbGtidFlags.DDL }, o);
    const q = this.query(sql, o);
    return { start: first.start, end: q.end };
  }

  /**
   * A row-format transaction: GTID, BEGIN (MySQL only: a MariaDB GTID event stands for the
   * BEGIN), [ROWS_QUERY / ANNOTATE_ROWS], TABLE_MAP + rows per table, XID.
   */
  rowTx(
    tables: string[],
    g: { gno?: number; uuid?: string; seq?: number; domain?: number; commitMicros?: number; annotate?: string },
    o: EventOptions = {},
  ): Span {
    const first =
      this.flavor === 'mysql'
        ? this.mysqlGtid({ uuid: g.uuid ?? UUID_A, gno: g.gno ?? 1, commitMicros: g.commitMicros }, o)
        : this.mariaGtid({ domain: g.domain, seq: g.seq ?? 1, flags: MariadbGtidFlags.TRANSACTIONAL }, o);
    if (this.flavor === 'mysql') this.query('BEGIN', o);
    if (g.annotate !== undefined) {
      if (this.flavor === 'mariadb') this.annotate(g.annotate, o);
      else this.rowsQuery(g.annotate, o);
    }
    for (const [i, name] of tables.entries()) {
      const [db, table] = name.split('.');
      this.tableMap(db!, table!, { ...o, tableId: 100 + i });
      this.rows(T.WRITE_ROWS, 40, o);
    }
    const x = this.xid(o);
    return { start: first.start, end: x.end };
  }
}

/** Splits bytes into chunks of the given sizes (cycling), for chunk-boundary tests. */
export function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const n = Math.max(1, sizes[i % sizes.length]!);
    out.push(bytes.subarray(at, at + n));
    at += n;
    i++;
  }
  return out;
}

/** The error `fn` throws (fails the test when it throws none). */
export function caught(fn: () => unknown): { type?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected an error, none was thrown');
}

// ----- Real binlogs captured from the project's server images (test/fixtures/binlog/README.md) -----

export const REAL_BINLOG_DIR = path.join(__dirname, '..', 'fixtures', 'binlog');

/** A folder of test/fixtures/binlog: one server release each. */
export type BinlogFixtureServer = Flavor | 'mariadb-11.8';

export function fixtureFlavor(server: BinlogFixtureServer): Flavor {
  return server === 'mysql' ? 'mysql' : 'mariadb';
}

export function realBinlog(server: BinlogFixtureServer, file: string): Buffer {
  return readFileSync(path.join(REAL_BINLOG_DIR, server, file));
}

/** One row of `SHOW BINLOG EVENTS`, as the server printed it when the file was captured. */
export interface RecordedEvent {
  pos: number;
  type: string;
  serverId: number;
  end: number;
  info: string;
}

export function recordedEvents(server: BinlogFixtureServer, file: string): RecordedEvent[] {
  const lines = readFileSync(path.join(REAL_BINLOG_DIR, server, `${file}.events.tsv`), 'utf8').trimEnd().split('\n');
  return lines.slice(1).map((line) => {
    const [, pos, type, serverId, end, ...info] = line.split('\t');
    return { pos: Number(pos), type: type!, serverId: Number(serverId), end: Number(end), info: info.join('\t') };
  });
}
