/**
 * Turns a file's events, in order, into transactions: where each starts and ends, its GTID,
 * time, statements, tables and kind. The scanner decodes the events and calls one method per
 * event; completed transactions are collected until taken.
 */

import type { BinlogTransaction } from './events';
import { MariadbGtidFlags } from './format';
import { classifyStatement } from './statements';

/** Where an event sits in its file, and its header time. */
export interface EventPlace {
  /** Offset of the event's first byte. */
  start: number;
  /** Offset just after the event. */
  end: number;
  /** Header timestamp, seconds since the epoch. */
  timestamp: number;
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

export class TransactionAssembler {
  private tx: OpenTransaction | undefined;
  private done: BinlogTransaction[] = [];

  constructor(private readonly file: string) {}

  /** Transactions completed since the last call. */
  take(): BinlogTransaction[] {
    const done = this.done;
    this.done = [];
    return done;
  }

  /** Offset of a transaction whose start has been seen but whose commit has not. */
  get openStart(): number | undefined {
    return this.tx?.start;
  }

  /** MySQL GTID / ANONYMOUS_GTID / GTID_TAGGED: the first event of a transaction. */
  onGtid(at: EventPlace, gtid: string | undefined, commitTimeMicros: number | undefined): void {
    this.open(at, gtid, commitTimeMicros);
  }

  /**
   * MariaDB GTID: it *is* the BEGIN of its event group (no BEGIN query follows) unless
   * FL_STANDALONE says the group is one statement without COMMIT.
   */
  onMariadbGtid(at: EventPlace, gtid: string, flags: number): void {
    const tx = this.open(at, gtid, undefined);
    if (flags & MariadbGtidFlags.DDL) tx.hasDdl = true;
    tx.begun = (flags & MariadbGtidFlags.STANDALONE) === 0;
  }

  /** The text of a QUERY event (or a stand-in for one whose text is not decoded). */
  onStatement(at: EventPlace, text: string): void {
    const cls = classifyStatement(text);
    if (cls === 'begin') {
      this.ensureOpen(at).begun = true;
      return;
    }
    if (cls === 'commit' || cls === 'rollback') {
      if (this.tx !== undefined) this.close(at.end);
      return;
    }
    if (cls === 'xa-end') return;
    const tx = this.ensureOpen(at);
    this.addStatement(tx, text);
    if (cls === 'ddl') tx.hasDdl = true;
    // A statement outside BEGIN … COMMIT is a transaction by itself: DDL after its GTID event
    // (MySQL; MariaDB FL_STANDALONE), XA COMMIT/ROLLBACK, or anything in a GTID-less binlog.
    if (!tx.begun) this.close(at.end);
  }

  /** XID or XA_PREPARE: the commit of the open transaction. */
  onCommit(at: EventPlace): void {
    if (this.tx !== undefined) this.close(at.end);
  }

  /**
   * MySQL TRANSACTION_PAYLOAD (binlog_transaction_compression=ON): the whole transaction after
   * its GTID event is one zstd-compressed payload, not decoded, so its tables and statements
   * stay unknown; only row-format DML is ever compressed.
   * https://dev.mysql.com/doc/refman/8.4/en/binary-log-transaction-compression.html
   */
  onCompressedPayload(at: EventPlace): void {
    this.ensureOpen(at).hasRows = true;
    this.close(at.end);
  }

  /** TABLE_MAP: `db.table` a row event of the transaction changes. */
  onTable(at: EventPlace, name: string): void {
    const tx = this.ensureOpen(at);
    if (!tx.tableSet.has(name)) {
      tx.tableSet.add(name);
      tx.tables.push(name);
    }
  }

  /** MariaDB ANNOTATE_ROWS / MySQL ROWS_QUERY: the statement behind the row events. */
  onRowsStatement(at: EventPlace, text: string): void {
    this.addStatement(this.ensureOpen(at), text);
  }

  onRows(at: EventPlace): void {
    this.ensureOpen(at).hasRows = true;
  }

  /** INTVAR, RAND, USER_VAR, LOAD blocks: context of the statement that follows. */
  onStatementContext(at: EventPlace): void {
    this.ensureOpen(at);
  }

  private addStatement(tx: OpenTransaction, text: string): void {
    tx.statements.push(text);
    if (classifyStatement(text) === 'dml') tx.hasDml = true;
  }

  private open(at: EventPlace, gtid: string | undefined, commitTimeMicros: number | undefined): OpenTransaction {
    // A GTID event while a transaction is open means the open one never committed (it was
    // cut off); it is dropped, as a replay would drop it.
    const tx: OpenTransaction = {
      start: at.start,
      timestamp: at.timestamp,
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

  private ensureOpen(at: EventPlace): OpenTransaction {
    return this.tx ?? this.open(at, undefined, undefined);
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
    this.done.push(t);
  }
}
