/**
 * A `--all-databases` dump carries the server's own `mysql` schema (accounts, grants, time
 * zones). Loaded into a sandbox it would replace the sandbox's own accounts, so those sections
 * are left out of the restore: from `-- Current Database: `mysql`` to the next database's
 * section or the dump's closing statements. Pure and streaming: bytes in, bytes to load out.
 */

/** Schemas a restore never loads over the sandbox's own. */
export const SANDBOX_OWNED_SCHEMAS: readonly string[] = ['mysql', 'sys', 'performance_schema', 'information_schema'];

const DATABASE_MARKER = '-- Current Database: `';
/** Lines after the last database: the dump's closing session statements and trailer. */
const CLOSING_MARKERS = ['-- The deferred gtid setting', 'SET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;', '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;', '-- Dump completed'];

const MARKER_STARTS = [DATABASE_MARKER, ...CLOSING_MARKERS].map((m) => `\n${m}`);

export class SystemSchemaFilter {
  private skipping = false;
  /** A line start that may be a marker, cut by the end of the last push. */
  private carry: Buffer = Buffer.alloc(0);
  /** Schemas whose sections were left out. */
  readonly skipped = new Set<string>();

  constructor(private readonly schemas: readonly string[] = SANDBOX_OWNED_SCHEMAS) {}

  /** The bytes of `data` to load; a partial last line waits for the next push. */
  push(data: Buffer): Buffer {
    // A leading newline lets a marker on the very first line be found like any other.
    const buf = Buffer.concat([Buffer.from('\n'), this.carry, data]);
    const lastNl = buf.lastIndexOf(10);
    this.carry = Buffer.from(buf.subarray(lastNl + 1));
    return this.filterLines(buf.subarray(0, lastNl + 1)).subarray(1);
  }

  /** The stream's last line, if it had no newline (a newline is added after it). */
  finish(): Buffer {
    if (this.carry.length === 0) return Buffer.alloc(0);
    const rest = Buffer.concat([Buffer.from('\n'), this.carry, Buffer.from('\n')]);
    this.carry = Buffer.alloc(0);
    return this.filterLines(rest).subarray(1);
  }

  /**
   * `buf` starts and ends with a newline. It is cut before each marker line; each part is kept
   * or left out by the section its marker opens (the first part continues the current one).
   */
  private filterLines(buf: Buffer): Buffer {
    const out: Buffer[] = [Buffer.from('\n')];
    let start = 1;
    let searchFrom = 0;
    for (;;) {
      const marker = this.nextMarker(buf, searchFrom);
      const end = marker === -1 ? buf.length : marker + 1;
      if (!this.skipping && end > start) out.push(buf.subarray(start, end));
      if (marker === -1) break;
      start = marker + 1;
      searchFrom = start;
      this.skipping = this.startsSkippedSection(buf, start);
    }
    return Buffer.concat(out);
  }

  /** Position of the newline that starts the next marker line, at or after `from`. */
  private nextMarker(buf: Buffer, from: number): number {
    let best = -1;
    for (const m of MARKER_STARTS) {
      const i = buf.indexOf(m, from, 'latin1');
      if (i !== -1 && (best === -1 || i < best)) best = i;
    }
    return best;
  }

  private startsSkippedSection(buf: Buffer, lineStart: number): boolean {
    if (buf.toString('latin1', lineStart, lineStart + DATABASE_MARKER.length) !== DATABASE_MARKER) return false;
    const close = buf.indexOf('`', lineStart + DATABASE_MARKER.length, 'latin1');
    const db = buf.toString('utf8', lineStart + DATABASE_MARKER.length, close === -1 ? undefined : close);
    if (!this.schemas.includes(db.toLowerCase())) return false;
    this.skipped.add(db);
    return true;
  }
}
