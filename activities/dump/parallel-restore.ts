/**
 * Parallel logical restore: the worker reads the published dump, cuts it into DDL, per-table
 * INSERT chunks and a post part (domain/load-plan.ts), and feeds the chunks to several
 * driver sessions on the sandbox's socket at once. Each chunk's INSERTs are streamed with
 * LOAD DATA LOCAL (domain/load-data.ts): the server reads fields instead of SQL expressions,
 * about twice as fast. A dump's usual INSERT goes as it is, its VALUES list read as LOAD DATA
 * rows with `(`, `,`, `)` and `'` as delimiters; one with hex, bit or `_binary` literals is
 * rewritten as tab-separated rows first; one the converter does not understand runs as SQL.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { openSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { DUMP_STREAM_CHUNK_BYTES, incompleteDumpError, keepDumpTail } from '../../domain/dump/format';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { localClient } from '../../domain/flavors';
import { columnsSql } from '../../domain/sql';
import type { ColumnRow } from '../../domain/sql';
import { defersSecondaryIndexes, deferSecondaryIndexes, referencedTables } from '../../domain/dump/deferred-indexes';
import { convertInsert } from '../../domain/dump/insert-convert';
import { scanInsert } from '../../domain/dump/insert-scan';
import { loadDataStatement } from '../../domain/dump/load-data-statement';
import type { LoadColumn } from '../../domain/dump/load-data-statement';
import { SessionDispatcher, parallelSessions } from '../../domain/dump/session-dispatcher';
import { DumpSplitter, statementBuffers, statementsOf } from '../../domain/dump/splitter';
import type { DumpPiece } from '../../domain/dump/splitter';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../sandbox/sandbox';

const NL = Buffer.from('\n');

export interface ParallelLoadStats {
  sessions: number;
  chunks: number;
  bytes: number;
  /** Rows loaded through LOAD DATA, and INSERT statements run as they are. */
  loadDataRows: number;
  /** Of the LOAD DATA rows, those whose INSERT's VALUES list went to the server as dumped (domain/load-data.ts scanInsert). */
  unchangedRows: number;
  insertStatements: number;
  /** Tables whose plain secondary keys were added after their rows. */
  indexesBuilt: number;
  /** Chunks that waited for a session in a file, not in memory. */
  spilledChunks: number;
  /**
   * Where the restore's time went. The parts overlap (rows load while later tables are created
   * and earlier ones build their keys), so they do not add up to the restore's wall time:
   * schema and indexes are session time summed over sessions; data is the wall span from the
   * first row chunk's start to the last one's end; post is the wall time of the dump's tail
   * (triggers, routines, views).
   */
  schemaSeconds: number;
  dataSeconds: number;
  indexesSeconds: number;
  postSeconds: number;
}

/** A table's plain secondary keys, held back from its CREATE TABLE until its rows are in. */
interface DeferredBuild {
  table: string;
  db: string | undefined;
  /** The dump's session settings, run before the ALTER. */
  settings: string[];
  sql: string;
  /** Settles when the keys exist (or the load failed): foreign keys referencing the table wait for it. */
  done: Promise<void>;
  finish: () => void;
}

/** Connection character sets whose text the converter passes through (domain/load-data.ts). */
const UTF8_NAMES = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

/** Session state a chunk's own statements set, which decides whether its INSERTs may be converted. */
interface ChunkSession {
  db?: string;
  names: string;
  noBackslashEscapes: boolean;
  /** Statements run so far (settings, USE), replayed first when an INSERT goes through the client. */
  settings: Buffer[];
}

function track(state: ChunkSession, statement: Buffer): void {
  const text = statement.toString('utf8', 0, Math.min(statement.length, 400));
  const use = /^USE `((?:[^`]|``)+)`/.exec(text);
  if (use) state.db = use[1].replace(/``/g, '`');
  const names = /\bSET NAMES\s+'?(\w+)/i.exec(text);
  if (names) state.names = names[1].toLowerCase();
  const mode = /\bSQL_MODE\s*=\s*'([^']*)'/i.exec(text);
  if (mode) state.noBackslashEscapes = /NO_BACKSLASH_ESCAPES/i.test(mode[1]);
  state.settings.push(statement);
}

const startsWithInsert = (statement: Buffer): boolean => statement.length > 7 && statement.toString('latin1', 0, 7).toUpperCase() === 'INSERT ';

