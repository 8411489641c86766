/**
 * A streaming reader of MySQL and MariaDB binary log files (binlog format v4, see
 * ./format.ts) that turns events into transactions: what point-in-time recovery needs to
 * pick a stop position. Row images are not decoded.
 *
 * Each event is read in steps: its header, its body, its CRC32 trailer (checked with the
 * caller's {@link Crc32}), then what it says is handed on: file facts are kept here,
 * transaction events go to a {@link TransactionAssembler}.
 *
 * Memory: events are consumed as they arrive; only the first {@link MAX_KEPT_BODY} bytes of
 * a body are kept (row events keep none), so a 1 GiB row event costs no memory.
 */

import { DrillError } from '../errors';
import { ByteQueue } from './byte-reader';
import {
  COMPRESSED_QUERY_PLACEHOLDER,
  DECODED_EVENTS,
  FORMAT_DESCRIPTION_MIN_LENGTH,
  MAX_KEPT_BODY,
  decodeAnnotateRows,
  decodeFormatDescription,
  decodeGtidList,
  decodeMariadbGtid,
  decodeMysqlGtid,
  decodePreviousGtids,
  decodeQueryText,
  decodeRotate,
  decodeRowsQuery,
  decodeTableMap,
  decodeTaggedGtid,
} from './event-decoders';
import type { BinlogFileSummary, BinlogTransaction } from './events';
import {
  BINLOG_MAGIC,
  BinlogEventType as T,
  CRC32_TRAILER_LENGTH,
  ChecksumAlg,
  EVENT_HEADER_LENGTH,
  LOG_EVENT_BINLOG_IN_USE_F,
  ROW_EVENTS,
  STATEMENT_CONTEXT_EVENTS,
  readEventHeader,
  type Crc32,
  type EventHeader,
} from './format';
import { TransactionAssembler, type EventPlace } from './transactions';
import type { Flavor } from '../types';

export interface BinlogScanOptions {
  /** Checks every event's CRC32 trailer (the activity side passes Node's `zlib.crc32`). */
  crc32: Crc32;
  /** Refuses a file written by the other flavor (VersionMismatch). */
  flavor?: Flavor;
}

/** The event being read. */
interface CurrentEvent {
  header: EventHeader;
  /** A copy: the FORMAT_DESCRIPTION_EVENT's checksum is computed over it. */
  headerBytes: Buffer;
  start: number;
  /** Bytes of the CRC32 trailer after the body (0 without checksums, and for the FDE). */
  trailer: number;
  /** Body bytes not read yet. */
  remaining: number;
  /** Body bytes to keep for decoding. */
  keep: number;
  kept: Buffer[];
  keptLength: number;
  /** Running CRC32 of the event so far. */
  crc: number;
}

/** What the file's own events say about it (the summary's fields). */
interface FileFacts {
  checksum: 'none' | 'crc32';
  postHeaderLengths: number[];
  serverVersion?: string;
  flavor?: Flavor;
  inUse?: boolean;
  firstTimestamp?: number;
  lastTimestamp?: number;
  rotatesTo?: string;
  previousGtids?: string;
  stopped: boolean;
}

/**
 * Reads one binlog file pushed in order as chunks of any size (an event may span pushes).
 * `push` returns the transactions whose commit event arrived in that chunk; `finish` says
 * how the file ended and returns any transaction not yet returned. A transaction whose
 * commit is missing (file still being written) is never returned; see
 * `summary.openTransactionStart`.
 *
 * Throws DrillError('ArtifactCorrupt') for a bad magic number, a CRC32 mismatch, or an
 * event whose size or next-position field is impossible; DrillError('VersionMismatch') when
 * `flavor` is given and the file was written by the other flavor; DrillError('BadConfig')
 * for an encrypted MariaDB binlog. A truncated tail is not an error.
 */
export class BinlogFileScanner {
  private readonly queue = new ByteQueue();
  private readonly transactions: TransactionAssembler;
  private readonly crc32: Crc32;
  private readonly flavor: Flavor | undefined;
  private phase: 'magic' | 'header' | 'body' | 'finished' = 'magic';
  /** File offset of the first byte not yet consumed. */
  private offset = 0;
  /** Offset after the last complete event. */
  private endPosition = 0;
  private event: CurrentEvent | undefined;
  private readonly facts: FileFacts = { checksum: 'none', postHeaderLengths: [], stopped: false };

  constructor(
    readonly file: string,
    options: BinlogScanOptions,
  ) {
    this.crc32 = options.crc32;
    this.flavor = options.flavor;
    this.transactions = new TransactionAssembler(file);
  }

