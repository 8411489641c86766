/**
 * A mydumper directory, file by file: what each file is (Debian's mydumper 0.10 layout, which
 * 0.12+ keeps for these names), and the order a restore loads them in, as myloader does:
 * databases, table schemas, rows (in parallel), then routines and events (`-schema-post`),
 * views (they may call those functions) and triggers (last, so they never fire on restored rows).
 * Pure: names and sizes in, a plan out.
 */
import { SYSTEM_DATABASES } from '../flavors';

export type MydumperFileKind = 'metadata' | 'database' | 'table-schema' | 'data' | 'post' | 'view' | 'triggers';

export interface MydumperFile {
  /** Relative to the backup directory (or the location: whatever the caller passed). */
  path: string;
  kind: MydumperFileKind;
  /** Absent for `metadata`. */
  database?: string;
  table?: string;
  /** `db.t.00001.sql`: the part of a table's rows (`--rows` / `--chunk-filesize`). */
  part?: number;
  /** By the name only; readers still go by the bytes' magic. */
  compression: 'gzip' | 'zstd' | 'none';
  size: number;
}

/**
 * `db-schema-create.sql`, `db-schema-post.sql`, `db.t-schema.sql`, `db.t-schema-view.sql`,
 * `db.t-schema-triggers.sql`, `db.t.sql`, `db.t.00001.sql`, each optionally `.gz` / `.zst`.
 * mydumper 0.10 does not escape names: a database name with a dot is read up to its first dot.
 */
const DB_FILE = /^(.+?)-schema-(create|post)\.sql$/;
const TABLE_FILE = /^(.+?)\.(.+?)(?:-schema(-view|-triggers)?|\.(\d{5}))?\.sql$/;

export function parseMydumperFileName(path: string, size = 0): MydumperFile | undefined {
  const base = path.split('/').pop() ?? path;
  if (base === 'metadata') return { path, kind: 'metadata', compression: 'none', size };
  const compression = base.endsWith('.gz') ? 'gzip' : base.endsWith('.zst') ? 'zstd' : 'none';
  const name = compression === 'none' ? base : base.slice(0, base.lastIndexOf('.'));
  const db = DB_FILE.exec(name);
  if (db) return { path, kind: db[2] === 'create' ? 'database' : 'post', database: db[1]!, compression, size };
  const t = TABLE_FILE.exec(name);
  if (!t) return undefined;
  const [, database, table, schemaKind, part] = t;
  const isSchema = /-schema(?:-view|-triggers)?\.sql$/.test(name);
  const kind: MydumperFileKind = !isSchema ? 'data' : schemaKind === '-view' ? 'view' : schemaKind === '-triggers' ? 'triggers' : 'table-schema';
  return { path, kind, database: database!, table: table!, ...(part !== undefined ? { part: Number(part) } : {}), compression, size };
}

export interface MydumperLoadPlan {
  databases: MydumperFile[];
  /** Tables, and the placeholder tables views replace later. */
  schemas: MydumperFile[];
  /** Largest first: the long files start early, the short ones fill the sessions at the end. */
  data: MydumperFile[];
  post: MydumperFile[];
  views: MydumperFile[];
  triggers: MydumperFile[];
  /** System schemas (`mysql`, `sys`…) of a dump of every database: the sandbox keeps its own. */
  skippedSchemas: string[];
  /** Files that are not part of a mydumper layout (notes, checksums): left alone. */
  ignored: string[];
}

const byPath = (a: MydumperFile, b: MydumperFile): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The order a restore runs a mydumper directory's files in; `metadata` is read, not loaded. */
export function planMydumperLoad(files: readonly { path: string; size: number }[]): MydumperLoadPlan {
  const plan: MydumperLoadPlan = { databases: [], schemas: [], data: [], post: [], views: [], triggers: [], skippedSchemas: [], ignored: [] };
  const skipped = new Set<string>();
  const target: Record<Exclude<MydumperFileKind, 'metadata'>, MydumperFile[]> = {
    database: plan.databases,
    'table-schema': plan.schemas,
    data: plan.data,
    post: plan.post,
    view: plan.views,
    triggers: plan.triggers,
  };
  for (const f of files) {
    const parsed = parseMydumperFileName(f.path, f.size);
    if (!parsed) {
      if (!/(?:^|\/)metadata\.partial$/.test(f.path)) plan.ignored.push(f.path);
      continue;
    }
    if (parsed.kind === 'metadata') continue;
    if (SYSTEM_DATABASES.includes(parsed.database!.toLowerCase())) {
      skipped.add(parsed.database!);
      continue;
    }
    target[parsed.kind].push(parsed);
  }
  for (const list of [plan.databases, plan.schemas, plan.post, plan.views, plan.triggers]) list.sort(byPath);
  plan.data.sort((a, b) => b.size - a.size || byPath(a, b));
  plan.skippedSchemas = [...skipped].sort();
  return plan;
}