const TABLE_COLUMNS_SQL = columnsSql({ oneTable: true });

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface ParallelLoadOptions {
  progress?: (p: { chunks: number; bytes: number; loadDataRows: number; insertStatements: number }) => void;
  signal?: AbortSignal;
  sessions?: number;
  /** The artifact's sha256 (its manifest's): the bytes read must hash to it. */
  expectedSha256?: string;
  /**
   * A folder (the drill's work folder) where row chunks read ahead of the sessions wait on disk
   * once more than {@link HELD_IN_MEMORY_BYTES} wait in memory. Without it the reader waits
   * for the sessions instead, and they share whatever table it is at.
   */
  spillDir?: string;
  /** Bytes of waiting chunks held in memory before they wait on disk ({@link HELD_IN_MEMORY_BYTES}). */
  memoryBytes?: number;
}

/** Row chunks read ahead and waiting for a session, in memory, before they wait on disk. */
export const HELD_IN_MEMORY_BYTES = 64 * 1024 * 1024;

/** Where a waiting chunk's bytes are: in memory, or in a spill file until a session takes it. */
type Held = { sql: Buffer } | { file: string; bytes: number };

/**
 * The chunks read ahead of the sessions. The reader goes on to the next tables while the
 * sessions load earlier ones, so that each session can take a table of its own
 * (SessionDispatcher); what does not fit in memory waits in files, up to half the folder's
 * free space, and beyond that the reader waits for the sessions.
 */
