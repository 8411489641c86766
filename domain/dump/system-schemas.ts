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

const MARKERS = [DATABASE_MARKER, ...CLOSING_MARKERS];
const MARKER_STARTS = MARKERS.map((m) => `\n${m}`);

/**
 * Bytes from a line's start that decide whether a marker opens there: the longest marker and a
 * database name (64 characters, up to 4 bytes each) with its closing backquote. A line shorter
 * than that is decided at its newline.
 */
const LINE_HEAD_BYTES = 512;

/**
 * Streaming, and copying almost nothing: a read without a marker line passes through as it is
 * (a subarray). Only a line start in the last {@link LINE_HEAD_BYTES} of a read, not yet
 * decidable, waits (those few bytes) for the next read.
 */
export class SystemSchemaFilter {
  private skipping = false;
  /** The start of the current line, not yet decided; the stream's first line starts out here, empty. */
  private held: Buffer | undefined = Buffer.alloc(0);
  /** The last byte passed on was not a newline: finish ends the line. */
  private openLine = false;
  /** Schemas whose sections were left out. */
  readonly skipped = new Set<string>();

  constructor(private readonly schemas: readonly string[] = SANDBOX_OWNED_SCHEMAS) {}

  /** The bytes of `data` to load; an undecided line start waits for the next push. */
  push(data: Buffer): Buffer {
    const out: Buffer[] = [];
    let from = 0;
    if (this.held) {
      const probe = Buffer.concat([this.held, data.subarray(0, LINE_HEAD_BYTES)]);
      if (probe.length < LINE_HEAD_BYTES && probe.indexOf(10) === -1) {
        this.held = probe;
        return Buffer.alloc(0);
      }
      this.decideLine(probe, 0);
      this.emit(out, this.held);
      this.held = undefined;
    }
    // The last line start that cannot be decided from this read waits for the next.
    const lastNl = data.lastIndexOf(10);
    let end = data.length;
    if (lastNl !== -1 && data.length - (lastNl + 1) < LINE_HEAD_BYTES) {
      end = lastNl + 1;
      this.held = data.subarray(end);
    }
    for (;;) {
      const marker = this.nextMarker(data, from, end - 1);
      const stop = marker === -1 ? end : marker + 1;
      this.emit(out, data.subarray(from, stop));
      if (marker === -1) break;
      from = marker + 1;
      this.decideLine(data, from);
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** The stream's last line, if it had no newline (a newline is added after it). */
  finish(): Buffer {
    const out: Buffer[] = [];
    if (this.held && this.held.length > 0) {
      this.decideLine(Buffer.concat([this.held, Buffer.from('\n')]), 0);
      this.emit(out, this.held);
    }
    this.held = undefined;
    if (this.openLine && !this.skipping) out.push(Buffer.from('\n'));
    this.openLine = false;
    return Buffer.concat(out);
  }

  private emit(out: Buffer[], bytes: Buffer): void {
    if (this.skipping || bytes.length === 0) return;
    out.push(bytes);
    this.openLine = bytes[bytes.length - 1] !== 10;
  }

  /** A line starts at `lineStart` of `buf`: a marker there opens a section, kept or left out. */
  private decideLine(buf: Buffer, lineStart: number): void {
    for (const m of MARKERS) {
      if (buf.toString('latin1', lineStart, lineStart + m.length) === m) {
        this.skipping = this.startsSkippedSection(buf, lineStart);
        return;
      }
    }
  }

  /** Position of the newline that starts the next marker line, at or after `from` and before `before`. */
  private nextMarker(buf: Buffer, from: number, before: number): number {
    let best = -1;
    for (const m of MARKER_STARTS) {
      const i = buf.indexOf(m, from, 'latin1');
      if (i !== -1 && i < before && (best === -1 || i < best)) best = i;
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
