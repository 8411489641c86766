/**
 * Cuts a mysqldump/mariadb-dump file into pieces for the parallel restore. The dump is one
 * ordered stream, but its bulk is independent extended INSERTs; cut into three kinds of work:
 *   ddl    the preamble (GTID_PURGED), CREATE DATABASE/TABLE, view placeholders: in dump order
 *   chunk  INSERTs of one table, a few MB each: any order, several sessions at once, each
 *          chunk after its table's DDL
 *   post   triggers, routines, events, final views, the GTID tail and the trailer: in dump
 *          order, after all data (as the dump itself creates triggers after the rows)
 * Every piece starts with the dump's own session settings (UNIQUE_CHECKS=0,
 * FOREIGN_KEY_CHECKS=0, SQL_MODE, TIME_ZONE, NAMES) and a USE of its database.
 * Pure: bytes in, pieces out; lines are kept as bytes (text columns are not always UTF-8).
 */

export type DumpPieceKind = 'ddl' | 'chunk' | 'post';

export interface DumpPiece {
  kind: DumpPieceKind;
  /** The table a chunk belongs to (`db`.`table`), for progress and ordering. */
  table?: string;
  sql: Buffer;
}

type State = 'ddl' | 'data' | 'post';

const NL = Buffer.from('\n');

/** Starts of lines that open a section of the dump, and what it becomes. */
const SECTION_MARKERS: [string, State][] = [
  ['-- Table structure for table', 'ddl'],
  ['-- Current Database:', 'ddl'],
  ['-- Temporary view structure for view', 'ddl'],
  ['-- Temporary table structure for view', 'ddl'],
  // After every table: final views, stored programs, and the trailer that restores session state.
  ['-- Final view structure for view', 'post'],
  ['-- Dumping routines for database', 'post'],
  ['-- Dumping events for database', 'post'],
  ['-- The deferred gtid setting', 'post'],
  ['SET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;', 'post'],
  ['/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;', 'post'],
];

/**
 * mariadb-dump 11.x wraps each table's rows in a transaction (`--no-autocommit`, on by default
 * since 11.3): `SET @OLD_AUTOCOMMIT=@@AUTOCOMMIT, @@AUTOCOMMIT=0;` before LOCK TABLES, then
 * `COMMIT;` and `SET AUTOCOMMIT=@OLD_AUTOCOMMIT;` after UNLOCK TABLES. Split, the first would
 * land in a schema piece and the last in the post piece, whose session never saved the value
 * ("Variable 'autocommit' can't be set to the value of 'NULL'"). The loader commits each
 * chunk in its own session, so the wrapper is left out.
 */
const AUTOCOMMIT_WRAPPER = ['SET @OLD_AUTOCOMMIT=@@AUTOCOMMIT, @@AUTOCOMMIT=0;', 'SET AUTOCOMMIT=@OLD_AUTOCOMMIT;'];

function isAutocommitWrapper(line: Buffer, afterUnlock: boolean): boolean {
  if (line.length > 60) return false;
  const text = line.toString('latin1').trimEnd();
  return AUTOCOMMIT_WRAPPER.includes(text) || (afterUnlock && text === 'COMMIT;');
}

function startsWith(line: Buffer, prefix: string): boolean {
  return hasAt(line, 0, prefix);
}

/** A preamble line that sets session state every piece needs (not GLOBAL: GTID_PURGED runs once). */
export function isSessionSetting(line: Buffer): boolean {
  const text = line.toString('latin1', 0, Math.min(line.length, 200));
  // `/*M!100616 SET @OLD_NOTE_VERBOSITY=… */` (mariadb-dump 11.x): MariaDB's versioned comment;
  // the trailer restores it, so every piece must have saved it.
  if (/^\/\*M?!\d+ SET /.test(text)) return !/@@GLOBAL/i.test(text);
  // MariaDB 10.11.8+ dumps start with a sandbox-mode marker; the client wants it first.
  if (text.startsWith('/*M!999999\\- enable the sandbox mode */')) return true;
  // MySQL: saved and restored by the trailer, which runs in the post piece's own session.
  return /^SET @MYSQLDUMP_TEMP_LOG_BIN\s*=/.test(text) || /^SET @@SESSION\.SQL_LOG_BIN\s*=\s*0;/i.test(text);
}

/** A line that ends a statement: its last non-blank byte is `;` (newlines inside values are escaped). */
function endsStatement(line: Buffer): boolean {
  return endsStatementAt(line, 0, line.length);
}

function useStatement(db: string): Buffer {
  return Buffer.from(`USE \`${db.replace(/`/g, '``')}\`;\n`);
}

/** `USE `db`;` → db. */
function parseUse(line: Buffer): string | undefined {
  if (!startsWith(line, 'USE `')) return undefined;
  const m = /^USE `((?:[^`]|``)+)`;/.exec(line.toString('utf8'));
  return m ? m[1].replace(/``/g, '`') : undefined;
}

