/**
 * Binlog replay through the sandbox server's own SQL applier, reading the archived binlogs
 * as relay logs: no client round trip per statement, no text parsing. Only the SQL thread
 * ever runs: the IO thread would connect to a source, and the sandbox has no network anyway.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { applierWorkers, sandboxCores } from '../../domain/replay/parallel-apply';
import { applierProgress, applierStatements, readApplierStatus, relayLinkScript, relayReplayLayout } from '../../domain/replay/relay-log';
import type { ApplierProgress, RelayPoint, RelayReplayLayout } from '../../domain/replay/relay-log';
import type { BinlogCoordinates, Flavor } from '../../domain/types';
import type { ReplayPlan } from '../types';
import { replayBytes, workProgress } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../types';
import { SANDBOX_BINLOG_DIR } from '../sandbox/sandbox';
import { localArchiveDir } from '../artifacts/catalog';

/** The longest wait between two looks at the applier's status. */
const POLL_MS = 200;

/**
 * The wait before the next look at the applier: an eighth of the time it has run so far, so a
 * step of a few milliseconds is seen done within a millisecond or two (a bisect runs many) and
 * a long replay is not polled more than five times a second.
 */
export function applierPollDelay(elapsedMs: number): number {
  return Math.min(POLL_MS, Math.max(1, Math.round(elapsedMs / 8)));
}

/** Stops and forgets any applier channel: a restore retried from the dump must not race a replay left running. */
export async function stopApplier(s: SqlSession, flavor: Flavor): Promise<void> {
  for (const stmt of applierStatements(flavor).reset) await s.query(stmt).catch(() => undefined);
}

async function progressOf(s: SqlSession, statusSql: string, until: RelayPoint): Promise<ApplierProgress> {
  const status = readApplierStatus((await s.query<Record<string, unknown>>(statusSql))[0]);
  return status ? applierProgress(status, until) : { state: 'stopped', relayFile: '', position: 0 };
}

/**
 * Waits in the server (ApplierStatements.waitForGtid); whether it returned before its timeout.
 * A wait that fails counts as returned: the status read next decides, and the loop sleeps.
 */
async function waitInServer(s: SqlSession, wait: string): Promise<boolean> {
  const rows = await s.query<{ waited: unknown }>(wait).catch(() => []);
  return Number(rows[0]?.waited ?? 0) !== -1;
}

/** Forgets any earlier channel and links the archived binlogs of `layout` into the sandbox's datadir as relay logs. */
export async function prepareRelayReplay(deps: ActivityDeps, sandbox: SandboxHandle, s: SqlSession, layout: RelayReplayLayout): Promise<void> {
  await stopApplier(s, sandbox.flavor);
  const linked = await deps.runtime.exec(sandbox.name, ['bash', '-c', relayLinkScript(layout, SANDBOX_BINLOG_DIR)], {});
  if (linked.exitCode !== 0) throw new DrillError(DrillErrorTypes.ToolFailed, `could not link the archived binlogs as relay logs in sandbox ${sandbox.name}: ${linked.stderr.trim().slice(-600)}`);
}

/**
 * One applier run: from `run.start` until `run.until`, waiting until it has committed the
 * transaction that ends there, then stopped (left configured: the channel shows where it ended).
 * Returns the milliseconds the applier ran.
 */
