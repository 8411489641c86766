/**
 * Facts about logical dumps written by mysqldump (MySQL 8.0.26+, 9.x) and mariadb-dump
 * (MariaDB 10.11, 11.x): what their head says about where the backup starts, how a complete
 * dump ends, and how to ask the tools for a dump a drill can restore and roll forward from.
 *
 * Pure module: string in, data out. Callers stream the artifact and keep only its first
 * {@link DUMP_HEAD_BYTES} and last {@link DUMP_TAIL_BYTES}.
 *
 * Formats (checked against real output of mysqldump 9.7 and mariadb-dump 10.11 and 11.8, see
 * test/fixtures/dumps/):
 *   client/mysqldump.cc  https://github.com/mysql/mysql-server/blob/trunk/client/mysqldump.cc
 *   client/mysqldump.c   https://github.com/MariaDB/server/blob/11.4/client/mysqldump.c
 */

import { DrillError, DrillErrorTypes } from '../errors';
import type { BinlogCoordinates, Flavor } from '../types';

/**
 * How much of a dump's beginning callers keep. The preamble (version lines, SET statements,
 * GTID_PURGED, the CHANGE ... TO comment) is a few KiB, but a GTID_PURGED set of a server
 * that has had many primaries can be long: 64 KiB leaves ample room.
 */
export const DUMP_HEAD_BYTES = 64 * 1024;

/**
 * How much of a dump's end callers keep: ~1 KiB of SET statements and the trailer, plus, for
 * mariadb-dump --gtid, the deferred `gtid_slave_pos` comment (one entry per replication
 * domain). 16 KiB leaves room for many domains.
 */
export const DUMP_TAIL_BYTES = 16 * 1024;

/**
 * Read and gunzip chunk size for a dump: with Node's 16 KiB default a full read of a 1 GB dump
 * took four times as long as with 1 MiB chunks.
 */
export const DUMP_STREAM_CHUNK_BYTES = 1024 * 1024;

export interface DumpHead {
  /** Binlog position the dump is consistent with (from `--source-data=2` / `--master-data=2`). */
  coordinates?: BinlogCoordinates;
  /**
   * GTID set the dump includes: MySQL `uuid:1-n,...`, MariaDB `domain-server-seq,...`.
   * mariadb-dump 10.11+ prints its GTID position at the END of the dump: use
   * {@link parseDumpTail} or {@link parseDump} for MariaDB.
   */
  gtidSet?: string;
  /** Version of the server dumped, e.g. `9.7.4` or `10.11.11-MariaDB-0+deb12u1`. */
  serverVersion?: string;
  /** Version of the server the dump tool came with, e.g. `9.7.4` or `10.11.11-MariaDB`. */
  toolVersion?: string;
}

/**
 * Lines that open the per-database part of a dump. Binlog coordinates and MySQL's GTID state
 * are always printed before them, so parsing stops here: table data can never be mistaken for
 * a CHANGE MASTER comment. (MariaDB's GTID position comes after the tables: parseDumpTail.)
 */
const BODY_START = /^(?:-- (?:Current Database:|Table structure for table|Dumping data for table|Dumping routines|Dumping events)|CREATE |USE |INSERT |DROP |LOCK TABLES )/m;

/** `-- MySQL dump 10.13  Distrib 9.7.4, for Linux (x86_64)`; `-- MariaDB dump 10.19  Distrib 10.11.11-MariaDB, for ...`. */
const TOOL_DISTRIB = /^-- (?:MySQL|MariaDB) dump \S+\s+Distrib (\S+?),/m;
/** MariaDB 11.x: `-- MariaDB dump 10.20-11.8.9-MariaDB, for debian-linux-gnu (x86_64)` (test/fixtures/dumps). */
const TOOL_DASHED = /^-- MariaDB dump \d+\.\d+-(\S+?),/m;
/**
 * `-- Server version\t9.7.4` (a tab in real dumps; spaces tolerated), to the end of the line:
 * Debian's MariaDB 11.8 says `11.8.9-MariaDB-0+deb13u1 from Debian-log`, the whole of VERSION().
 */
