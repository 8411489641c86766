/**
 * Table checksums and the checks built on them: the proof that a restored sandbox holds the
 * same data as its source.
 *
 * Pure module: SQL text in and rows out, no connection. The same SQL runs on MySQL 8.0+/9.x
 * and MariaDB 10.11+/11.x; two servers of the same flavor return the same `checksum` for a
 * table iff (up to a 128-bit hash collision) the table holds the same multiset of rows.
 */

import { DrillError } from '../errors';
import { quoteIdentifier } from '../sql';
import type { ColumnRow } from '../sql';
import type { CheckResult } from './results';

/** A table's size and checksum on one server, as read with {@link tableChecksumSql}. */
export interface TableState {
  db: string;
  table: string;
  rowCount: number;
  checksum: string;
  /** How `checksum` was computed; absent: 'rows' ({@link tableChecksumSql}). */
  method?: ChecksumMethod;
}

/**
 * How table contents are compared with the source:
 * - `rows` (default): a digest of every row's values as a logical dump carries them
 *   ({@link tableChecksumSql}); valid across server versions and for every column type.
 * - `server`: the server's own `CHECKSUM TABLE ... EXTENDED`, 5-10x faster, but computed over
 *   the stored row format: comparable only between servers of the same version, and only for
 *   tables whose values a logical dump reproduces bit for bit ({@link serverChecksumObstacle}).
 *   Other tables fall back to `rows`.
 */
export type ChecksumMethod = 'rows' | 'server';

/**
 * Column types whose stored form a logical dump does not reproduce exactly: FLOAT keeps only
 * 6 significant digits in a dump, and MySQL's binary JSON keeps DECIMAL scalars a reload turns
 * into DOUBLEs. Their tables are compared row by row even when `server` is asked for.
 */
const SERVER_CHECKSUM_UNSAFE_TYPES = new Set(['float', 'json']);

/**
 * Why a table cannot be compared with CHECKSUM TABLE, or undefined when it can. A MariaDB
 * system-versioned table stores when each row was written, which a restore changes.
 */
export function serverChecksumObstacle(columns: readonly ColumnInfo[], systemVersioned: boolean): string | undefined {
  if (systemVersioned) return 'system-versioned: its row start/end times change on restore';
  const unsafe = columns.filter((c) => SERVER_CHECKSUM_UNSAFE_TYPES.has(c.dataType.toLowerCase()));
  if (unsafe.length > 0) return `column ${unsafe.map((c) => `${c.name} (${c.dataType.toLowerCase()})`).join(', ')}: a logical dump does not keep its stored form`;
  return undefined;
}

/**
 * Whether two VERSION() strings name the same server build, for CHECKSUM TABLE. MariaDB appends
 * `-log` while binary logging is on (a source has it, a sandbox does not): that is not a version.
 */
export function sameServerVersion(a: string | undefined, b: string | undefined): boolean {
  const build = (v: string | undefined) => (v ?? '').trim().replace(/-log$/, '');
  return build(a) !== '' && build(a) === build(b);
}

/** The CHECKSUM TABLE form of a checksum: never equal to a `rows` digest (`a-b`). */
export function serverChecksumValue(value: string | number | null): string {
  return `server:${value === null ? 'NULL' : String(value)}`;
}

export interface ColumnInfo {
  name: string;
  /** information_schema.COLUMNS.DATA_TYPE, e.g. `varchar`, `decimal`, `json`. */
  dataType: string;
}

const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'vector']);
const SPATIAL_TYPES = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/**
 * An expression giving the bytes that represent one column value deterministically on both
 * servers (NULL stays NULL):
 * - text: its stored bytes, in its own character set (`CAST(... AS BINARY)` converts nothing);
 * - binary, BLOB, VECTOR, spatial: the stored bytes (spatial = SRID + WKB, what the dump holds);
 * - TIMESTAMP: seconds since the epoch, so the session time zone does not matter;
 * - BIT: its unsigned integer value;
 * - everything else (integers, DECIMAL, FLOAT/DOUBLE, DATE/TIME/DATETIME/YEAR, JSON, MariaDB
 *   UUID/INET6): the server's canonical text, which is what the dump tools write, so a
 *   reloaded value prints the same. MySQL prints JSON normalized (key order, spacing).
 *   DOUBLE text round-trips exactly (17 significant digits). FLOAT text has only 6
 *   significant digits on both flavors, and mysqldump/mariadb-dump write exactly that text:
 *   a logical dump really turns FLOAT 16777216 into 16777200 (verified on MySQL 9.7 and
 *   MariaDB 10.11). FLOAT is therefore compared at those 6 digits, the precision a logical
 *   backup keeps; comparing the exact binary value would fail every drill of a table with
 *   FLOAT columns for a loss no logical dump can avoid.
 */