/** `LOCK TABLES `t` WRITE;` → t. */
function parseLock(line: Buffer): string | undefined {
  if (!startsWith(line, 'LOCK TABLES `')) return undefined;
  const m = /^LOCK TABLES `((?:[^`]|``)+)` WRITE;/.exec(line.toString('utf8'));
  return m ? m[1].replace(/``/g, '`') : undefined;
}

class Piece {
  readonly parts: Buffer[] = [];
  bytes = 0;
  db: string | undefined;

  add(line: Buffer): void {
    this.parts.push(line, NL);
    this.bytes += line.length + 1;
  }

  /** Whole lines, their newlines included. */
  addLines(lines: Buffer): void {
    this.parts.push(lines);
    this.bytes += lines.length;
  }
}

/** Whether `buf` holds `prefix` (ASCII) at `at`. */
function hasAt(buf: Buffer, at: number, prefix: string): boolean {
  if (at + prefix.length > buf.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** {@link endsStatement} of the line `buf[start, end)`. */
function endsStatementAt(buf: Buffer, start: number, end: number): boolean {
  let i = end - 1;
  while (i >= start && (buf[i] === 0x20 || buf[i] === 0x0d || buf[i] === 0x09)) i--;
  return i >= start && buf[i] === 0x3b;
}

/**
 * Feed it the dump's bytes as they come (`pushBytes`), or its lines without their newline
 * (`push`), in order; it returns pieces as soon as they are complete. `finish()` returns the
 * rest. A chunk closes at `chunkBytes`.
 */
export class DumpSplitter {
  private state: State = 'ddl';
  private inInsert = false;
  /** The last line was a table's UNLOCK TABLES (its COMMIT may follow: AUTOCOMMIT_WRAPPER). */
  private afterUnlock = false;
  private inPreamble = true;
  private readonly header: Buffer[] = [];
  private db: string | undefined;
  private table: string | undefined;
  private ddl = new Piece();
  private chunk = new Piece();
  private readonly post = new Piece();
  private postDb: string | undefined;
  private ddlDb: string | undefined;

  /** The start of a line the reads so far cut, in the pieces they brought (none empty). */
  private rest: Buffer[] = [];

  constructor(private readonly chunkBytes = 8 * 1024 * 1024) {}

  /**
   * Feed it the dump's bytes as they come (any cut); it returns the pieces complete so far, the
   * same as splitting the bytes into lines and pushing each. Row lines (nearly all of a dump) are
   * not cut out one by one: a run of them joins its chunk as one slice of `data`. Call
   * {@link finishBytes} at the end of the stream.
   */
  pushBytes(data: Buffer): DumpPiece[] {
    const out: DumpPiece[] = [];
    let buf = data;
    if (this.rest.length > 0) {
      // Only the line the previous read cut is joined, not the whole read: no copy of the rows.
      const nl = data.indexOf(10);
      if (nl === -1) {
        if (data.length > 0) this.rest.push(data);
        return out;
      }
      const cut = Buffer.concat([...this.rest, data.subarray(0, nl + 1)]);
      this.rest = [];
      this.scan(cut, out);
      buf = data.subarray(nl + 1);
    }
    this.scan(buf, out);
    return out;
  }

  /** Splits whole lines of `buf` into pieces; keeps its last, unfinished line for the next read. */
  private scan(buf: Buffer, out: DumpPiece[]): void {
    let start = 0;
    // The start of a run of row lines not yet added to the chunk.
    let run = -1;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (this.state === 'data' && (this.inInsert || hasAt(buf, start, 'INSERT '))) {
        if (run === -1) run = start;
        this.inInsert = !endsStatementAt(buf, start, nl);
        start = nl + 1;
        if (!this.inInsert && this.chunk.bytes + (start - run) >= this.chunkBytes) {
          this.chunk.addLines(buf.subarray(run, start));
          run = -1;
          out.push(this.closeChunk());
        }
        continue;
      }
      if (run !== -1) {
        this.chunk.addLines(buf.subarray(run, start));
        run = -1;
      }
      for (const piece of this.push(buf.subarray(start, nl))) out.push(piece);
      start = nl + 1;
    }
    if (run !== -1) this.chunk.addLines(buf.subarray(run, start));
    // A copy: a slice would keep the whole read in memory.
    if (start < buf.length) this.rest.push(Buffer.from(buf.subarray(start)));
  }

  /** The pieces the stream's last line (one without a newline) completes; then call {@link finish}. */
  finishBytes(): DumpPiece[] {
    const last = Buffer.concat(this.rest);
    this.rest = [];
    return last.length > 0 ? this.push(last) : [];
  }

  push(line: Buffer): DumpPiece[] {
    const out: DumpPiece[] = [];
    if (this.state === 'data') {
      // MariaDB 10.11's dump writes one row per line: a chunk only ever closes between statements.
      if (this.inInsert || startsWith(line, 'INSERT ')) {
        this.chunk.add(line);
        this.inInsert = !endsStatement(line);
        if (!this.inInsert && this.chunk.bytes >= this.chunkBytes) out.push(this.closeChunk());
        return out;
      }
      if (startsWith(line, 'UNLOCK TABLES;')) {
        if (this.chunk.bytes > 0) out.push(this.closeChunk());
        this.state = 'post';
        this.afterUnlock = true;
        return out;
      }
      // DISABLE/ENABLE KEYS are no-ops for InnoDB and would serialise on MyISAM: dropped.
      if (startsWith(line, '/*!40000 ALTER TABLE')) return out;
      this.chunk.add(line);
      return out;
    }
    const afterUnlock = this.afterUnlock;
    this.afterUnlock = false;
    if (isAutocommitWrapper(line, afterUnlock)) return out;
    for (const [marker, next] of SECTION_MARKERS) {
      if (startsWith(line, marker)) {
        this.inPreamble = false;
        this.state = next;
      }
    }
    const table = parseLock(line);
    if (table !== undefined) {
      // The table's DDL runs before any of its rows.
      if (this.ddl.bytes > 0) out.push(this.closeDdl());
      this.inPreamble = false;
      this.state = 'data';
      this.table = table;
      this.chunk = new Piece();
      this.chunk.db = this.db;
      return out;
    }
    const used = parseUse(line);
    if (used !== undefined) this.db = used;
    if (this.inPreamble && isSessionSetting(line)) this.header.push(line);
    if (this.state === 'ddl') {
      if (this.ddl.bytes === 0) this.ddlDb = this.db;
      this.ddl.add(line);
    } else {
      if (this.post.bytes === 0) this.postDb = this.db;
      else if (used === undefined && this.db !== undefined && this.post.db !== this.db) this.post.add(useStatement(this.db));
      this.post.add(line);
      this.post.db = this.db;
    }
    return out;
  }

  finish(): DumpPiece[] {
    const out: DumpPiece[] = [];
    if (this.ddl.bytes > 0) out.push(this.closeDdl());
    if (this.post.bytes > 0) out.push({ kind: 'post', sql: this.wrap(this.post, this.postDb) });
    return out;
  }

  private wrap(piece: Piece, db: string | undefined): Buffer {
    const head = this.header.flatMap((h) => [h, NL]);
    return Buffer.concat([...head, ...(db !== undefined ? [useStatement(db)] : []), ...piece.parts]);
  }

  private closeDdl(): DumpPiece {
    const piece: DumpPiece = { kind: 'ddl', sql: this.wrap(this.ddl, this.ddlDb) };
    this.ddl = new Piece();
    return piece;
  }

  private closeChunk(): DumpPiece {
    const piece: DumpPiece = { kind: 'chunk', table: `${this.chunk.db ?? ''}.${this.table ?? ''}`, sql: this.wrap(this.chunk, this.chunk.db) };
    const db = this.chunk.db;
    this.chunk = new Piece();
    this.chunk.db = db;
    return piece;
  }
}

/**
 * The statements of a ddl or chunk piece, for a driver session: mysqldump ends every
 * statement at the end of a line with `;` (newlines inside values are escaped), and writes
 * no DELIMITER outside the post part. Comment lines between statements are dropped.
 */
export function statementsOf(sql: Buffer): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const raw of sql.toString('utf8').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (current.length === 0 && (line.trim() === '' || line.startsWith('--'))) continue;
    current.push(line);
    if (/;\s*$/.test(line)) {
      out.push(current.join('\n'));
      current = [];
    }
  }
  if (current.length > 0) out.push(current.join('\n'));
  return out;
}

/**
 * The statements of a chunk as views of its bytes (no copy, no decoding: string values may hold
 * any bytes), by the same rules as {@link statementsOf}.
 */
export function statementBuffers(sql: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let lineStart = 0;
  while (lineStart < sql.length) {
    let nl = sql.indexOf(10, lineStart);
    if (nl === -1) nl = sql.length;
    const line = sql.subarray(lineStart, nl);
    if (start === -1) {
      let i = 0;
      while (i < line.length && (line[i] === 0x20 || line[i] === 0x09 || line[i] === 0x0d)) i++;
      const blank = i === line.length;
      const comment = line[i] === 0x2d && line[i + 1] === 0x2d;
      if (!blank && !comment) start = lineStart;
    }
    if (start !== -1 && endsStatement(line)) {
      out.push(sql.subarray(start, nl));
      start = -1;
    }
    lineStart = nl + 1;
  }
  if (start !== -1) out.push(sql.subarray(start));
  return out;
}
