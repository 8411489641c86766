/**
 * What a binlog scan yields (./scanner.ts): the transactions of a file, and how the file
 * begins and ends. Pure types, importable anywhere.
 */

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