export function columnBytesExpression(column: ColumnInfo): string {
  const col = quoteIdentifier(column.name);
  const type = column.dataType.toLowerCase();
  if (TEXT_TYPES.has(type)) return `CAST(${col} AS BINARY)`;
  if (BINARY_TYPES.has(type) || SPATIAL_TYPES.has(type)) return col;
  if (type === 'timestamp') return `UNIX_TIMESTAMP(${col})`;
  if (type === 'bit') return `CAST(${col} AS UNSIGNED)`;
  // MySQL JSON keeps DECIMAL scalars (96.90) that a logical dump turns into DOUBLEs (96.9):
  // the same JSON value, another binary type. Hash the value as its text re-parsed, which is
  // what the dump carries, so only a real change of value counts.
  if (type === 'json') return `CAST(CAST(CAST(${col} AS CHAR CHARACTER SET utf8mb4) AS JSON) AS CHAR CHARACTER SET utf8mb4)`;
  return `CAST(${col} AS CHAR CHARACTER SET utf8mb4)`;
}

/**
 * One SELECT returning `row_count` and `checksum` for a table.
 *
 * Each row hashes to SHA-256 over the per-column SHA-256s joined by `,` with `N` for NULL, so NULL
 * differs from '' and column boundaries matter (fixed-width digests cannot run into each
 * other), and a huge BLOB is digested in place instead of being copied into a hex string
 * (string results over max_allowed_packet become NULL). The table checksum is the pair of
 * exact DECIMAL sums of the two 64-bit halves of the row digests: independent of row order
 * (no ORDER BY, no sort) and, unlike BIT_XOR, duplicate rows do not cancel out.
 *
 * Nothing here depends on the session's time zone, character set or SQL mode.
 */
export function tableChecksumSql(db: string, table: string, columns: readonly ColumnInfo[]): string {
  if (columns.length === 0) {
    throw new DrillError('BadConfig', `No columns given for table ${db}.${table}; cannot checksum it.`, {
      details: { db, table },
    });
  }
  // SHA2, not MD5: MySQL 9.7 no longer has MD5() (it resolves to a stored function and fails).
  const parts = columns.map((c) => `IFNULL(SHA2(${columnBytesExpression(c)}, 256), 'N')`);
  const rowDigest = `SHA2(CONCAT_WS(',', ${parts.join(', ')}), 256)`;
  const half = (from: number): string =>
    `COALESCE(SUM(CAST(CONV(SUBSTRING(rd_h, ${from}, 16), 16, 10) AS UNSIGNED)), 0)`;
  return (
    `SELECT COUNT(*) AS row_count, CONCAT(${half(1)}, '-', ${half(17)}) AS checksum ` +
    `FROM (SELECT ${rowDigest} AS rd_h FROM ${quoteIdentifier(db)}.${quoteIdentifier(table)}) AS rd_rows`
  );
}

export interface TableColumns {
  db: string;
  table: string;
  columns: ColumnInfo[];
}

/**
 * Groups COLUMNS_SQL rows by table, keeping column order. The ROW START / ROW END columns of a
 * MariaDB system-versioned table are left out: they hold when each row was written, which a
 * restore changes (implicit ones are not listed by information_schema anyway).
 */
export function groupColumns(rows: readonly (Pick<ColumnRow, 'db' | 'table_name' | 'column_name' | 'data_type'> & { generation?: string })[]): TableColumns[] {
  const byKey = new Map<string, TableColumns>();
  for (const r of rows) {
    if (r.generation === 'ROW START' || r.generation === 'ROW END') continue;
    const key = tableKey(r.db, r.table_name);
    let t = byKey.get(key);
    if (t === undefined) {
      t = { db: r.db, table: r.table_name, columns: [] };
      byKey.set(key, t);
    }
    t.columns.push({ name: r.column_name, dataType: r.data_type });
  }
  return [...byKey.values()];
}

/** One key per table, for maps of tables (a NUL cannot occur in a name: `db.table` could). */
export function tableKey(db: string, table: string): string {
  return `${db}\u0000${table}`;
}

/** `db.table` for messages. */
export function displayTable(db: string, table: string): string {
  return `${db}.${table}`;
}

function indexStates(states: readonly TableState[], side: string): Map<string, TableState> {
  const map = new Map<string, TableState>();
  for (const s of states) {
    const key = tableKey(s.db, s.table);
    if (map.has(key)) {
      throw new DrillError('BadConfig', `Table ${displayTable(s.db, s.table)} appears twice in the ${side} state.`, {
        details: { db: s.db, table: s.table },
      });
    }
    map.set(key, s);
  }
  return map;
}