/** `db.table`, the key of a restore's per-table row counts. */
export const tableKey = (database: string, table: string): string => `${database}.${table}`;

/**
 * A data file as the dump splitter reads a mysqldump table section: its own session settings
 * (`SET NAMES binary`…) stay the preamble every chunk repeats, then `USE` and `LOCK TABLES`
 * open the table's rows, `UNLOCK TABLES` closes them. Feed it the file's plain bytes in order.
 */
export class MydumperDataFeed {
  private before = true;
  private pending: Buffer = Buffer.alloc(0);
  /** Whether the bytes so far end a line: UNLOCK TABLES must start one, and a blank line would make an empty chunk. */
  private atLineStart = true;

  constructor(private readonly database: string, private readonly table: string) {}

  push(data: Buffer): Buffer {
    if (data.length > 0) this.atLineStart = data[data.length - 1] === 10;
    if (!this.before) return data;
    const buf = Buffer.concat([this.pending, data]);
    // Header lines up to the first INSERT; a line cut by the read waits for its end.
    let at = 0;
    for (let nl = buf.indexOf(10, at); nl !== -1; nl = buf.indexOf(10, at)) {
      if (buf.toString('latin1', at, at + 7) === 'INSERT ') break;
      at = nl + 1;
    }
    const startsInsert = buf.toString('latin1', at, at + 7) === 'INSERT ';
    if (!startsInsert) {
      this.pending = buf;
      return Buffer.alloc(0);
    }
    this.before = false;
    this.pending = Buffer.alloc(0);
    return Buffer.concat([buf.subarray(0, at), this.open(), buf.subarray(at)]);
  }

  finish(): Buffer {
    // A file without rows (mydumper writes none for an empty table) opens and closes the section anyway.
    const newline = Buffer.from(this.atLineStart ? '' : '\n');
    const head = this.before ? Buffer.concat([this.pending, newline, this.open()]) : newline;
    this.before = false;
    this.pending = Buffer.alloc(0);
    return Buffer.concat([head, Buffer.from('UNLOCK TABLES;\n')]);
  }

  private open(): Buffer {
    const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
    return Buffer.from(`USE ${q(this.database)};\nLOCK TABLES ${q(this.table)} WRITE;\n`);
  }
}

/**
 * The statements of a schema, post, view or trigger file, split as myloader splits them: at a
 * line ending in exactly `;`. mydumper writes a stored program's inner `;` line ends as `; `
 * (a space before the newline) so that this rule keeps a BEGIN…END body whole; the dump
 * splitter's rule (trailing blanks ignored) would cut it.
 */
export function mydumperStatements(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (current.length === 0 && (line.trim() === '' || /^\s*--/.test(line))) continue;
    current.push(line);
    if (line.endsWith(';')) {
      out.push(current.join('\n'));
      current = [];
    }
  }
  if (current.some((l) => l.trim() !== '')) out.push(current.join('\n'));
  return out;
}

/**
 * mydumper starts its schema files with `SET NAMES binary`. Their text is UTF-8 (SHOW CREATE
 * output), which the loader sends as it reads it, so it runs them under the session's utf8mb4:
 * after SET NAMES binary the driver would write that text as latin1.
 */
export const isNamesBinary = (statement: string): boolean => /^(?:\/\*!\d+ )?SET NAMES binary\s*(?:\*\/)?\s*;$/i.test(statement.trim());

const CHARSET_SET = /^SET (character_set_client|character_set_results|collation_connection) = (.*);$/s;

/**
 * mydumper 0.10 reads SHOW FUNCTION/PROCEDURE STATUS by column number; MySQL 9 added a
 * `Language` column before them, so its schema-post sets character_set_client to the routine's
 * COMMENT and collation_connection to a character set. Such a SET is no setting at all: the
 * restore skips it (the session's utf8mb4 stays), and says so. A real one (`utf8mb4`,
 * `@PREV_CHARACTER_SET_CLIENT`, a collation with its `_`) is run.
 */
export function misplacedCharsetSetting(statement: string): string | undefined {
  const m = CHARSET_SET.exec(statement.trim());
  if (!m) return undefined;
  const [, variable, value] = m;
  const v = value!.trim();
  if (/^@\w+$/.test(v)) return undefined;
  const word = /^\w+$/.test(v);
  if (variable === 'collation_connection' ? word && (v.includes('_') || v === 'binary') : word) return undefined;
  return `${variable} = ${JSON.stringify(v.slice(0, 60))}`;
}