  push(chunk: Buffer): BinlogTransaction[] {
    if (this.phase === 'finished') throw new Error(`BinlogFileScanner(${this.file}): push after finish`);
    this.queue.push(chunk);
    let more = true;
    while (more) more = this.step();
    return this.transactions.take();
  }

  finish(): { transactions: BinlogTransaction[]; summary: BinlogFileSummary } {
    const truncatedTail = this.queue.length > 0 || this.phase === 'body';
    this.phase = 'finished';
    return { transactions: this.transactions.take(), summary: this.summary(truncatedTail) };
  }

  private summary(truncatedTail: boolean): BinlogFileSummary {
    const f = this.facts;
    const summary: BinlogFileSummary = { file: this.file, checksum: f.checksum, endPosition: this.endPosition, truncatedTail, stopped: f.stopped };
    if (f.serverVersion !== undefined) summary.serverVersion = f.serverVersion;
    if (f.flavor !== undefined) summary.flavor = f.flavor;
    if (f.firstTimestamp !== undefined) summary.firstTimestamp = f.firstTimestamp;
    if (f.lastTimestamp !== undefined) summary.lastTimestamp = f.lastTimestamp;
    if (f.inUse !== undefined) summary.inUse = f.inUse;
    if (f.rotatesTo !== undefined) summary.rotatesTo = f.rotatesTo;
    if (f.previousGtids !== undefined) summary.previousGtids = f.previousGtids;
    const open = this.transactions.openStart;
    if (open !== undefined) summary.openTransactionStart = open;
    return summary;
  }

  /** One step of reading; false when it needs more bytes. */
  private step(): boolean {
    switch (this.phase) {
      case 'magic':
        return this.readMagic();
      case 'header':
        return this.readEventHeader();
      case 'body':
        return this.readEventBody();
      case 'finished':
        return false;
    }
  }

  private readMagic(): boolean {
    if (this.queue.length < BINLOG_MAGIC.length) return false;
    const magic = this.queue.read(BINLOG_MAGIC.length);
    if (!magic.equals(BINLOG_MAGIC)) {
      throw new DrillError('ArtifactCorrupt', `${this.file} is not a binary log: it does not start with the binlog magic number`, {
        details: { file: this.file, position: 0, found: magic.toString('hex') },
      });
    }
    this.offset = this.endPosition = BINLOG_MAGIC.length;
    this.phase = 'header';
    return true;
  }

  private readEventHeader(): boolean {
    if (this.queue.length < EVENT_HEADER_LENGTH) return false;
    const headerBytes = this.queue.read(EVENT_HEADER_LENGTH);
    const header = readEventHeader(headerBytes);
    const start = this.offset;
    this.offset += EVENT_HEADER_LENGTH;
    // The FORMAT_DESCRIPTION_EVENT is read whole: it says whether there is a CRC trailer.
    const isFde = header.type === T.FORMAT_DESCRIPTION;
    const trailer = isFde || this.facts.checksum === 'none' ? 0 : CRC32_TRAILER_LENGTH;
    this.assertPlausibleSize(header, start, trailer);
    const remaining = header.size - EVENT_HEADER_LENGTH - trailer;
    this.event = {
      header,
      // A copy: the bytes may be a view of the caller's chunk, which it may reuse after push.
      headerBytes: Buffer.from(headerBytes),
      start,
      trailer,
      remaining,
      keep: isFde ? remaining : DECODED_EVENTS.has(header.type) ? Math.min(remaining, MAX_KEPT_BODY) : 0,
      kept: [],
      keptLength: 0,
      crc: trailer > 0 ? this.crc32(headerBytes, 0) : 0,
    };
    this.phase = 'body';
    return true;
  }

  private assertPlausibleSize(h: EventHeader, start: number, trailer: number): void {
    if (h.size < EVENT_HEADER_LENGTH + trailer) {
      throw corrupt(this.file, start, `event of type ${h.type} claims a size of ${h.size} bytes, less than its header`, { type: h.type, size: h.size });
    }
    const expectedNext = (start + h.size) % 2 ** 32;
    if (h.logPos !== 0 && h.logPos !== expectedNext) {
      throw corrupt(this.file, start, `event of type ${h.type} and size ${h.size} says the next event is at ${h.logPos}, not ${start + h.size}`, {
        type: h.type,
        size: h.size,
        logPos: h.logPos,
      });
    }
  }

  /** Body, then trailer, then the event is handled; false when more bytes are needed. */
  private readEventBody(): boolean {
    const e = this.event!;
    if (!this.consumeBody(e) || !this.checkTrailer(e)) return false;
    const body = e.kept.length === 1 ? e.kept[0]! : Buffer.concat(e.kept, e.keptLength);
    const bodyComplete = e.keptLength === e.header.size - EVENT_HEADER_LENGTH - e.trailer;
    e.kept = [];
    this.phase = 'header';
    this.handleEvent(e, body, bodyComplete);
    this.endPosition = this.offset;
    this.noteTimestamp(e.header.timestamp);
    return true;
  }

