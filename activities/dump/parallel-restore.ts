/**
 * The parallel restore of a logical dump: the worker reads the published dump, cuts it into
 * DDL, per-table row chunks and a post part (domain/dump/splitter.ts), and feeds the chunks to
 * several driver sessions on the sandbox's socket at once (chunk-loader.ts), each session
 * keeping to a table of its own where it can (domain/dump/session-dispatcher.ts). Rows go as
 * LOAD DATA LOCAL: the server reads fields instead of SQL expressions, about twice as fast.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import os from 'node:os';
import { Readable, pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { decompressor } from '../../adapters/decompress';
import { openSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { deferSecondaryIndexes, loadsIntoClusteredIndexOnly, referencedTables } from '../../domain/dump/deferred-indexes';
import { incompleteDumpError, keepDumpTail } from '../../domain/dump/format';
import { SessionDispatcher, parallelSessions } from '../../domain/dump/session-dispatcher';
import { DumpSplitter, statementsOf } from '../../domain/dump/splitter';
import { IntoDatabase } from '../../domain/dump/into-database';
import { DeclaredObjects } from '../../domain/dump/declared-objects';
import type { StoredObject } from '../../domain/checks/objects';
import { SystemSchemaFilter } from '../../domain/dump/system-schemas';
import type { DumpPiece } from '../../domain/dump/splitter';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { localClient } from '../../domain/flavors';
import { restoreWork } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../types';
import { TableColumns, loadChunk, yieldToIo } from './chunk-loader';
import type { ChunkCounts, ChunkLoaderContext } from './chunk-loader';
import type { DumpInput } from './dump-input';
import { HELD_IN_MEMORY_BYTES, ReadAhead } from './read-ahead';
import type { Held } from './read-ahead';

export { HELD_IN_MEMORY_BYTES };

export interface ParallelRestoreStats {
  sessions: number;
  chunks: number;
  bytes: number;
  /** Rows loaded through LOAD DATA, and INSERT statements run as they are. */
  loadDataRows: number;
  /** Of the LOAD DATA rows, those whose INSERT's VALUES list went to the server as dumped (scanInsert). */
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
  /** System schemas (`mysql`, ...) of a team's `--all-databases` dump, left out: the sandbox keeps its own. */
  skippedSchemas: string[];
  /** Rows the dump inserted per table (`db.table`). */
  rowsLoaded: Record<string, number>;
  /** The views, routines, triggers and events the dump creates. */
  declaredObjects: StoredObject[];
}

export type ParallelRestoreProgress = Pick<ParallelRestoreStats, 'chunks' | 'bytes' | 'loadDataRows' | 'insertStatements'> & {
  /** Plain bytes of the pieces run so far (schema, rows, post). */
  loadedBytes: number;
  /** The input's bytes read so far, as stored (compressed) and plain. */
  storedBytesRead: number;
  plainBytesRead: number;
  /** The whole input has been read: {@link plainBytesRead} is the dump's plain size. */
  readToEnd: boolean;
};

