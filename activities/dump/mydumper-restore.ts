/**
 * Restores a mydumper directory into the sandbox with the engine's own loader (the sandbox
 * images have no myloader): databases and table schemas on one session, then the data files
 * over several sessions at once (each file streamed from the folder or the bucket, cut into
 * chunks by the dump splitter and loaded by the parallel restore's chunk loader, rows counted
 * per table), then routines and events, views, triggers. Every file's bytes are hashed as they
 * are read: a directory that is not the one the door checks passed fails before its views,
 * routines and triggers run.
 */
import os from 'node:os';
import { openMember } from '../../adapters/backup-directory';
import { directorySha256, observation as directoryObservation } from '../../adapters/directory-files';
import { openSession, runOnSessions } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { openObjectStore } from '../../adapters/object-store';
import type { ObjectStore } from '../../adapters/object-store';
import type { BackupOrigin } from '../../domain/artifacts/manifest';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import { pathInDirectory } from '../../domain/backups/directory';
import { MydumperDataFeed, isNamesBinary, misplacedCharsetSetting, mydumperStatements, planMydumperLoad, tableKey } from '../../domain/backups/mydumper';
import type { MydumperFile } from '../../domain/backups/mydumper';
import { DeclaredObjects } from '../../domain/dump/declared-objects';
import { parallelSessions } from '../../domain/dump/session-dispatcher';
import { DumpSplitter } from '../../domain/dump/splitter';
import type { DumpPiece } from '../../domain/dump/splitter';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { localClient } from '../../domain/flavors';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { RestoreOutcome, SandboxHandle } from '../types';
import { TableColumns, loadChunk, yieldToIo } from './chunk-loader';
import type { ChunkCounts, ChunkLoaderContext } from './chunk-loader';

export interface MydumperRestoreRequest {
  origin: BackupOrigin;
  /** The manifest's sha256 (over the files' sha256s): the bytes read must give it. */
  expectedSha256: string;
  sessions?: number;
}

/** The restore with heartbeats carrying its progress; cancelling the activity stops it. */
export async function restoreMydumperDirectory(deps: ActivityDeps, sandbox: SandboxHandle, req: MydumperRestoreRequest): Promise<RestoreOutcome> {
  const store = await openObjectStore(parseBackupLocation(req.origin.location, req.origin.s3 ?? {}));
  const run = new MydumperRestore(deps, sandbox, store, req);
  try {
    return await withHeartbeat(() => ({ phase: 'restore', method: 'mydumper', ...run.progress() }), (signal) => run.run(signal));
  } finally {
    store.close();
  }
}

class MydumperRestore {
  private readonly counts: ChunkCounts = { loadDataRows: 0, unchangedRows: 0, insertStatements: 0, rowsLoaded: {} };
  private readonly columns = new TableColumns();
  private readonly declared = new DeclaredObjects();
  private readonly hashes = new Map<string, string>();
  private readonly notes: string[] = [];
  private failure: DrillError | undefined;
  private bytes = 0;
  private chunks = 0;
  private filesLoaded = 0;
  private readonly started = Date.now();

  constructor(
    private readonly deps: ActivityDeps,
    private readonly sandbox: SandboxHandle,
    private readonly store: ObjectStore,
    private readonly req: MydumperRestoreRequest,
  ) {}

  progress() {
    return { files: this.filesLoaded, chunks: this.chunks, bytes: this.bytes, rows: Object.values(this.counts.rowsLoaded).reduce((n, r) => n + r, 0), seconds: Math.round((Date.now() - this.started) / 1000) };
  }

  private get dirKey(): string {
    return this.req.origin.key;
  }

  async run(signal: AbortSignal | undefined): Promise<RestoreOutcome> {
    const files = await this.store.listFiles(this.dirKey);
    const observed = directoryObservation(files);
    if (observed.etag !== this.req.origin.observed.etag)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${this.req.origin.where} changed since its door checks (${this.req.origin.observed.size} bytes then, ${observed.size} bytes in ${files.length} files now): the team's job rewrote it; drill it again`, { details: { where: this.req.origin.where } });
    const plan = planMydumperLoad(files.map((f) => ({ path: pathInDirectory(this.dirKey, f.key), size: f.size })));
    const sessions = this.req.sessions ?? parallelSessions(os.cpus().length);
    const pool = await Promise.all(Array.from({ length: sessions + 1 }, () => openSession({ socket: this.sandbox.socketPath }, { user: 'root' })));
    const ddl = pool[sessions]!;
    const times = { schema: 0, data: 0, post: 0 };
    try {
      let began = Date.now();
      for (const f of [...plan.databases, ...plan.schemas]) await this.runFile(ddl, f, await this.readText(f));
      // Small files read now, so that the whole directory is hashed before any of them runs.
      const later = { post: await this.readAll(plan.post), views: await this.readAll(plan.views), triggers: await this.readAll(plan.triggers) };
      const loaded = new Set([...plan.databases, ...plan.schemas, ...plan.data, ...plan.post, ...plan.views, ...plan.triggers].map((f) => f.path));
      for (const f of files) if (!loaded.has(pathInDirectory(this.dirKey, f.key))) await this.readText({ path: pathInDirectory(this.dirKey, f.key) });
      times.schema = Date.now() - began;

      began = Date.now();
      const context = this.chunkContext(signal);
      await runOnSessions(pool.slice(0, sessions), plan.data, (session, f) => this.loadDataFile(context, session, f), signal);
      if (this.failure) throw this.failure;
      times.data = Date.now() - began;

      this.checkSha256();
      began = Date.now();
      for (const [f, text] of [...later.post, ...later.views, ...later.triggers]) await this.runFile(ddl, f, text);
      times.post = Date.now() - began;
    } finally {
      await Promise.allSettled(pool.map((s) => s.close()));
    }
    if (signal?.aborted) throw new DrillError(DrillErrorTypes.Transient, `restore of ${this.req.origin.where} in sandbox ${this.sandbox.name} was cancelled`);
    return {
      seconds: (Date.now() - this.started) / 1000,
      schemaSeconds: times.schema / 1000,
      dataSeconds: times.data / 1000,
      postSeconds: times.post / 1000,
      rows: this.counts.loadDataRows,
      unchangedRows: this.counts.unchangedRows,
      bytes: this.bytes,
      rowsLoaded: this.counts.rowsLoaded,
      declaredObjects: this.declared.objects,
      ...(plan.skippedSchemas.length > 0 ? { skippedSchemas: plan.skippedSchemas } : {}),
      ...(this.notes.length > 0 ? { notes: this.notes } : {}),
    };
  }