  private consumeBody(e: CurrentEvent): boolean {
    while (e.remaining > 0) {
      if (this.queue.length === 0) return false;
      const part = this.queue.readUpTo(e.remaining);
      e.remaining -= part.length;
      this.offset += part.length;
      if (e.trailer > 0) e.crc = this.crc32(part, e.crc);
      if (e.keptLength < e.keep) {
        const slice = part.subarray(0, e.keep - e.keptLength);
        // Copy: the chunk belongs to the caller, who may reuse it after push returns.
        e.kept.push(Buffer.from(slice));
        e.keptLength += slice.length;
      }
    }
    return true;
  }

  /** Reads and checks the CRC32 trailer, if the event has one; false when it has not arrived. */
  private checkTrailer(e: CurrentEvent): boolean {
    if (e.trailer === 0) return true;
    if (this.queue.length < e.trailer) return false;
    const stored = this.queue.read(e.trailer).readUInt32LE(0);
    this.offset += e.trailer;
    if (stored !== e.crc) throw this.crcMismatch(e, `event of type ${e.header.type}`, stored, e.crc);
    return true;
  }

  private crcMismatch(e: CurrentEvent, what: string, stored: number, computed: number): DrillError {
    return corrupt(this.file, e.start, `CRC32 mismatch in ${what} (stored ${hex32(stored)}, computed ${hex32(computed)})`, {
      type: e.header.type,
      stored: hex32(stored),
      computed: hex32(computed),
    });
  }

  private noteTimestamp(timestamp: number): void {
    if (timestamp === 0) return;
    this.facts.firstTimestamp ??= timestamp;
    this.facts.lastTimestamp = timestamp;
  }

  private postHeaderLength(type: number, fallback: number): number {
    const v = this.facts.postHeaderLengths[type - 1];
    return v === undefined || v === 0 ? fallback : v;
  }

  /** A body too short for its fields (RangeError from a decoder) is corruption at this event. */
  private handleEvent(e: CurrentEvent, body: Buffer, bodyComplete: boolean): void {
    try {
      if (!this.handleFileEvent(e, body)) this.handleTransactionEvent(e, body, bodyComplete);
    } catch (err) {
      if (err instanceof DrillError) throw err;
      if (err instanceof RangeError) {
        throw corrupt(this.file, e.start, `event of type ${e.header.type} is too short for its content (${err.message})`, { type: e.header.type });
      }
      throw err;
    }
  }

  /** Events about the file itself; false for any other event. */
  private handleFileEvent(e: CurrentEvent, body: Buffer): boolean {
    switch (e.header.type) {
      case T.FORMAT_DESCRIPTION:
        this.onFormatDescription(e, body);
        return true;
      case T.MARIADB_START_ENCRYPTION:
        throw new DrillError(
          'BadConfig',
          `Binary log ${this.file} is encrypted (MariaDB encrypt_binlog=ON, START_ENCRYPTION_EVENT at ${e.start}); restore-drill cannot read encrypted binlogs`,
          { details: { file: this.file, position: e.start } },
        );
      case T.ROTATE:
        this.facts.rotatesTo = decodeRotate(body, this.postHeaderLength(T.ROTATE, 8));
        return true;
      case T.STOP:
        this.facts.stopped = true;
        return true;
      case T.PREVIOUS_GTIDS:
        this.facts.previousGtids = decodePreviousGtids(body);
        return true;
      case T.MARIADB_GTID_LIST:
        this.facts.previousGtids = decodeGtidList(body);
        return true;
      default:
        return false;
    }
  }