export interface ParallelRestoreOptions {
  progress?: (p: ParallelRestoreProgress) => void;
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

/**
 * Restores `dumpFile` (a host path, gzip) into the sandbox with several sessions at once.
 * DDL pieces run in dump order, each table's chunks after its DDL, the post part last.
 * The first failing piece stops the restore; its client error is the DrillError's message.
 *
 * It completes verifyBackup's 'bytes' depth as it reads: the gzip stream must be whole (its CRC
 * is checked at its end), the bytes read must hash to `expectedSha256` when one is given, and
 * the dump must end with its trailer. All three are known only once the whole stream is read,
 * and are checked BEFORE the dump's last part (the final partial line, the pending schema, the
 * triggers, routines and views) runs: a dump cut short fails with DumpTruncated and its cut
 * statement never runs; a broken gzip stream or other bytes fail with ArtifactCorrupt. Rows
 * loaded before the end stay in the sandbox, which a failed drill discards. A piece that fails
 * before the end does not stop the reading: the rest is read (not loaded) so that a broken
 * artifact, the likely cause, is what the failure names.
 */
export async function parallelRestore(deps: ActivityDeps, sandbox: SandboxHandle, input: DumpInput, opts: ParallelRestoreOptions = {}): Promise<ParallelRestoreStats> {
  const sessions = opts.sessions ?? parallelSessions(os.cpus().length);
  // Schema and rows go through driver sessions on the socket (no process per piece); the post
  // part, with its DELIMITER blocks, through the client, once.
  const pool = await Promise.all(Array.from({ length: sessions + 1 }, () => openSession({ socket: sandbox.socketPath }, { user: 'root' })));
  return new ParallelRestore(deps, sandbox, input, opts, pool).run();
}

/** The parallel restore with heartbeats carrying its progress; cancelling the activity stops it. */
export function parallelRestoreWithHeartbeat(deps: ActivityDeps, sandbox: SandboxHandle, input: DumpInput, opts: { expectedSha256?: string; spillDir?: string } = {}): Promise<ParallelRestoreStats> {
  const started = Date.now();
  let last: ParallelRestoreProgress = { chunks: 0, bytes: 0, loadDataRows: 0, insertStatements: 0, loadedBytes: 0, storedBytesRead: 0, plainBytesRead: 0, readToEnd: false };
  return withHeartbeat(
    () => ({
      phase: 'restore',
      method: 'parallel',
      chunks: last.chunks,
      seconds: Math.round((Date.now() - started) / 1000),
      work: restoreWork(started, { ...last, rows: last.loadDataRows }, input.bytes),
    }),
    (signal) => parallelRestore(deps, sandbox, input, { ...opts, progress: (p) => void (last = p), signal }),
  );
}

/** One run of {@link parallelRestore}: the reader, the schedule of pieces on sessions, and the totals. */
class ParallelRestore {
  private failure: DrillError | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly client: string[];
  private readonly dispatcher: SessionDispatcher;
  private readonly readAhead: ReadAhead;
  private readonly ddlSession: SqlSession;
  private readonly idle: SqlSession[];
  private readonly columns = new TableColumns();
  private readonly counts: ChunkCounts = { loadDataRows: 0, unchangedRows: 0, insertStatements: 0, rowsLoaded: {} };
  /** The views, routines, triggers and events the dump creates, for the checks of a dump restored as taken. */
  private readonly declared = new DeclaredObjects();
  private readonly chunkContext: ChunkLoaderContext;
  private chunks = 0;
  private bytes = 0;
  private loadedBytes = 0;
  private storedBytesRead = 0;
  private plainBytesRead = 0;
  private readToEnd = false;
  private readonly chunkNumbers = new Map<string, number>();
  private ddlDone: Promise<void> = Promise.resolve();
  private readonly indexBuilds = new Map<string, DeferredBuild>();
  /** Tables named by a foreign key so far (db.table). */
  private readonly referenced = new Set<string>();
  /** Tables (db.table) whose rows go into their clustered index alone: their chunks share sessions. */
  private readonly clusteredOnly = new Set<string>();
  private indexesBuilt = 0;
  private schemaMs = 0;
  private indexesMs = 0;
  private postMs = 0;
  private firstChunkAt: number | undefined;
  private lastChunkAt: number | undefined;
  /** The table whose rows are being scheduled: its keys are built once all its chunks are done. */
  private openTable: { deferred: Promise<DeferredBuild[]>; chunks: Promise<void>[] } | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly hash: Hash | undefined;
  private tail: Buffer = Buffer.alloc(0);
  private readonly schemaFilter: SystemSchemaFilter | undefined;
  private readonly into: IntoDatabase | undefined;

  constructor(
    private readonly deps: ActivityDeps,
    private readonly sandbox: SandboxHandle,
    private readonly input: DumpInput,
    private readonly opts: ParallelRestoreOptions,
    private readonly pool: SqlSession[],
  ) {
    this.signal = opts.signal;
    this.client = localClient(sandbox.flavor);
    this.dispatcher = new SessionDispatcher(pool.length - 1);
    this.readAhead = new ReadAhead(opts.spillDir, opts.memoryBytes ?? HELD_IN_MEMORY_BYTES);
    this.ddlSession = pool[pool.length - 1];
    this.idle = pool.slice(0, pool.length - 1);
    this.hash = opts.expectedSha256 !== undefined ? createHash('sha256') : undefined;
    this.schemaFilter = input.skipSystemSchemas ? new SystemSchemaFilter() : undefined;
    this.into = input.intoDatabase ? new IntoDatabase(input.intoDatabase) : undefined;
    this.chunkContext = {
      deps,
      sandbox,
      client: this.client,
      signal: this.signal,
      failed: () => this.failure !== undefined,
      fail: (error) => void (this.failure ??= error),
      counts: this.counts,
    };
  }