/**
 * Compares per-table states of the source (at the backup or target point) and the restored
 * sandbox. Every table yields a `row-count` and a `checksum` check; a table on one side only
 * yields one failed `presence` check. Results are sorted by database, then table.
 * Names are compared exactly (case-sensitive), as on a Linux server with lower_case_table_names=0.
 */
export function compareTableStates(source: readonly TableState[], restored: readonly TableState[]): CheckResult[] {
  const src = indexStates(source, 'source');
  const dst = indexStates(restored, 'restored');
  const keys = [...new Set([...src.keys(), ...dst.keys()])].sort();
  const results: CheckResult[] = [];
  for (const key of keys) {
    const s = src.get(key);
    const d = dst.get(key);
    const any = (s ?? d) as TableState;
    const target = displayTable(any.db, any.table);
    if (s === undefined || d === undefined) {
      results.push({
        name: `presence:${target}`,
        kind: 'presence',
        target,
        passed: false,
        expected: s === undefined ? 'absent' : 'present',
        actual: d === undefined ? 'absent' : 'present',
        message:
          s === undefined
            ? `Table ${target} exists in the restored sandbox but not on the source: the backup or replay created a table the source does not have.`
            : `Table ${target} exists on the source but not in the restored sandbox: the backup or the restore lost it.`,
      });
      continue;
    }
    const countOk = s.rowCount === d.rowCount;
    results.push({
      name: `row-count:${target}`,
      kind: 'row-count',
      target,
      passed: countOk,
      expected: String(s.rowCount),
      actual: String(d.rowCount),
      ...(countOk
        ? {}
        : {
            message: `Table ${target} has ${d.rowCount} rows restored but ${s.rowCount} on the source (${d.rowCount > s.rowCount ? '+' : ''}${d.rowCount - s.rowCount}).`,
          }),
    });
    const sumOk = s.checksum === d.checksum;
    results.push({
      name: `checksum:${target}`,
      kind: 'checksum',
      target,
      passed: sumOk,
      expected: s.checksum,
      actual: d.checksum,
      ...(sumOk
        ? {}
        : {
            message: `Table ${target} restored with different contents: at least one row differs from the source${countOk ? ' although the row counts match' : ''}.`,
          }),
    });
  }
  return results;
}

export interface CheckTableRow {
  Table: string;
  Op: string;
  Msg_type: string;
  Msg_text: string;
}

/** Final `status` texts that mean the table is sound. */
const STATUS_OK = new Set(['ok', 'table is already up to date']);

/**
 * Interprets `CHECK TABLE t1, t2, ...` output: one `check-table` result per table, in the
 * order tables first appear.
 * - `error` rows fail the table (corruption, missing table, "Table upgrade required").
 * - the `status` row must be `OK` (or `Table is already up to date`); anything else
 *   (`Corrupt`, `Operation failed`) fails the table.
 * - `warning` rows do not fail by themselves (InnoDB follows real corruption with an error or
 *   a non-OK status) but are reported in the message.
 * - `note`/`info` rows are informational. A table with only a note (an engine that cannot
 *   check, e.g. "The storage engine for the table doesn't support check") passes, with the
 *   note as its message: it was not proven corrupt, nor proven sound.
 */
export function checkTableResult(rows: readonly CheckTableRow[]): CheckResult[] {
  const byTable = new Map<string, CheckTableRow[]>();
  for (const r of rows) {
    const list = byTable.get(r.Table);
    if (list === undefined) byTable.set(r.Table, [r]);
    else list.push(r);
  }
  const results: CheckResult[] = [];
  for (const [table, list] of byTable) {
    const type = (r: CheckTableRow): string => r.Msg_type.toLowerCase();
    const errors = list.filter((r) => type(r) === 'error').map((r) => r.Msg_text);
    const warnings = list.filter((r) => type(r) === 'warning').map((r) => r.Msg_text);
    const notes = list.filter((r) => type(r) === 'note' || type(r) === 'info').map((r) => r.Msg_text);
    const statuses = list.filter((r) => type(r) === 'status').map((r) => r.Msg_text);
    const badStatus = statuses.filter((s) => !STATUS_OK.has(s.trim().toLowerCase()));
    const passed = errors.length === 0 && badStatus.length === 0;
    const actual = passed
      ? (statuses[statuses.length - 1] ?? (notes.length > 0 ? 'not checked' : 'no status'))
      : [...errors, ...badStatus].join('; ');
    const message = passed
      ? [...warnings.map((w) => `warning: ${w}`), ...notes.map((n) => `note: ${n}`)].join('; ')
      : `CHECK TABLE ${table} reports a problem: ${[...errors, ...badStatus, ...warnings].join('; ')}`;
    results.push({
      name: `check-table:${table}`,
      kind: 'check-table',
      target: table,
      passed,
      expected: 'OK',
      actual,
      ...(message === '' ? {} : { message }),
    });
  }
  return results;
}