export async function runApplier(
  sandbox: SandboxHandle,
  s: SqlSession,
  run: RelayReplayLayout['runs'][number],
  opts: { first: boolean; stop: BinlogCoordinates; heartbeat: (p: ApplierProgress) => void; signal?: AbortSignal; workers?: number; stopGtid?: string },
): Promise<number> {
  const sql = applierStatements(sandbox.flavor, opts.workers ?? 0);
  for (const stmt of sql.position(run.start, opts.first)) await s.query(stmt);
  const started = Date.now();
  await s.query(sql.start(run.until));
  // With the stop's GTID, a wait in the server returns as the applier commits it; the status
  // read after it decides. One that returned short of the stop is followed by a poll's sleep;
  // one that timed out already took its time.
  const wait = opts.stopGtid ? sql.waitForGtid(opts.stopGtid) : undefined;
  let stoppedPolls = 0;
  for (;;) {
    const sleepAfter = wait ? await waitInServer(s, wait) : true;
    const p = await progressOf(s, sql.status, run.until);
    opts.heartbeat(p);
    if (p.state === 'reached') break;
    if (p.state === 'failed')
      throw new DrillError(DrillErrorTypes.ToolFailed, `the sandbox's applier stopped with error ${p.errno} while replaying binlogs toward ${opts.stop.file}:${opts.stop.position}: ${p.message}`, {
        details: { errno: p.errno, stop: opts.stop },
      });
    if (opts.signal?.aborted) {
      await s.query(sql.stop);
      throw new DrillError(DrillErrorTypes.Transient, `binlog replay in sandbox ${sandbox.name} was cancelled at relay log ${p.relayFile}:${p.position}`);
    }
    // Seen stopped twice, short of its stop and without an error: it will not move again.
    if (p.state === 'stopped' && ++stoppedPolls >= 2)
      throw new DrillError(DrillErrorTypes.ToolFailed, `the sandbox's applier stopped at relay log ${p.relayFile}:${p.position} before reaching ${run.until.relayFile}:${run.until.position} (binlog ${opts.stop.file}:${opts.stop.position})`);
    if (sleepAfter) await new Promise((r) => setTimeout(r, applierPollDelay(Date.now() - started)));
  }
  const ran = Date.now() - started;
  await s.query(sql.stop);
  return ran;
}

/**
 * Replays `plan` into the (already guarded) sandbox, one applier run per segment, and
 * returns once the applier has committed the transaction that ends at plan.stop. Always
 * starts afresh: the drill retries restore and replay together, from the dump. `workers`:
 * the applier's worker threads (replayWorkersFor; 0: one SQL thread).
 */
export async function replayThroughApplier(
  deps: ActivityDeps,
  sandbox: SandboxHandle,
  plan: Pick<ReplayPlan, 'files' | 'segments' | 'stop'>,
  heartbeat: (details: object) => void,
  signal?: AbortSignal,
  workers = 0,
): Promise<void> {
  const layout = relayReplayLayout(plan.files, plan.segments);
  await withSession({ socket: sandbox.socketPath }, { user: 'root' }, async (s) => {
    await prepareRelayReplay(deps, sandbox, s, layout);
    for (const [i, run] of layout.runs.entries()) {
      await runApplier(sandbox, s, run, { first: i === 0, stop: plan.stop, signal, workers, heartbeat: (p) => heartbeat({ phase: 'replay', method: 'applier', segment: i + 1, of: layout.runs.length, ...p }) });
    }
  });
}

/** The applier's worker threads for a drill's replay: the request's count, or one per core the sandbox may use (domain/replay/parallel-apply.ts). */
export function replayWorkersFor(sandbox: SandboxHandle, requested?: number): number {
  return applierWorkers({ flavor: sandbox.flavor, cores: sandboxCores(os.cpus().length, sandbox.cpus), requested });
}

/** The replay with heartbeats carrying the applier's position; cancelling the activity stops the applier. */
export async function replayWithApplier(deps: ActivityDeps, sandbox: SandboxHandle, plan: ReplayPlan, workers = 0): Promise<void> {
  const started = Date.now();
  const archiveDir = await localArchiveDir(deps.paths, plan.archiveDir);
  const files = await Promise.all(plan.files.map(async (name) => ({ name, bytes: await stat(path.join(archiveDir, name)).then((st) => st.size, () => 0) })));
  const binlogOf = new Map(relayReplayLayout(plan.files, plan.segments).links.map((l) => [l.relay, l.binlog]));
  let last: ReplayHeartbeat = { phase: 'replay', method: 'applier' };
  const work = () => {
    const at = last.state === 'reached' ? 'reached' : last.relayFile && binlogOf.has(last.relayFile) ? { file: binlogOf.get(last.relayFile)!, position: last.position ?? 0 } : undefined;
    const bytes = replayBytes(files, plan.start, plan.stop, at);
    return workProgress(started, bytes.bytesDone, { bytesTotal: bytes.bytesTotal });
  };
  return withHeartbeat(
    () => ({ ...last, seconds: Math.round((Date.now() - started) / 1000), work: work() }),
    (signal) => replayThroughApplier(deps, sandbox, plan, (d) => void (last = d as ReplayHeartbeat), signal, workers),
  );
}

type ReplayHeartbeat = { phase: 'replay'; method: 'applier'; state?: ApplierProgress['state']; relayFile?: string; position?: number };
