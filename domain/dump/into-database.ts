/**
 * A dump of one database made without --databases (`mysqldump shop > shop.sql`) has no CREATE
 * DATABASE and no USE: its tables go wherever the client points. Before its first table this
 * puts what `--databases` would have written, so the restore creates and uses that database.
 * Pure and streaming: bytes in, bytes out, whatever the cuts.
 */
const FIRST_TABLE = '\n--\n-- Table structure for table';

export class IntoDatabase {
  private done = false;
  /** Bytes held back: they may end with the start of the marker. */
  private held: Buffer = Buffer.alloc(0);

  constructor(private readonly database: string) {}

  push(data: Buffer): Buffer {
    if (this.done) return data;
    const buf = Buffer.concat([this.held, data]);
    const at = buf.indexOf(FIRST_TABLE, 0, 'latin1');
    if (at !== -1) {
      this.done = true;
      this.held = Buffer.alloc(0);
      return Buffer.concat([buf.subarray(0, at + 1), this.statements(), buf.subarray(at + 1)]);
    }
    // Keep the tail that could be the marker's beginning.
    const keep = Math.min(buf.length, FIRST_TABLE.length - 1);
    this.held = Buffer.from(buf.subarray(buf.length - keep));
    return buf.subarray(0, buf.length - keep);
  }

  finish(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  private statements(): Buffer {
    const q = `\`${this.database.replace(/`/g, '``')}\``;
    return Buffer.from(`--\n-- Current Database: ${q}\n--\n\nCREATE DATABASE IF NOT EXISTS ${q};\n\nUSE ${q};\n\n`);
  }
}
