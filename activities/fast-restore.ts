/**
 * Parallel logical restore: the worker reads the published dump, cuts it into DDL, per-table
 * INSERT chunks and a post part (domain/load-plan.ts), and feeds the chunks to several
 * driver sessions on the sandbox's socket at once. `gunzip | client` runs one statement at a time on
 * one core; this keeps every core parsing and inserting.
 */
import { createReadStream } from 'node:fs';
import os from 'node:os';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { openSession } from '../adapters/mysql';
import type { SqlSession } from '../adapters/mysql';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { localClient } from '../domain/flavors';
import { DumpSplitter, LineSplitter, loadParallelism, statementsOf } from '../domain/load-plan';
import type { LoadPiece } from '../domain/load-plan';
import { withHeartbeat } from './boundary';
import type { ActivityDeps } from './deps';
import type { SandboxHandle } from './sandbox';

export interface ParallelLoadStats {
  sessions: number;
  chunks: number;
  bytes: number;
}

/** A counting semaphore: at most `size` holders at once. */
function semaphore(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return {
    async acquire(): Promise<void> {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((r) => waiting.push(r));
    },
    release(): void {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * Loads `dumpFile` (a host path, gzip) into the sandbox with `sessions` sessions at once.
 * DDL pieces run in dump order, each table's chunks after its DDL, the post part last.
 * The first failing piece stops the load; its client error is the DrillError's message.
 */
export async function loadDumpInParallel(
  deps: ActivityDeps,
  sandbox: SandboxHandle,
  dumpFile: string,
  progress: (p: { chunks: number; bytes: number }) => void = () => undefined,
  signal?: AbortSignal,
  sessions = loadParallelism(os.cpus().length),
): Promise<ParallelLoadStats> {
  const client = localClient(sandbox.flavor);
  const slots = semaphore(sessions);
  // Bounds the chunks read ahead of the loaders: memory stays at a few chunks.
  const readAhead = semaphore(sessions * 2);
  let failure: DrillError | undefined;
  let chunks = 0;
  let bytes = 0;
  let ddlDone: Promise<void> = Promise.resolve();
  const inFlight = new Set<Promise<void>>();

  // Schema and rows go through driver sessions on the socket (no process per piece); the post
  // part, with its DELIMITER blocks, through the client, once.
  const pool = await Promise.all(Array.from({ length: sessions + 1 }, () => openSession({ socket: sandbox.socketPath }, { user: 'root' })));
  const ddlSession = pool[sessions];
  const idle = pool.slice(0, sessions);

  const describePiece = (piece: LoadPiece) => (piece.kind === 'chunk' ? `rows of ${piece.table}` : piece.kind === 'ddl' ? "the dump's schema" : "the dump's triggers, routines and views");

  async function runStatements(session: SqlSession, piece: LoadPiece): Promise<void> {
    for (const statement of statementsOf(piece.sql)) {
      if (failure) return;
      try {
        await session.query(statement);
      } catch (err) {
        failure ??= new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${describePiece(piece)} in sandbox ${sandbox.name} failed: ${(err as Error).message.slice(0, 1200)}`, {
          details: { kind: piece.kind, table: piece.table },
          cause: err,
        });
        return;
      }
    }
  }

  async function runWithClient(piece: LoadPiece): Promise<void> {
    if (failure) return;
    const result = await deps.runtime.exec(sandbox.name, client, { stdin: Readable.from([piece.sql]), env: ['TZ=UTC'], signal });
    if (result.exitCode !== 0 && !failure)
      failure = new DrillError(DrillErrorTypes.ToolFailed, `parallel restore of ${describePiece(piece)} in sandbox ${sandbox.name} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, {
        details: { exitCode: result.exitCode, kind: piece.kind },
      });
  }

  function schedule(piece: LoadPiece): void {
    let task: Promise<void>;
    if (piece.kind === 'ddl') {
      // In dump order, on their own session: a table exists before any of its rows arrive.
      task = ddlDone.then(() => runStatements(ddlSession, piece));
      ddlDone = task;
    } else {
      const after = ddlDone;
      task = (async () => {
        await after;
        await slots.acquire();
        const session = idle.pop()!;
        try {
          await runStatements(session, piece);
          chunks++;
          bytes += piece.sql.length;
          progress({ chunks, bytes });
        } finally {
          idle.push(session);
          slots.release();
          readAhead.release();
        }
      })();
    }
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }

  const splitter = new DumpSplitter();
  const lines = new LineSplitter();
  const input = createReadStream(dumpFile).pipe(createGunzip());
  try {
    for await (const data of input as AsyncIterable<Buffer>) {
      for (const line of lines.push(data)) {
        for (const piece of splitter.push(line)) {
          if (piece.kind === 'chunk') await readAhead.acquire();
          schedule(piece);
        }
      }
      if (failure || signal?.aborted) break;
    }
    if (!failure && !signal?.aborted) {
      for (const line of lines.finish()) for (const piece of splitter.push(line)) schedule(piece);
      const rest = splitter.finish();
      for (const piece of rest.filter((p) => p.kind === 'ddl')) schedule(piece);
      // The post part (triggers, views, GTID tail) only once every row is in.
      await Promise.all([...inFlight]);
      for (const piece of rest.filter((p) => p.kind === 'post')) await runWithClient(piece);
    }
  } catch (err) {
    failure ??= new DrillError(DrillErrorTypes.ArtifactCorrupt, `the dump ${dumpFile} could not be read for a parallel restore: ${(err as Error).message}`, { cause: err });
  } finally {
    input.destroy();
    await Promise.allSettled([...inFlight]);
    await Promise.allSettled(pool.map((session) => session.close()));
  }
  if (failure) throw failure;
  if (signal?.aborted) throw new DrillError(DrillErrorTypes.Transient, `parallel restore in sandbox ${sandbox.name} was cancelled`);
  return { sessions, chunks, bytes };
}

/** The parallel load with heartbeats carrying its progress; cancelling the activity stops it. */
export function restoreInParallel(deps: ActivityDeps, sandbox: SandboxHandle, dumpFile: string): Promise<ParallelLoadStats> {
  const started = Date.now();
  let last = { chunks: 0, bytes: 0 };
  return withHeartbeat(
    () => ({ phase: 'restore', method: 'parallel', ...last, seconds: Math.round((Date.now() - started) / 1000) }),
    (signal) => loadDumpInParallel(deps, sandbox, dumpFile, (p) => void (last = p), signal),
  );
}