  async run(): Promise<ParallelRestoreStats> {
    const splitter = new DumpSplitter();
    const signal = this.signal;
    let input: Duplex | undefined;
    try {
      const file = await this.input.open();
      file.on('data', (c: Buffer) => {
        this.hash?.update(c);
        this.storedBytesRead += c.length;
      });
      // pipeline, not pipe: a read error (a missing file) reaches the loop instead of stalling it.
      input = pipeline(file, decompressor(this.input.compression), () => undefined);
      for await (const data of input as AsyncIterable<Buffer>) {
        this.tail = keepDumpTail(this.tail, data);
        this.plainBytesRead += data.length;
        this.reportProgress();
        if (signal?.aborted) break;
        // After a failed piece, read on without loading: the end of the stream tells whether the artifact caused it.
        if (this.failure) continue;
        for (const piece of splitter.pushBytes(this.rewrite(data))) await this.schedule(piece);
        // The reader runs ahead of the sessions; between its reads, their conversions and streams go first.
        await yieldToIo();
      }
      // The whole stream was read and gunzip found it whole. A broken artifact replaces a piece's
      // failure: that piece most likely failed on the artifact's garbage or its cut statement.
      this.readToEnd = true;
      if (!signal?.aborted) this.failure = this.artifactProblem() ?? this.failure;
      if (!this.failure && !signal?.aborted) await this.finish(splitter);
    } catch (err) {
      this.failure = this.readFailure(err);
    } finally {
      input?.destroy();
      // Tasks start others (a table's rows start its key build): settle until none is left.
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      for (const build of this.indexBuilds.values()) build.finish();
      await Promise.allSettled([...this.pool.map((session) => session.close()), this.readAhead.close()]);
    }
    if (this.failure) throw this.failure;
    if (signal?.aborted) throw new DrillError(DrillErrorTypes.Transient, `parallel restore in sandbox ${this.sandbox.name} was cancelled`);
    return this.stats();
  }

  /** A team's dump as the splitter needs it: into its database, without system schemas. `undefined`: the stream's end. */
  private rewrite(data: Buffer | undefined): Buffer {
    let bytes = data ?? Buffer.alloc(0);
    if (this.into) bytes = data ? this.into.push(bytes) : Buffer.concat([this.into.push(bytes), this.into.finish()]);
    if (this.schemaFilter) bytes = data ? this.schemaFilter.push(bytes) : Buffer.concat([this.schemaFilter.push(bytes), this.schemaFilter.finish()]);
    return bytes;
  }

  /** The stream's last line and pending schema, then, once every row is in, the post part (triggers, views, GTID tail). */
  private async finish(splitter: DumpSplitter): Promise<void> {
    if (this.schemaFilter || this.into) for (const piece of splitter.pushBytes(this.rewrite(undefined))) await this.schedule(piece);
    for (const piece of splitter.finishBytes()) await this.schedule(piece);
    const rest = splitter.finish();
    for (const piece of rest.filter((p) => p.kind === 'ddl')) await this.schedule(piece);
    this.closeTable();
    while (this.inFlight.size > 0 && !this.failure) await Promise.all([...this.inFlight]);
    const postStarted = Date.now();
    for (const piece of rest.filter((p) => p.kind === 'post')) {
      this.declared.push(piece.sql.toString('utf8'));
      await this.runWithClient(piece);
      this.loaded(piece.sql.length);
    }
    this.postMs = Date.now() - postStarted;
  }

  /**
   * zlib's errors (Z_DATA_ERROR "incorrect data check", Z_BUF_ERROR "unexpected end of file") say
   * the artifact is broken: that replaces a piece's failure too. Anything else (a read error) does not.
   */
  private readFailure(err: unknown): DrillError {
    const zlibError = /^Z_/.test(String((err as NodeJS.ErrnoException).code));
    const unreadable = zlibError
      ? new DrillError(DrillErrorTypes.ArtifactCorrupt, `the ${this.input.compression} stream of the dump ${this.input.name} is broken (${(err as Error).message}): the artifact was truncated or corrupted; verify it against its manifest or take a new backup`, { details: { dumpFile: this.input.name }, cause: err })
      : new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump ${this.input.name} could not be read for a parallel restore: ${(err as Error).message}`, { details: { dumpFile: this.input.name }, cause: err });
    return zlibError ? unreadable : (this.failure ?? unreadable);
  }

  /** What the whole stream says about the artifact: bytes not the manifest's, or a dump without its trailer. */
  private artifactProblem(): DrillError | undefined {
    const sha256 = this.hash?.digest('hex');
    if (sha256 !== undefined && sha256 !== this.opts.expectedSha256)
      return new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump ${this.input.name} has sha256 ${sha256} but its manifest says ${this.opts.expectedSha256}: its bytes changed after publication`, {
        details: { dumpFile: this.input.name, actual: sha256, expected: this.opts.expectedSha256 },
      });
    return incompleteDumpError(this.input.name, this.tail.toString('utf8'));
  }