  /** Events that belong to a transaction; anything else (heartbeats, checkpoints, incidents, unknown types) is skipped by size. */
  private handleTransactionEvent(e: CurrentEvent, body: Buffer, bodyComplete: boolean): void {
    const h = e.header;
    const at: EventPlace = { start: e.start, end: e.start + h.size, timestamp: h.timestamp };
    const tx = this.transactions;
    switch (h.type) {
      case T.GTID:
      case T.ANONYMOUS_GTID: {
        const g = decodeMysqlGtid(body);
        tx.onGtid(at, h.type === T.ANONYMOUS_GTID ? undefined : g.gtid, g.commitTimeMicros);
        return;
      }
      case T.GTID_TAGGED: {
        const g = decodeTaggedGtid(body);
        tx.onGtid(at, g.gtid, g.commitTimeMicros);
        return;
      }
      case T.MARIADB_GTID: {
        const g = decodeMariadbGtid(body, h.serverId);
        tx.onMariadbGtid(at, g.gtid, g.flags);
        return;
      }
      case T.QUERY:
      case T.EXECUTE_LOAD_QUERY:
        tx.onStatement(at, decodeQueryText(body, this.postHeaderLength(h.type, h.type === T.QUERY ? 13 : 26), bodyComplete));
        return;
      case T.MARIADB_QUERY_COMPRESSED:
        // zlib-compressed text (log_bin_compress=ON): not decoded. Never BEGIN/COMMIT (too short to be compressed).
        tx.onStatement(at, COMPRESSED_QUERY_PLACEHOLDER);
        return;
      case T.XID:
      case T.XA_PREPARE:
        tx.onCommit(at);
        return;
      case T.TRANSACTION_PAYLOAD:
        tx.onCompressedPayload(at);
        return;
      case T.TABLE_MAP:
        tx.onTable(at, decodeTableMap(body, this.postHeaderLength(T.TABLE_MAP, 8)));
        return;
      case T.MARIADB_ANNOTATE_ROWS:
        tx.onRowsStatement(at, decodeAnnotateRows(body, bodyComplete));
        return;
      case T.ROWS_QUERY:
        tx.onRowsStatement(at, decodeRowsQuery(body, bodyComplete));
        return;
      default:
        if (ROW_EVENTS.has(h.type)) tx.onRows(at);
        else if (STATEMENT_CONTEXT_EVENTS.has(h.type)) tx.onStatementContext(at);
    }
  }

  private onFormatDescription(e: CurrentEvent, body: Buffer): void {
    if (body.length < FORMAT_DESCRIPTION_MIN_LENGTH) throw corrupt(this.file, e.start, 'FORMAT_DESCRIPTION_EVENT is too short');
    const fde = decodeFormatDescription(body);
    if (fde.headerLength !== EVENT_HEADER_LENGTH) {
      throw corrupt(this.file, e.start, `unsupported event header length ${fde.headerLength} (only binlog format v4 is read)`);
    }
    this.facts.serverVersion = fde.serverVersion;
    this.facts.flavor = fde.flavor;
    if (this.flavor !== undefined && this.flavor !== fde.flavor) {
      throw new DrillError('VersionMismatch', `Binary log ${this.file} was written by ${fde.serverVersion} (${fde.flavor}), not by a ${this.flavor} server`, {
        details: { file: this.file, serverVersion: fde.serverVersion, expected: this.flavor },
      });
    }
    this.facts.inUse = (e.header.flags & LOG_EVENT_BINLOG_IN_USE_F) !== 0;
    if (fde.checksumAlg === ChecksumAlg.CRC32) {
      this.verifyFormatDescriptionCrc(e, body);
      this.facts.checksum = 'crc32';
    } else if (fde.checksumAlg !== undefined && fde.checksumAlg !== ChecksumAlg.OFF && fde.checksumAlg !== ChecksumAlg.UNDEF) {
      throw corrupt(this.file, e.start, `unknown binlog checksum algorithm ${fde.checksumAlg}`);
    }
    this.facts.postHeaderLengths = fde.postHeaderLengths;
  }

  /**
   * The CRC covers the event as first written, with the in-use flag clear: the server clears
   * that flag in place when it closes the file, without rewriting the CRC.
   */
  private verifyFormatDescriptionCrc(e: CurrentEvent, body: Buffer): void {
    const header = Buffer.from(e.headerBytes);
    header.writeUInt16LE(e.header.flags & ~LOG_EVENT_BINLOG_IN_USE_F, 17);
    const computed = this.crc32(body.subarray(0, body.length - CRC32_TRAILER_LENGTH), this.crc32(header, 0));
    const stored = body.readUInt32LE(body.length - CRC32_TRAILER_LENGTH);
    if (computed !== stored) throw this.crcMismatch(e, 'FORMAT_DESCRIPTION_EVENT', stored, computed);
  }
}

function corrupt(file: string, position: number, message: string, details: Record<string, unknown> = {}): DrillError {
  return new DrillError('ArtifactCorrupt', `Binary log ${file} is corrupt at position ${position}: ${message}`, {
    details: { file, position, ...details },
  });
}

function hex32(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

/** Scans a whole file held in memory. */
export function scanBinlogFile(file: string, bytes: Buffer, options: BinlogScanOptions): { transactions: BinlogTransaction[]; summary: BinlogFileSummary } {
  const scanner = new BinlogFileScanner(file, options);
  const transactions = scanner.push(bytes);
  const end = scanner.finish();
  return { transactions: [...transactions, ...end.transactions], summary: end.summary };
}