const SERVER_VERSION = /^-- Server version[ \t]+(\S[^\n]*?)[ \t]*$/m;

/**
 * `CHANGE MASTER TO MASTER_LOG_FILE='f', MASTER_LOG_POS=n;` (MariaDB, MySQL < 8.0.23),
 * `CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='f', SOURCE_LOG_POS=n;` (MySQL 8.0.23+, 9.x),
 * commented out (`-- `, from `=2`) or not (`=1`); MariaDB may name a connection: `CHANGE MASTER '' TO`.
 */
const COORDINATES =
  /^(?:-- )?CHANGE (?:MASTER(?: '(?:[^'\\]|\\.)*')?|REPLICATION SOURCE) TO (?:MASTER|SOURCE)_LOG_FILE='((?:[^'\\]|\\.)*)',\s*(?:MASTER|SOURCE)_LOG_POS=(\d+)/m;

/**
 * `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*\/ 'uuid:1-5,\nuuid2:1-3';` (MySQL 8+; the set may
 * span lines), `SET @@GLOBAL.GTID_PURGED='...';` (5.7), and the `--set-gtid-purged=COMMENTED`
 * form `/* SET @@GLOBAL.GTID_PURGED='+uuid:1-5,\nuuid2:1-3';*\/` (9.7).
 */
const MYSQL_GTID_PURGED = /SET @@GLOBAL\.GTID_PURGED\s*=\s*(?:\/\*!\d+\s*'\+'\s*\*\/\s*)?'([^']*)'/i;

/**
 * MariaDB `--gtid`: `-- SET GLOBAL gtid_slave_pos='0-1-5';`. mariadb-dump 10.11 with
 * `--master-data=2 --gtid` prints it after all tables ("The deferred gtid setting for slave
 * corresponding to the master-data CHANGE-MASTER follows"); older versions printed it in the
 * head under `-- GTID to start replication from`.
 */
const MARIADB_GTID_POS = /^(?:-- )?SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'/im;

/** Everything before the first database-specific line of a dump. */
function preamble(head: string): string {
  const m = BODY_START.exec(head);
  return m === null ? head : head.slice(0, m.index);
}

function unescapeSqlString(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/**
 * Reads where a logical dump starts from its first {@link DUMP_HEAD_BYTES}.
 * Fields the dump does not carry (dumped without `--source-data`, without GTIDs, or with
 * `--skip-comments`) are absent; nothing here throws.
 */
export function parseDumpHead(head: string, flavor: Flavor): DumpHead {
  const text = preamble(head.replace(/\r\n/g, '\n'));
  const out: DumpHead = {};

  const tool = TOOL_DISTRIB.exec(text) ?? TOOL_DASHED.exec(text);
  if (tool) out.toolVersion = tool[1];
  const server = SERVER_VERSION.exec(text);
  if (server) out.serverVersion = server[1];

  const coords = COORDINATES.exec(text);
  if (coords) {
    out.coordinates = { file: unescapeSqlString(coords[1] as string), position: Number(coords[2]) };
  }

  const gtid = flavor === 'mysql' ? MYSQL_GTID_PURGED.exec(text) : MARIADB_GTID_POS.exec(text);
  if (gtid) {
    // MySQL prints gtid_executed with ",\n" between server UUIDs; the set itself has no spaces.
    // The COMMENTED form puts the "add to" '+' inside the quotes: it is not part of the set.
    const set = (gtid[1] as string).replace(/\s+/g, '').replace(/^\+/, '');
    if (set !== '') out.gtidSet = set;
  }
  return out;
}

/**
 * Reads what a dump records at its end from its last {@link DUMP_TAIL_BYTES}: the MariaDB
 * GTID position that mariadb-dump 10.11+ defers there. MySQL dumps carry nothing here.
 */
export function parseDumpTail(tail: string, flavor: Flavor): Pick<DumpHead, 'gtidSet'> {
  if (flavor !== 'mariadb') return {};
  const text = tail.replace(/\r\n/g, '\n');
  // The last match: the tail may start in table data, but the deferred comment comes last.
  const all = [...text.matchAll(new RegExp(MARIADB_GTID_POS.source, 'gim'))];
  const last = all[all.length - 1];
  const set = last === undefined ? '' : (last[1] as string).replace(/\s+/g, '');
  return set === '' ? {} : { gtidSet: set };
}

/** {@link parseDumpHead} completed with {@link parseDumpTail}: everything a dump says about where it starts. */
export function parseDump(head: string, tail: string, flavor: Flavor): DumpHead {
  const out = parseDumpHead(head, flavor);
  if (out.gtidSet === undefined) {
    const fromTail = parseDumpTail(tail, flavor);
    if (fromTail.gtidSet !== undefined) out.gtidSet = fromTail.gtidSet;
  }
  return out;
}

/** Last line of every complete dump: `-- Dump completed on 2026-11-21 18:30:05`, or bare with `--skip-dump-date`. */
const TRAILER = /^-- Dump completed(?: on \d{4}-\d{2}-\d{2} +\d{1,2}:\d{2}:\d{2})?$/;

/**
 * Throws DumpTruncated unless the dump's last non-blank line is its `-- Dump completed` line.
 * mysqldump and mariadb-dump print it only after every table was written; a dumper killed
 * part-way (the OOM killer, a lost connection, a full disk) leaves a file that restores
 * cleanly yet silently lacks tables or rows.
 */
export function checkDumpTrailer(tail: string): void {
  const lines = tail.replace(/\r/g, '').split('\n');
  let last = '';
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (line !== '') {
      last = line;
      break;
    }
  }
  if (!TRAILER.test(last)) {
    throw new DrillError(
      'DumpTruncated',
      'The dump does not end with its "-- Dump completed" line, so the dump tool stopped before ' +
        'writing every table (killed by the OOM killer, lost its connection, or ran out of disk). ' +
        'Restoring it would silently lose data. Check the dump tool\'s exit status and stderr and ' +
        'the host\'s kernel log for OOM kills, fix the cause, and take a new backup.',
      { details: { lastLine: last.slice(0, 200) } },
    );
  }
}

/**
 * The last `max` bytes of a stream read so far, given what was kept before and the next chunk.
 * Never holds on to a large chunk (a slice of it would keep the whole buffer alive).
 */
export function keepDumpTail(kept: Buffer, chunk: Buffer, max = DUMP_TAIL_BYTES): Buffer {
  if (chunk.length >= max) return Buffer.from(chunk.subarray(chunk.length - max));
  if (kept.length + chunk.length <= max) return Buffer.concat([kept, chunk]);
  return Buffer.concat([kept.subarray(kept.length + chunk.length - max), chunk]);
}

/**
 * {@link checkDumpTrailer} for a restore that has read `dumpFile` to its end: a DumpTruncated
 * naming the file when the trailer is missing (the type verifyBackup gives the same dump),
 * undefined when the dump is complete.
 */
export function incompleteDumpError(dumpFile: string, tail: string): DrillError | undefined {
  try {
    checkDumpTrailer(tail);
    return undefined;
  } catch (err) {
    return new DrillError(
      DrillErrorTypes.DumpTruncated,
      `the dump ${dumpFile} is incomplete: it does not end with its "-- Dump completed" trailer, so the dump tool ` +
        'stopped before writing every table (killed by the OOM killer, lost its connection, or ran out of disk) ' +
        'even though its gzip stream is valid. Nothing after the cut was restored; the backup must be taken again.',
      { details: { dumpFile, ...(err as DrillError).details }, cause: err },
    );
  }
}

/** Schemas that belong to the server itself and are never dumped into a sandbox. */
export const SYSTEM_SCHEMAS: readonly string[] = [
  'mysql',
  'sys',
  'information_schema',
  'performance_schema',
];

/**
 * The user databases of a server, to expand `databases: 'all'` before calling
 * {@link mysqldumpArgs}. Returns one column `name`. Runs on MySQL and MariaDB.
 */
export const USER_DATABASES_SQL =
  'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ' +
  "WHERE SCHEMA_NAME NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema') " +
  'ORDER BY SCHEMA_NAME';

export interface MysqldumpOptions {
  flavor: Flavor;
  /**
   * Databases to dump. `'all'` is rejected: expand it with {@link USER_DATABASES_SQL} first,
   * because `--all-databases` also dumps the `mysql` system schema, and loading one server
   * version's system tables into another version's sandbox breaks it.
   */
  databases: string[] | 'all';
  /** Path of an option file written with {@link optionFileContents}; holds the credentials. */
  optionFile: string;
  socket?: string;
  host?: string;
  port?: number;
  /**
   * The source runs with GTIDs (MySQL `gtid_mode=ON`; MariaDB always has GTIDs when it has
   * a binlog). On MySQL pass `true` only when `gtid_mode=ON`: against a server with GTIDs off,
   * mysqldump 9.7 with `--set-gtid-purged=ON` prints "Error: Server has GTIDs disabled.",
   * writes only the dump header and EXITS 0 (verified) — {@link checkDumpTrailer} catches it.
   */
  gtid: boolean;
}

/**
 * Arguments (without the program name) for a consistent, restorable logical backup.
 * Credentials come from the option file only, never from the command line, where any
 * user of the host can read them in `ps`.
 *
 * Throws BadConfig for `'all'`, an empty list, system schemas, names that would be read as
 * options, or both a socket and a host.
 */
export function mysqldumpArgs(opts: MysqldumpOptions): string[] {
  const { flavor, databases } = opts;
  if (databases === 'all') {
    throw new DrillError(
      'BadConfig',
      "databases: 'all' must be expanded before building dump arguments: run USER_DATABASES_SQL " +
        'on the source and pass the names, so the mysql system schema is left out.',
    );
  }
  if (databases.length === 0) {
    throw new DrillError('BadConfig', 'No databases to dump: the source has no user databases or the list is empty.');
  }
  for (const db of databases) {
    if (SYSTEM_SCHEMAS.includes(db.toLowerCase())) {
      throw new DrillError(
        'BadConfig',
        `Database ${JSON.stringify(db)} is a system schema; restore-drill dumps user databases only ` +
          '(system tables of one server version break a sandbox of another).',
        { details: { database: db } },
      );
    }
    if (db === '' || db.startsWith('-')) {
      throw new DrillError('BadConfig', `Database name ${JSON.stringify(db)} cannot be passed to the dump tool.`, {
        details: { database: db },
      });
    }
  }
  if (opts.socket !== undefined && opts.host !== undefined) {
    throw new DrillError('BadConfig', 'Give either a socket or a host for the dump connection, not both.');
  }

  // --defaults-extra-file must be the first argument or the tools ignore it.
  // https://dev.mysql.com/doc/refman/9.4/en/option-file-options.html
  const args = [`--defaults-extra-file=${opts.optionFile}`];

  if (opts.socket !== undefined) args.push('--protocol=SOCKET', `--socket=${opts.socket}`);
  if (opts.host !== undefined) args.push('--protocol=TCP', `--host=${opts.host}`);
  if (opts.port !== undefined) args.push(`--port=${opts.port}`);

  args.push(
    // One REPEATABLE READ snapshot for the whole dump: consistent InnoDB data without
    // locking writers. https://dev.mysql.com/doc/refman/9.4/en/mysqldump.html#option_mysqldump_single-transaction
    '--single-transaction',
    // Stream rows instead of buffering each table in the dumper's memory.
    // https://mariadb.com/kb/en/mariadb-dump/#options
    '--quick',
  );

  if (flavor === 'mysql') {
    args.push(
      // The binlog position matching the snapshot, as a comment: where replay starts.
      // --master-data is deprecated since 8.0.26. https://dev.mysql.com/doc/refman/9.4/en/mysqldump.html#option_mysqldump_source-data
      '--source-data=2',
      // ON, not COMMENTED: the restore sets GTID_PURGED in the sandbox, so its gtid_executed
      // equals the source's at the snapshot. Replayed binlog transactions then apply with
      // their own GTIDs, anything already in the dump is skipped instead of applied twice,
      // and gtid_executed after replay can be compared with the source's. The dump also sets
      // sql_log_bin=0 so the restore is not re-logged in the sandbox.
      // https://dev.mysql.com/doc/refman/9.4/en/mysqldump.html#option_mysqldump_set-gtid-purged
      `--set-gtid-purged=${opts.gtid ? 'ON' : 'OFF'}`,
    );
  } else {
    args.push(
      // MariaDB's name for the same thing. https://mariadb.com/kb/en/mariadb-dump/#options
      '--master-data=2',
    );
    // Adds `-- SET GLOBAL gtid_slave_pos='...'`, the GTID position matching the snapshot
    // (printed at the end of the dump by 10.11+: see parseDumpTail).
    if (opts.gtid) args.push('--gtid');
  }

  args.push(
    // Stored programs are not dumped by default; a restore without them is not the database.
    '--routines',
    '--triggers',
    '--events',
    // BLOB/BINARY values as 0x... literals: byte-exact whatever the client character set.
    '--hex-blob',
    // Text in utf8mb4 so 4-byte characters (emoji) survive.
    '--default-character-set=utf8mb4',
    // Tablespace info needs the PROCESS privilege (MySQL 8.0.21+) and is not needed for
    // InnoDB file-per-table restores. https://dev.mysql.com/doc/refman/9.4/en/mysqldump.html#option_mysqldump_no-tablespaces
    '--no-tablespaces',
    // The dumper must hold the largest row; the server caps it anyway.
    '--max-allowed-packet=1G',
    // The dump date is kept (no --skip-dump-date): the trailer then records when the dump
    // finished. checkDumpTrailer accepts both forms.
    '--databases',
    ...databases,
  );
  return args;
}

export interface OptionFileCredentials {
  user: string;
  password: string;
  socket?: string;
  host?: string;
  port?: number;
}

/**
 * Quotes an option-file value: double quotes, with `\` `"` and control characters escaped
 * the way mysys' option-file reader undoes them (`\\`, `\"`, `\n`, `\r`, `\t`, `\b`).
 * Inside quotes `#` and `;` are literal and leading/trailing spaces are kept.
 * https://dev.mysql.com/doc/refman/9.4/en/option-files.html
 */
export function quoteOptionValue(value: string): string {
  if (value.includes('\u0000')) {
    throw new DrillError('BadConfig', 'An option-file value cannot contain a NUL character.');
  }
  const escaped = value.replace(/[\\"\n\r\t\b]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\b':
        return '\\b';
      default:
        return '\\' + c;
    }
  });
  return `"${escaped}"`;
}

/**
 * A `[client]` option file for `--defaults-extra-file`, so secrets never appear in process
 * arguments. The caller must write it mode 0600 (the tools ignore world-writable option
 * files) and delete it after use.
 */
export function optionFileContents(creds: OptionFileCredentials): string {
  const lines = ['[client]', `user=${quoteOptionValue(creds.user)}`, `password=${quoteOptionValue(creds.password)}`];
  if (creds.socket !== undefined) lines.push(`socket=${quoteOptionValue(creds.socket)}`);
  if (creds.host !== undefined) lines.push(`host=${quoteOptionValue(creds.host)}`);
  if (creds.port !== undefined) {
    if (!Number.isInteger(creds.port) || creds.port < 1 || creds.port > 65535) {
      throw new DrillError('BadConfig', `Port ${creds.port} is not a TCP port.`, { details: { port: creds.port } });
    }
    lines.push(`port=${creds.port}`);
  }
  return lines.join('\n') + '\n';
}