  private stats(): ParallelRestoreStats {
    const span = this.firstChunkAt !== undefined && this.lastChunkAt !== undefined ? this.lastChunkAt - this.firstChunkAt : 0;
    return {
      sessions: this.pool.length - 1,
      chunks: this.chunks,
      bytes: this.bytes,
      ...this.counts,
      indexesBuilt: this.indexesBuilt,
      spilledChunks: this.readAhead.spilledFiles,
      skippedSchemas: [...(this.schemaFilter?.skipped ?? [])],
      declaredObjects: this.declared.objects,
      schemaSeconds: this.schemaMs / 1000,
      dataSeconds: span / 1000,
      indexesSeconds: this.indexesMs / 1000,
      postSeconds: this.postMs / 1000,
    };
  }

  private describePiece(piece: DumpPiece): string {
    return piece.kind === 'chunk' ? `rows of ${piece.table}` : piece.kind === 'ddl' ? "the dump's schema" : "the dump's triggers, routines and views";
  }

  private failPiece(piece: DumpPiece, err: unknown): void {
    this.failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${this.describePiece(piece)} in sandbox ${this.sandbox.name} failed: ${(err as Error).message.slice(0, 1200)}`, {
      details: { kind: piece.kind, table: piece.table },
      cause: err,
    });
  }

  /** Schedules a piece; a row chunk once the read-ahead holds its bytes (the reader may wait there for room). */
  private async schedule(piece: DumpPiece): Promise<void> {
    if (piece.kind !== 'chunk') this.declared.push(piece.sql.toString('utf8'));
    if (piece.kind === 'ddl') {
      // The rows of the table before this piece are all scheduled: its held-back keys follow them.
      this.closeTable();
      // In dump order, on their own session: a table exists before any of its rows arrive.
      const deferred = this.ddlDone.then(() => this.runDdl(piece)).then((builds) => (this.loaded(piece.sql.length), builds));
      const task = deferred.then(() => undefined);
      this.ddlDone = task;
      this.openTable = { deferred, chunks: [] };
      this.keep(task);
      return;
    }
    const table = piece.table ?? '';
    const chunkNumber = (this.chunkNumbers.get(table) ?? 0) + 1;
    this.chunkNumbers.set(table, chunkNumber);
    const task = this.chunkTask(table, await this.readAhead.hold(piece.sql), this.ddlDone, chunkNumber);
    this.openTable?.chunks.push(task);
    this.keep(task);
  }

  /**
   * A row chunk's load, once its table exists and a session is its. Given the held bytes, not
   * the piece: a closure over the piece would keep a spilled chunk's bytes in memory.
   */
  private async chunkTask(table: string, waiting: Held, after: Promise<void>, chunkNumber: number): Promise<void> {
    await after;
    await this.dispatcher.acquire(table, { shared: this.clusteredOnly.has(table) });
    const session = this.idle.pop()!;
    try {
      if (this.failure || this.signal?.aborted) return;
      const sql = await this.readAhead.take(waiting);
      this.firstChunkAt ??= Date.now();
      await loadChunk(this.chunkContext, this.columns, session, { table, sql, number: chunkNumber });
      this.lastChunkAt = Date.now();
      this.chunks++;
      this.bytes += sql.length;
      this.loaded(sql.length);
    } catch (err) {
      this.failPiece({ kind: 'chunk', table, sql: Buffer.alloc(0) }, err);
    } finally {
      this.idle.push(session);
      this.dispatcher.release(table);
      await this.readAhead.done(waiting);
    }
  }

  private loaded(bytes: number): void {
    this.loadedBytes += bytes;
    this.reportProgress();
  }

  private reportProgress(): void {
    this.opts.progress?.({
      chunks: this.chunks,
      bytes: this.bytes,
      loadDataRows: this.counts.loadDataRows,
      insertStatements: this.counts.insertStatements,
      loadedBytes: this.loadedBytes,
      storedBytesRead: this.storedBytesRead,
      plainBytesRead: this.plainBytesRead,
      readToEnd: this.readToEnd,
    });
  }

  private keep(task: Promise<void>): void {
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private closeTable(): void {
    if (!this.openTable) return;
    const { deferred, chunks: rows } = this.openTable;
    this.openTable = undefined;
    this.keep(
      (async () => {
        const builds = await deferred;
        await Promise.allSettled(rows);
        await Promise.all(builds.map((build) => this.buildIndexes(build)));
      })(),
    );
  }

  /**
   * A schema piece, with the plain secondary keys of its tables held back where that wins
   * (domain/dump/deferred-indexes.ts): they are added once the table's rows are in. A table
   * whose foreign keys reference a table still waiting for its keys waits for them first.
   */
  private async runDdl(piece: DumpPiece): Promise<DeferredBuild[]> {
    const began = Date.now();
    try {
      return await this.runDdlStatements(piece);
    } finally {
      this.schemaMs += Date.now() - began;
    }
  }

  private async runDdlStatements(piece: DumpPiece): Promise<DeferredBuild[]> {
    const deferred: DeferredBuild[] = [];
    const settings: string[] = [];
    let db: string | undefined;
    for (const statement of statementsOf(piece.sql)) {
      if (this.failure) return deferred;
      const use = /^USE `((?:[^`]|``)+)`;/.exec(statement);
      if (use) db = use[1].replace(/``/g, '`');
      if (/^(\/\*!\d+ )?SET /.test(statement) && !/@@GLOBAL/i.test(statement)) settings.push(statement);
      try {
        let sql = statement;
        const create = /^CREATE TABLE `((?:[^`]|``)+)`/.exec(statement);
        if (create) {
          const parents = referencedTables(statement).map((r) => `${r.database ?? db}.${r.table}`);
          for (const parent of parents) {
            this.referenced.add(parent);
            await this.indexBuilds.get(parent)?.done;
          }
          // A table some earlier table's foreign key references keeps its keys: the constraint may need one.
          const name = `${db}.${create[1].replace(/``/g, '`')}`;
          const split = !this.referenced.has(name) ? deferSecondaryIndexes(statement) : undefined;
          if (split) {
            sql = split.create;
            let finish!: () => void;
            const done = new Promise<void>((resolve) => (finish = resolve));
            const build = { table: `${db}.${split.table}`, db, settings: [...settings], sql: split.addIndexes, done, finish };
            this.indexBuilds.set(build.table, build);
            deferred.push(build);
          }
          if (loadsIntoClusteredIndexOnly(sql)) this.clusteredOnly.add(name);
        }
        await this.ddlSession.query(sql);
      } catch (err) {
        this.failPiece(piece, err);
      }
    }
    return deferred;
  }

  /** Adds a table's held-back keys in one ALTER (one sorted build per key), on a loading session. */
  private async buildIndexes(build: DeferredBuild): Promise<void> {
    try {
      if (this.failure) return;
      // Before the other tables' chunks: the build runs beside their loads, not after them.
      await this.dispatcher.acquire(build.table, { first: true });
      const session = this.idle.pop()!;
      try {
        // The dump's own session settings (SQL_MODE, FOREIGN_KEY_CHECKS…), then the table's database.
        for (const setting of build.settings) await session.query(setting);
        if (build.db !== undefined) await session.query(`USE \`${build.db.replace(/`/g, '``')}\``);
        const began = Date.now();
        await session.query(build.sql);
        this.indexesMs += Date.now() - began;
        this.indexesBuilt++;
      } catch (err) {
        this.failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore in sandbox ${this.sandbox.name} failed building the secondary indexes of ${build.table} after its rows: ${(err as Error).message.slice(0, 1200)}`, {
          details: { table: build.table },
          cause: err,
        });
      } finally {
        this.idle.push(session);
        this.dispatcher.release(build.table);
      }
    } finally {
      build.finish();
    }
  }

  /** The post part, with its DELIMITER blocks, through the server's own client. */
  private async runWithClient(piece: DumpPiece): Promise<void> {
    if (this.failure) return;
    const result = await this.deps.runtime.exec(this.sandbox.name, this.client, { stdin: Readable.from([piece.sql]), env: ['TZ=UTC'], signal: this.signal });
    if (result.exitCode !== 0 && !this.failure)
      this.failure = new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${this.describePiece(piece)} in sandbox ${this.sandbox.name} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, {
        details: { exitCode: result.exitCode, kind: piece.kind },
      });
  }
}
