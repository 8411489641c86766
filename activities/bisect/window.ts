/**
 * The bisect's window: the archived transactions a replay plan applies, kept as a file in the
 * bisect's work folder (a window of 100k transactions is far too big for a workflow history,
 * which sees only their numbers); replay steps between two points of it through the applier;
 * the consistency query; and the culprit as the binlog tool decodes it.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { drillWorkDir } from '../../adapters/local-layout';
import { withSession, type SqlSession } from '../../adapters/mysql';
import type { AssertionExpect } from '../../domain/checks/assertions';
import { assertionResult } from '../../domain/checks/assertions';
import { culpritOf, parseRowChanges, type BisectAnswer } from '../../domain/bisect/answer';
import type { BinlogTransaction } from '../../domain/binlog/events';
import { compareCoordinates } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import { replaySegments } from '../../domain/recovery/replay-segments';
import { summarizeTransaction, transactionEnd, transactionStart, type TransactionSummary } from '../../domain/recovery/transactions';
import type { BinlogCoordinates, Flavor } from '../../domain/types';
import { archivedNames, localArchiveDir } from '../artifacts/catalog';
import { loadArchive } from '../binlog/plan-replay';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { replayThroughApplier, replayWorkersFor } from '../replay/applier';
import { SANDBOX_BINLOG_DIR, assertOwnSandbox } from '../sandbox/sandbox';
import type { ReplayPlan, SandboxHandle } from '../types';

interface BisectWindowFile {
  archiveDir: string;
  start: BinlogCoordinates;
  stop: BinlogCoordinates;
  transactions: BinlogTransaction[];
}

export interface BisectWindow {
  transactions: number;
  first?: TransactionSummary;
  last?: TransactionSummary;
}

/** Bytes of the binlog tool's decoding of the culprit read at most: enough for the first rows of every table. */
const DECODED_BYTES = 256 * 1024;

function windowFile(deps: ActivityDeps, drillId: string): string {
  return path.join(drillWorkDir(deps.paths, drillId), 'bisect-window.json');
}

/**
 * The windows this worker read last, by file, with the file's identity when read: parsing a
 * window of 100k transactions takes 0.15-0.2 s, and a bisect reads its window once per scan.
 * The file is only ever replaced whole (a rename), which changes its inode.
 */
const windowCache = new Map<string, { key: string; window: BisectWindowFile }>();
/** Two: a worker seldom runs more bisects at once, and a big window's list is large. */
const WINDOWS_CACHED = 2;

export async function readWindow(deps: ActivityDeps, drillId: string): Promise<BisectWindowFile> {
  const file = windowFile(deps, drillId);
  const st = await stat(file).catch(() => undefined);
  if (st === undefined) throw new DrillError(DrillErrorTypes.BadConfig, `bisect ${drillId} has no window file ${file}: its work folder is gone (another worker host, or removed); start the bisect again`);
  const key = windowKey(st);
  const cached = windowCache.get(file);
  if (cached?.key === key) return cached.window;
  return cacheWindow(file, key, JSON.parse(await readFile(file, 'utf8')) as BisectWindowFile);
}

function cacheWindow(file: string, key: string, window: BisectWindowFile): BisectWindowFile {
  windowCache.delete(file);
  windowCache.set(file, { key, window });
  for (const old of windowCache.keys()) if (windowCache.size > WINDOWS_CACHED) windowCache.delete(old);
  return window;
}