  private keyOf(f: Pick<MydumperFile, 'path'>): string {
    return this.dirKey + f.path;
  }

  /** A whole (small) file, decompressed by its magic bytes; its raw bytes hashed on the way. */
  private async readText(f: Pick<MydumperFile, 'path'>): Promise<string> {
    const member = await openMember(this.store, this.keyOf(f));
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of member.plain) chunks.push(chunk);
    } catch (err) {
      throw this.unreadable(f, err);
    } finally {
      member.close();
    }
    this.hashes.set(f.path, member.sha256());
    return Buffer.concat(chunks).toString('utf8');
  }

  private async readAll(files: MydumperFile[]): Promise<[MydumperFile, string][]> {
    const out: [MydumperFile, string][] = [];
    for (const f of files) out.push([f, await this.readText(f)]);
    return out;
  }

  private unreadable(f: Pick<MydumperFile, 'path'>, err: unknown): DrillError {
    if ((err as DrillError).type === DrillErrorTypes.Transient) return err as DrillError;
    return new DrillError(DrillErrorTypes.ArtifactCorrupt, `${this.store.where(this.keyOf(f))} could not be read whole during the restore (${(err as Error).message.slice(0, 300)}): it changed or broke after its door checks; drill it again`, { cause: err, details: { file: f.path } });
  }

  /** A schema, post, view or trigger file, statement by statement, in its database. */
  private async runFile(session: SqlSession, f: MydumperFile, text: string): Promise<void> {
    if (f.kind !== 'database' && f.database !== undefined) await session.query(`USE \`${f.database.replace(/`/g, '``')}\``);
    this.declared.push(`USE \`${(f.database ?? '').replace(/`/g, '``')}\`;\n${f.kind === 'post' || f.kind === 'view' || f.kind === 'triggers' ? text : ''}`);
    for (const statement of mydumperStatements(text)) {
      if (isNamesBinary(statement)) continue;
      const misplaced = misplacedCharsetSetting(statement);
      if (misplaced) {
        this.note(`${f.path}: skipped SET ${misplaced} (mydumper 0.10 reads SHOW FUNCTION/PROCEDURE STATUS by column number; MySQL 9 added a Language column)`);
        continue;
      }
      try {
        await session.query(statement);
      } catch (err) {
        throw new DrillError(DrillErrorTypes.ToolFailed, `restore of ${f.path} of ${this.req.origin.where} in sandbox ${this.sandbox.name} failed: ${(err as Error).message.slice(0, 1000)}`, { cause: err, details: { file: f.path, kind: f.kind } });
      }
    }
  }

  private note(text: string): void {
    if (this.notes.length < 20 && !this.notes.includes(text)) this.notes.push(text);
  }

  private chunkContext(signal: AbortSignal | undefined): ChunkLoaderContext {
    return {
      deps: this.deps,
      sandbox: this.sandbox,
      client: localClient(this.sandbox.flavor),
      signal,
      failed: () => this.failure !== undefined || signal?.aborted === true,
      fail: (error) => void (this.failure ??= error),
      counts: this.counts,
    };
  }

  /** One data file, streamed: the splitter cuts it into chunks, each loaded before the next is read. */
  private async loadDataFile(context: ChunkLoaderContext, session: SqlSession, f: MydumperFile): Promise<void> {
    if (context.failed()) return;
    const table = tableKey(f.database!, f.table!);
    const feed = new MydumperDataFeed(f.database!, f.table!);
    const splitter = new DumpSplitter();
    const member = await openMember(this.store, this.keyOf(f));
    let number = 0;
    const load = async (pieces: DumpPiece[]) => {
      for (const piece of pieces) {
        if (piece.kind !== 'chunk' || context.failed()) continue;
        await loadChunk(context, this.columns, session, { table, sql: piece.sql, number: ++number });
        this.chunks++;
      }
    };
    try {
      for await (const data of member.plain) {
        if (context.failed()) break;
        this.bytes += data.length;
        await load(splitter.pushBytes(feed.push(data)));
        await yieldToIo();
      }
      if (!context.failed()) await load([...splitter.pushBytes(feed.finish()), ...splitter.finishBytes(), ...splitter.finish()]);
    } catch (err) {
      context.fail(this.unreadable(f, err));
    } finally {
      member.close();
    }
    if (!context.failed()) {
      this.hashes.set(f.path, member.sha256());
      this.filesLoaded++;
    }
  }

  /** The files read must be the files the door checks hashed (manifest sha256). */
  private checkSha256(): void {
    const sha256 = directorySha256([...this.hashes].map(([path, sha]) => ({ path, sha256: sha })));
    if (sha256 !== this.req.expectedSha256)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${this.req.origin.where} has sha256 ${sha256} but had ${this.req.expectedSha256} at its door checks: its files changed since; drill it again`, {
        details: { where: this.req.origin.where, actual: sha256, expected: this.req.expectedSha256 },
      });
  }
}