class ReadAhead {
  private inMemory = 0;
  private onDisk = 0;
  private diskLimit: number | undefined;
  private dir: string | undefined;
  private files = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly spillParent: string | undefined,
    private readonly memoryLimit: number,
  ) {}

  async hold(sql: Buffer): Promise<Held> {
    for (;;) {
      if (this.inMemory + sql.length <= this.memoryLimit) {
        this.inMemory += sql.length;
        return { sql };
      }
      if (await this.diskFits(sql.length)) {
        const file = path.join(this.dir!, `chunk-${this.files + 1}.sql`);
        try {
          await writeFile(file, sql);
        } catch {
          // A full or failing disk is no reason to fail the restore (nor to blame the artifact):
          // the reader stops spilling and waits for the sessions, as without a folder.
          await rm(file, { force: true }).catch(() => undefined);
          this.diskLimit = 0;
          continue;
        }
        this.files++;
        this.onDisk += sql.length;
        return { file, bytes: sql.length };
      }
      // A chunk larger than the budget still goes, alone.
      if (this.inMemory === 0) {
        this.inMemory += sql.length;
        return { sql };
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The chunk's bytes, for the session that took it. */
  async take(held: Held): Promise<Buffer> {
    if ('sql' in held) return held.sql;
    return readFile(held.file);
  }

  async done(held: Held): Promise<void> {
    if ('sql' in held) this.inMemory -= held.sql.length;
    else {
      this.onDisk -= held.bytes;
      await rm(held.file, { force: true });
    }
    for (const wake of this.waiters.splice(0)) wake();
  }

  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  get spilledFiles(): number {
    return this.files;
  }

  private async diskFits(bytes: number): Promise<boolean> {
    if (this.spillParent === undefined) return false;
    if (this.diskLimit === undefined) {
      try {
        await mkdir(this.spillParent, { recursive: true });
        this.dir = await mkdtemp(path.join(this.spillParent, 'restore-read-ahead-'));
        const fsStats = await statfs(this.dir);
        this.diskLimit = Math.floor((fsStats.bavail * fsStats.bsize) / 2);
      } catch {
        this.diskLimit = 0;
      }
    }
    return this.onDisk + bytes <= this.diskLimit;
  }
}

/**
 * Loads `dumpFile` (a host path, gzip) into the sandbox with `sessions` sessions at once.
 * DDL pieces run in dump order, each table's chunks after its DDL, the post part last.
 * The first failing piece stops the load; its client error is the DrillError's message.
 *
 * It completes verifyBackup's 'bytes' depth as it reads: the gzip stream must be whole (its CRC
 * is checked at its end), the bytes read must hash to `expectedSha256` when one is given, and
 * the dump must end with its trailer. All three are known only once the whole stream is read,
 * and are checked BEFORE the dump's last part (the final partial line, the pending schema, the
 * triggers, routines and views) runs: a dump cut short fails with DumpTruncated and its cut
 * statement never runs; a broken gzip stream or other bytes fail with ArtifactCorrupt. Rows loaded before the end stay in the sandbox, which a failed drill
 * discards. A piece that fails before the end does not stop the reading: the rest is read (not
 * loaded) so that a broken artifact, the likely cause, is what the failure names.
 */
export async function loadDumpInParallel(deps: ActivityDeps, sandbox: SandboxHandle, dumpFile: string, opts: ParallelLoadOptions = {}): Promise<ParallelLoadStats> {
  const { progress = () => undefined, signal, sessions = parallelSessions(os.cpus().length) } = opts;
  const client = localClient(sandbox.flavor);
  const dispatcher = new SessionDispatcher(sessions);
  const readAhead = new ReadAhead(opts.spillDir, opts.memoryBytes ?? HELD_IN_MEMORY_BYTES);
  let failure: DrillError | undefined;
  let chunks = 0;
  let bytes = 0;
  let loadDataRows = 0;
  let unchangedRows = 0;
  let insertStatements = 0;
  const chunkNumbers = new Map<string, number>();
  // Column character sets and generated columns of each table, read once after its DDL ran.
  const tableColumns = new Map<string, Promise<LoadColumn[]>>();
  let ddlDone: Promise<void> = Promise.resolve();
  const deferIndexes = defersSecondaryIndexes(sandbox.flavor);
  const indexBuilds = new Map<string, DeferredBuild>();
  // Tables named by a foreign key so far (db.table).
  const referenced = new Set<string>();
  let indexesBuilt = 0;
  let schemaMs = 0;
  let indexesMs = 0;
  let postMs = 0;
  let firstChunkAt: number | undefined;
  let lastChunkAt: number | undefined;
  // The table whose rows are being scheduled: its keys are built once all its chunks are done.
  let openTable: { deferred: Promise<DeferredBuild[]>; chunks: Promise<void>[] } | undefined;
  const inFlight = new Set<Promise<void>>();

  // Schema and rows go through driver sessions on the socket (no process per piece); the post
  // part, with its DELIMITER blocks, through the client, once.
  const pool = await Promise.all(Array.from({ length: sessions + 1 }, () => openSession({ socket: sandbox.socketPath }, { user: 'root' })));
  const ddlSession = pool[sessions];
  const idle = pool.slice(0, sessions);

  const describePiece = (piece: DumpPiece) => (piece.kind === 'chunk' ? `rows of ${piece.table}` : piece.kind === 'ddl' ? "the dump's schema" : "the dump's triggers, routines and views");

  function failPiece(piece: DumpPiece, err: unknown): void {
    failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${describePiece(piece)} in sandbox ${sandbox.name} failed: ${(err as Error).message.slice(0, 1200)}`, {
      details: { kind: piece.kind, table: piece.table },
      cause: err,
    });
  }

  /**
   * A schema piece, with the plain secondary keys of its tables held back where that wins
   * (domain/load-data.ts): they are added once the table's rows are in. A table whose foreign
   * keys reference a table still waiting for its keys waits for them first.
   */
  async function runDdl(session: SqlSession, piece: DumpPiece): Promise<DeferredBuild[]> {
    const began = Date.now();
    try {
      return await runDdlStatements(session, piece);
    } finally {
      schemaMs += Date.now() - began;
    }
  }

  async function runDdlStatements(session: SqlSession, piece: DumpPiece): Promise<DeferredBuild[]> {
    const deferred: DeferredBuild[] = [];
    const settings: string[] = [];
    let db: string | undefined;
    for (const statement of statementsOf(piece.sql)) {
      if (failure) return deferred;
      const use = /^USE `((?:[^`]|``)+)`;/.exec(statement);
      if (use) db = use[1].replace(/``/g, '`');
      if (/^(\/\*!\d+ )?SET /.test(statement) && !/@@GLOBAL/i.test(statement)) settings.push(statement);
      try {
        let sql = statement;
        const create = /^CREATE TABLE `((?:[^`]|``)+)`/.exec(statement);
        if (create) {
          const parents = referencedTables(statement).map((r) => `${r.database ?? db}.${r.table}`);
          for (const parent of parents) {
            referenced.add(parent);
            await indexBuilds.get(parent)?.done;
          }
          // A table some earlier table's foreign key references keeps its keys: the constraint may need one.
          const split = deferIndexes && !referenced.has(`${db}.${create[1].replace(/``/g, '`')}`) ? deferSecondaryIndexes(statement) : undefined;
          if (split) {
            sql = split.create;
            let finish!: () => void;
            const done = new Promise<void>((resolve) => (finish = resolve));
            const build = { table: `${db}.${split.table}`, db, settings: [...settings], sql: split.addIndexes, done, finish };
            indexBuilds.set(build.table, build);
            deferred.push(build);
          }
        }
        await session.query(sql);
      } catch (err) {
        failPiece(piece, err);
      }
    }
    return deferred;
  }

  /** Adds a table's held-back keys in one ALTER (one sorted build per key), on a loading session. */
  async function buildIndexes(build: DeferredBuild): Promise<void> {
    try {
      if (failure) return;
      await dispatcher.acquire(build.table);
      const session = idle.pop()!;
      try {
        // The dump's own session settings (SQL_MODE, FOREIGN_KEY_CHECKS…), then the table's database.
        for (const setting of build.settings) await session.query(setting);
        if (build.db !== undefined) await session.query(`USE \`${build.db.replace(/`/g, '``')}\``);
        const began = Date.now();
        await session.query(build.sql);
        indexesMs += Date.now() - began;
        indexesBuilt++;
      } catch (err) {
        failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore in sandbox ${sandbox.name} failed building the secondary indexes of ${build.table} after its rows: ${(err as Error).message.slice(0, 1200)}`, {
          details: { table: build.table },
          cause: err,
        });
      } finally {
        idle.push(session);
        dispatcher.release(build.table);
      }
    } finally {
      build.finish();
    }
  }

  function columnsOf(session: SqlSession, db: string, table: string): Promise<LoadColumn[]> {
    const key = `${db}.${table}`;
    let columns = tableColumns.get(key);
    if (!columns) {
      columns = session
        .query<ColumnRow>(TABLE_COLUMNS_SQL, [[db], table])
        .then((rows) => rows.map((r) => ({ name: r.column_name, charset: r.charset, dataType: r.data_type, generated: r.generation !== '' })));
      tableColumns.set(key, columns);
    }
    return columns;
  }

  /**
   * One chunk: consecutive INSERTs that convert go out as one LOAD DATA LOCAL stream; anything
   * else (settings, USE, an INSERT the converter does not understand) runs as it is, after the
   * rows before it. LOAD DATA LOCAL turns errors into warnings, so a load that is short of rows
   * or warns fails the chunk instead of passing silently.
   */
  async function runChunk(session: SqlSession, piece: DumpPiece, chunkNumber: number): Promise<void> {
    const state: ChunkSession = { names: 'utf8mb4', noBackslashEscapes: false, settings: [] };
    let pending: { sql: string; table: string; data: Buffer[]; rows: number; unchanged: boolean } | undefined;
    const fail = (message: string, err?: unknown) => {
      failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of chunk ${chunkNumber} of ${piece.table} in sandbox ${sandbox.name} failed: ${message.slice(0, 1200)}`, {
        details: { kind: piece.kind, table: piece.table, chunk: chunkNumber },
        cause: err,
      });
    };
    const flush = async () => {
      if (!pending || failure) return;
      const load = pending;
      pending = undefined;
      const outcome = await session.loadLocal(load.sql, load.data);
      if (outcome.affectedRows !== load.rows || outcome.warnings > 0) {
        const warnings = await session.query<{ Message: string }>('SHOW WARNINGS LIMIT 3').catch(() => []);
        return fail(
          `LOAD DATA into ${load.table} loaded ${outcome.affectedRows} of ${load.rows} rows with ${outcome.warnings} warning(s)${warnings.length ? `: ${warnings.map((w) => w.Message).join('; ')}` : ''}; ` +
            "restoreMethod 'client' loads the dump's INSERT statements as they are",
        );
      }
      loadDataRows += load.rows;
      if (load.unchanged) unchangedRows += load.rows;
    };
    const runAsIs = async (statement: Buffer) => {
      // Text that is not UTF-8 cannot go through the driver (it sends strings): the server's own client takes the bytes.
      if (isUtf8(statement)) {
        await session.query(statement.toString('utf8'));
        return;
      }
      const result = await deps.runtime.exec(sandbox.name, client, { stdin: Readable.from([Buffer.concat(state.settings.flatMap((st) => [st, NL])), statement, NL]), env: ['TZ=UTC'], signal });
      if (result.exitCode !== 0) throw new Error(`client exit ${result.exitCode}: ${result.stderr.trim().slice(-1000)}`);
    };
    try {
      for (const statement of statementBuffers(piece.sql)) {
        if (failure || signal?.aborted) return;
        // One event loop serves every session's LOAD DATA stream: converting a whole chunk at
        // once would leave the other sessions' servers waiting for their next packet.
        await yieldToIo();
        if (startsWithInsert(statement)) {
          // The VALUES list as dumped where LOAD DATA reads it the same; else rewritten as tab-separated rows.
          const converted = UTF8_NAMES.has(state.names) && !state.noBackslashEscapes ? (scanInsert(statement) ?? convertInsert(statement)) : undefined;
          const db = converted?.database ?? state.db;
          if (converted && db !== undefined) {
            const plan = loadDataStatement(converted, await columnsOf(session, db, converted.table));
            if ('sql' in plan) {
              if (pending && pending.sql !== plan.sql) await flush();
              pending ??= { sql: plan.sql, table: `${db}.${converted.table}`, data: [], rows: 0, unchanged: converted.format === 'values' };
              pending.data.push(converted.data);
              pending.rows += converted.rows;
              continue;
            }
          }
          await flush();
          insertStatements++;
          await runAsIs(statement);
          continue;
        }
        await flush();
        await runAsIs(statement);
        track(state, statement);
      }
      await flush();
    } catch (err) {
      fail((err as Error).message, err);
    }
  }

  async function runWithClient(piece: DumpPiece): Promise<void> {
    if (failure) return;
    const result = await deps.runtime.exec(sandbox.name, client, { stdin: Readable.from([piece.sql]), env: ['TZ=UTC'], signal });
    if (result.exitCode !== 0 && !failure)
      failure = new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${describePiece(piece)} in sandbox ${sandbox.name} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, {
        details: { exitCode: result.exitCode, kind: piece.kind },
      });
  }

  /** Schedules a piece; a row chunk once the read-ahead holds its bytes (the reader may wait there for room). */
  async function schedule(piece: DumpPiece): Promise<void> {
    if (piece.kind === 'ddl') {
      // The rows of the table before this piece are all scheduled: its held-back keys follow them.
      closeTable();
      // In dump order, on their own session: a table exists before any of its rows arrive.
      const deferred = ddlDone.then(() => runDdl(ddlSession, piece));
      const task = deferred.then(() => undefined);
      ddlDone = task;
      openTable = { deferred, chunks: [] };
      keep(task);
      return;
    }
    const table = piece.table ?? '';
    const chunkNumber = (chunkNumbers.get(table) ?? 0) + 1;
    chunkNumbers.set(table, chunkNumber);
    const task = chunkTask(table, await readAhead.hold(piece.sql), ddlDone, chunkNumber);
    openTable?.chunks.push(task);
    keep(task);
  }

  /**
   * A row chunk's load, once its table exists and a session is its. A function of its own, not a
   * closure in schedule(): a closure there would keep the piece, and so a spilled chunk's bytes,
   * in memory.
   */
  async function chunkTask(table: string, waiting: Held, after: Promise<void>, chunkNumber: number): Promise<void> {
    await after;
    await dispatcher.acquire(table);
    const session = idle.pop()!;
    try {
      if (failure || signal?.aborted) return;
      const sql = await readAhead.take(waiting);
      firstChunkAt ??= Date.now();
      await runChunk(session, { kind: 'chunk', table, sql }, chunkNumber);
      lastChunkAt = Date.now();
      chunks++;
      bytes += sql.length;
      progress({ chunks, bytes, loadDataRows, insertStatements });
    } catch (err) {
      failPiece({ kind: 'chunk', table, sql: Buffer.alloc(0) }, err);
    } finally {
      idle.push(session);
      dispatcher.release(table);
      await readAhead.done(waiting);
    }
  }

  function keep(task: Promise<void>): void {
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }

  function closeTable(): void {
    if (!openTable) return;
    const { deferred, chunks: rows } = openTable;
    openTable = undefined;
    keep(
      (async () => {
        const builds = await deferred;
        await Promise.allSettled(rows);
        await Promise.all(builds.map(buildIndexes));
      })(),
    );
  }

  const splitter = new DumpSplitter();
  const hash = opts.expectedSha256 !== undefined ? createHash('sha256') : undefined;
  const file = createReadStream(dumpFile, { highWaterMark: DUMP_STREAM_CHUNK_BYTES });
  if (hash) file.on('data', (c) => hash.update(c as Buffer));
  // pipeline, not pipe: a read error (a missing file) reaches the loop instead of stalling it.
  const input = pipeline(file, createGunzip({ chunkSize: DUMP_STREAM_CHUNK_BYTES }), () => undefined);
  let tail: Buffer = Buffer.alloc(0);
  try {
    for await (const data of input as AsyncIterable<Buffer>) {
      tail = keepDumpTail(tail, data);
      if (signal?.aborted) break;
      // After a failed piece, read on without loading: the end of the stream tells whether the artifact caused it.
      if (failure) continue;
      for (const piece of splitter.pushBytes(data)) await schedule(piece);
      // The reader runs ahead of the sessions; between its reads, their conversions and streams go first.
      await yieldToIo();
    }
    // The whole stream was read and gunzip found it whole. A broken artifact replaces a piece's
    // failure: that piece most likely failed on the artifact's garbage or its cut statement.
    if (!signal?.aborted) failure = artifactProblem() ?? failure;
    if (!failure && !signal?.aborted) {
      for (const piece of splitter.finishBytes()) await schedule(piece);
      const rest = splitter.finish();
      for (const piece of rest.filter((p) => p.kind === 'ddl')) await schedule(piece);
      closeTable();
      // The post part (triggers, views, GTID tail) only once every row is in.
      while (inFlight.size > 0 && !failure) await Promise.all([...inFlight]);
      const postStarted = Date.now();
      for (const piece of rest.filter((p) => p.kind === 'post')) await runWithClient(piece);
      postMs = Date.now() - postStarted;
    }
  } catch (err) {
    // zlib's errors (Z_DATA_ERROR "incorrect data check", Z_BUF_ERROR "unexpected end of file") say
    // the artifact is broken: that replaces a piece's failure too. Anything else (a read error) does not.
    const zlibError = /^Z_/.test(String((err as NodeJS.ErrnoException).code));
    const unreadable = zlibError
      ? new DrillError(DrillErrorTypes.ArtifactCorrupt, `the gzip stream of the dump ${dumpFile} is broken (${(err as Error).message}): the artifact was truncated or corrupted; verify it against its manifest or take a new backup`, { details: { dumpFile }, cause: err })
      : new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump ${dumpFile} could not be read for a parallel restore: ${(err as Error).message}`, { details: { dumpFile }, cause: err });
    failure = zlibError ? unreadable : (failure ?? unreadable);
  } finally {
    input.destroy();
    // Tasks start others (a table's rows start its key build): settle until none is left.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    for (const build of indexBuilds.values()) build.finish();
    await Promise.allSettled([...pool.map((session) => session.close()), readAhead.close()]);
  }

  /** What the whole stream says about the artifact: bytes not the manifest's, or a dump without its trailer. */
  function artifactProblem(): DrillError | undefined {
    const sha256 = hash?.digest('hex');
    if (sha256 !== undefined && sha256 !== opts.expectedSha256)
      return new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump ${dumpFile} has sha256 ${sha256} but its manifest says ${opts.expectedSha256}: its bytes changed after publication`, {
        details: { dumpFile, actual: sha256, expected: opts.expectedSha256 },
      });
    return incompleteDumpError(dumpFile, tail.toString('utf8'));
  }
  if (failure) throw failure;
  if (signal?.aborted) throw new DrillError(DrillErrorTypes.Transient, `parallel restore in sandbox ${sandbox.name} was cancelled`);
  const span = firstChunkAt !== undefined && lastChunkAt !== undefined ? lastChunkAt - firstChunkAt : 0;
  return { sessions, chunks, bytes, loadDataRows, unchangedRows, insertStatements, indexesBuilt, spilledChunks: readAhead.spilledFiles, schemaSeconds: schemaMs / 1000, dataSeconds: span / 1000, indexesSeconds: indexesMs / 1000, postSeconds: postMs / 1000 };
}

/** The parallel load with heartbeats carrying its progress; cancelling the activity stops it. */
export function restoreInParallel(deps: ActivityDeps, sandbox: SandboxHandle, dumpFile: string, opts: { expectedSha256?: string; spillDir?: string } = {}): Promise<ParallelLoadStats> {
  const started = Date.now();
  let last = { chunks: 0, bytes: 0, loadDataRows: 0, insertStatements: 0 };
  return withHeartbeat(
    () => ({ phase: 'restore', method: 'parallel', ...last, seconds: Math.round((Date.now() - started) / 1000) }),
    (signal) => loadDumpInParallel(deps, sandbox, dumpFile, { ...opts, progress: (p) => void (last = p), signal }),
  );
}