function windowKey(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** Where point k is: the backup's coordinates for 0, else the end of the k-th transaction. */
export function pointCoordinates(w: BisectWindowFile, point: number): BinlogCoordinates {
  if (point === 0) return w.start;
  const t = w.transactions[point - 1];
  if (!t) throw new DrillError(DrillErrorTypes.BadTarget, `bisect point ${point} is beyond the window's ${w.transactions.length} transactions`);
  return transactionEnd(t);
}

/** The consistency query in a read-only transaction; an error (a dropped table) is a failing value. */
export async function evaluateQuery(s: SqlSession, query: string, expect: AssertionExpect): Promise<{ passed: boolean; value: string }> {
  await s.query('START TRANSACTION READ ONLY');
  try {
    const result = assertionResult('bisect', query, expect, await s.query(query));
    return { passed: result.passed, value: result.actual ?? '' };
  } catch (err) {
    // The server is gone (Transient): retried, not a value.
    if ((err as DrillError).type === DrillErrorTypes.Transient) throw err;
    return { passed: false, value: `error: ${(err as Error).message.replace(/^query on .*? failed: /, '')}` };
  } finally {
    await s.query('ROLLBACK').catch(() => undefined);
  }
}

export function bisectWindowActivities(deps: ActivityDeps) {
  return {
    /** Lists the transactions the plan applies (backup → target) into the bisect's work folder; idempotent. */
    async prepareBisectWindow(req: { drillId: string; source: string; flavor: Flavor; plan: Pick<ReplayPlan, 'archiveDir' | 'start' | 'stop'> }): Promise<BisectWindow> {
      const archive = await loadArchive(deps, req.source, req.flavor, req.plan.start);
      const transactions = archive.transactions.filter((t) => compareCoordinates(transactionStart(t), req.plan.start) >= 0 && compareCoordinates(transactionEnd(t), req.plan.stop) <= 0);
      const file = windowFile(deps, req.drillId);
      await mkdir(path.dirname(file), { recursive: true });
      const content: BisectWindowFile = { archiveDir: req.plan.archiveDir, start: req.plan.start, stop: req.plan.stop, transactions };
      await writeFile(`${file}.new`, JSON.stringify(content));
      await rename(`${file}.new`, file);
      // The first scan, on this worker, need not parse it again.
      cacheWindow(file, windowKey(await stat(file)), content);
      return { transactions: transactions.length, ...(transactions.length > 0 ? { first: summarizeTransaction(transactions[0]!), last: summarizeTransaction(transactions.at(-1)!) } : {}) };
    },

    /**
     * Replays from point `from` to point `to` through the sandbox's applier, stopping exactly at
     * the end of transaction `to`. One attempt only: a retry would apply transactions twice
     * (the workflow rewinds to a snapshot instead).
     */
    async replayBisectStep(req: { drillId: string; sandbox: SandboxHandle; from: number; to: number }): Promise<{ seconds: number }> {
      const started = Date.now();
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      const w = await readWindow(deps, req.drillId);
      const [from, stop] = [pointCoordinates(w, req.from), pointCoordinates(w, req.to)];
      const segments = replaySegments(await archivedNames(await localArchiveDir(deps.paths, w.archiveDir)), from, stop, []);
      let last: object = {};
      await withHeartbeat(
        () => ({ phase: 'bisect', from: req.from, to: req.to, ...last }),
        (signal) => replayThroughApplier(deps, req.sandbox, { files: [...new Set(segments.flatMap((s) => s.files))], segments, stop }, (d) => void (last = d), signal, replayWorkersFor(req.sandbox)),
      );
      return { seconds: (Date.now() - started) / 1000 };
    },

    /** Runs the consistency query in a read-only transaction; an error (a dropped table) is a failing value. */
    async evaluateBisectQuery(req: { drillId: string; sandbox: SandboxHandle; query: string; expect: AssertionExpect }): Promise<{ passed: boolean; value: string; seconds?: number }> {
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      return withHeartbeat(() => ({ phase: 'bisect', step: 'query' }), () => withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, async (s) => {
        const started = Date.now();
        return { ...(await evaluateQuery(s, req.query, req.expect)), seconds: (Date.now() - started) / 1000 };
      }));
    },

    /** The culprit (1-based `index`) and the transaction before it, with its row changes as the binlog tool decodes them. */
    async describeBisectCulprit(req: { drillId: string; sandbox: SandboxHandle; index: number }): Promise<{ culprit: BisectAnswer['culprit']; previous?: TransactionSummary }> {
      const w = await readWindow(deps, req.drillId);
      const t = w.transactions[req.index - 1];
      if (!t) throw new DrillError(DrillErrorTypes.BadTarget, `bisect culprit ${req.index} is beyond the window's ${w.transactions.length} transactions`);
      const tool = FLAVOR_TOOLS[req.sandbox.flavor].binlog;
      const decode = `${tool} -v --base64-output=DECODE-ROWS --start-position=${t.startPosition} --stop-position=${t.endPosition} '${SANDBOX_BINLOG_DIR}/${t.file}' | head -c ${DECODED_BYTES}`;
      const out = await deps.runtime.exec(req.sandbox.name, ['bash', '-c', decode], { env: ['TZ=UTC'] });
      const rowChanges = out.exitCode === 0 ? parseRowChanges(out.stdout) : undefined;
      const previous = req.index >= 2 ? summarizeTransaction(w.transactions[req.index - 2]!) : undefined;
      return { culprit: culpritOf(t, req.index, rowChanges), ...(previous ? { previous } : {}) };
    },
  };
}
