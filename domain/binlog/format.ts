/**
 * The binlog v4 file format: magic, event header, event type codes and the flags and
 * checksum settings read from it. Layouts follow mysql-server libs/mysql/binlog/event/binlog_event.h
 * and MariaDB sql/log_event.h; https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
 *
 * A file is the magic `\xfe b i n`, then events. Every event starts with a 19-byte header
 * (timestamp u32, type u8, server_id u32, event_size u32, log_pos u32 = offset just after the
 * event, flags u16; all little-endian), then a type-specific post-header and body. When the
 * FORMAT_DESCRIPTION_EVENT says the checksum algorithm is CRC32, every event ends with a
 * 4-byte CRC32 of everything before it.
 */

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
/** Bytes of the CRC32 trailer of every event when the checksum algorithm is CRC32. */
export const CRC32_TRAILER_LENGTH = 4;

/**
 * The CRC-32 (IEEE 802.3, as zlib's `crc32()`) that checks every event, supplied by the caller
 * (Node's `zlib.crc32`): `crc32(data, previous)` continues a running checksum, 0 starts one.
 */
export type Crc32 = (data: Uint8Array, value?: number) => number;

/** Row events: their bodies are row images, never kept. */
export const ROW_EVENTS: ReadonlySet<number> = new Set<number>([
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
export const STATEMENT_CONTEXT_EVENTS: ReadonlySet<number> = new Set<number>([T.INTVAR, T.RAND, T.USER_VAR, T.BEGIN_LOAD_QUERY, T.APPEND_BLOCK]);

export interface EventHeader {
  timestamp: number;
  type: number;
  serverId: number;
  size: number;
  logPos: number;
  flags: number;
}

export function readEventHeader(b: Buffer): EventHeader {
  return {
    timestamp: b.readUInt32LE(0),
    type: b.readUInt8(4),
    serverId: b.readUInt32LE(5),
    size: b.readUInt32LE(9),
    logPos: b.readUInt32LE(13),
    flags: b.readUInt16LE(17),
  };
}
