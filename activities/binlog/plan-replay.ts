/**
 * Replay planning: decides, from the archive, which files a replay reads and exactly where it
 * stops, refusing unreachable targets before any sandbox exists.
 */
import path from 'node:path';
import { updateArchiveStatus } from '../../adapters/archive-status';
import type { SourceSpec, TargetRequest } from '../../config/schema';
import type { BinlogTransaction } from '../../domain/binlog/events';
import { compareBinlogNames, compareCoordinates, filesForReplay, formatCoordinates } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { windowStatus } from '../../domain/metrics/recorder';
import { findArchiveGaps, type ArchiveGap } from '../../domain/recovery/archive-index';
import { backupLastCommitBound, chooseBaseBackup, type BackupCandidate } from '../../domain/recovery/base-backup';
import { expectedGtidSet } from '../../domain/recovery/proof';
import { replaySegments, resolveSkips, type SkipSpec } from '../../domain/recovery/replay-segments';
import { achievedRpoSeconds } from '../../domain/recovery/report';
import { resolveStop, type ResolvedStop } from '../../domain/recovery/resolve-stop';
import { describeTarget, resolveTargetRequest, type RecoveryTarget } from '../../domain/recovery/targets';
import { targetTimeMicros, transactionTimeMicros } from '../../domain/recovery/times';
import { summarizeTransaction } from '../../domain/recovery/transactions';
import { assertNoGapBetween, firstGapBetween, gapHidingTarget, gapLimitFile, recoverableWindow, type RecoverableWindow } from '../../domain/recovery/window';
import type { BinlogCoordinates, Flavor } from '../../domain/types';
import { archiveRef, archivedNames, listPublishedBackups, pullArchive, readArchiveIndex } from '../artifacts/catalog';
import { runningWorkflowId, withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { RecoveryPlan, ReplayPlan, SourceCheckpoint } from '../types';
import { hashFile, scanBinlogFileInSteps, type ScannedBinlog } from './scan-file';
import { alertNewArchiveGaps } from './archive-lag';
import { nextBisectStart, type FailedStart } from '../../domain/bisect/start';


interface PlanRequest {
  source: SourceSpec;
  flavor: Flavor;
  target: TargetRequest;
  checkpoint?: SourceCheckpoint;
  skip?: SkipSpec[];
  bestEffort?: boolean;
  /** A bisect's earlier starts, on which its query failed: the next older backup is chosen (domain/bisect/start.ts). */
  bisectStarts?: { tried: FailedStart[]; expected: string };
}

function recoveryTargetOf(req: PlanRequest): RecoveryTarget {
  return resolveTargetRequest(req.target, req.checkpoint?.point.coordinates);
}

/**
 * Reads the archive: files present, index and gaps; scans (and checks against the index's
 * sha256) the files from `from`'s file onwards: earlier ones can serve no replay from there.
 */
export async function loadArchive(deps: ActivityDeps, source: string, flavor: Flavor, from?: BinlogCoordinates) {
  const localDir = await pullArchive(deps.paths, source);
  const names = await archivedNames(localDir);
  if (names.length === 0) throw new DrillError(DrillErrorTypes.BinlogGap, `the binlog archive of source ${source} is empty: nothing can be replayed`);
  const index = await readArchiveIndex(deps.paths, source);
  const byName = new Map(index.files.map((f) => [f.file, f]));
  const transactions: BinlogTransaction[] = [];
  let archivedThrough: BinlogCoordinates | undefined;
  await withHeartbeat(
    () => ({ phase: 'plan', transactions: transactions.length }),
    async () => {
      for (const name of names) {
        if (from !== undefined && compareCoordinates({ file: name, position: Number.MAX_SAFE_INTEGER }, from) < 0) continue;
        const filePath = path.join(localDir, name);
        const entry = byName.get(name);
        const changed = ({ sha256: sha, bytes }: { sha256: string; bytes: number }) =>
          entry !== undefined && (sha !== entry.sha256 || bytes !== entry.bytes)
            ? new DrillError(DrillErrorTypes.ArtifactCorrupt, `archived binlog ${name} of source ${source} changed after archiving (sha256 ${sha}, ${bytes} bytes; index says ${entry.sha256}, ${entry.bytes} bytes)`, { details: { file: name } })
            : undefined;
        // In steps, so the heartbeats keep flowing through a file of hundreds of MB.
        let scan: ScannedBinlog;
        try {
          scan = await scanBinlogFileInSteps(name, filePath);
        } catch (err) {
          // A changed file is named as changed, not by where its parse tripped.
          throw changed(await hashFile(filePath)) ?? err;
        }
        const wasChanged = changed(scan);
        if (wasChanged) throw wasChanged;
        // One push per transaction: spreading a file's (hundreds of thousands) as arguments overflows the stack.
        for (const t of scan.transactions) transactions.push(t);
        archivedThrough = { file: name, position: scan.summary.openTransactionStart ?? scan.summary.endPosition };
      }
    },
  );
  const gaps = findArchiveGaps(index, names, flavor);
  // The plan names the archive as the store does (a prefix in S3): the replay's host pulls its own copy.
  return { archiveDir: archiveRef(deps.paths, source), names, transactions, gaps, index, archivedThrough };
}

type LoadedArchive = Awaited<ReturnType<typeof loadArchive>>;

/** Words a refusal with the recoverable window. */
function withWindow(err: unknown, window: RecoverableWindow): DrillError {
  return new DrillError(DrillErrorTypes.BadTarget, `${(err as Error).message}. ${window.text}`, { details: (err as DrillError).details });
}

/**
 * Where the replay from `start` stops, with what the archive's gaps allow: with best effort a
 * gap on the way ends the replay before it (the shortfall says so); otherwise it is refused.
 */
function stopWithinArchive(req: PlanRequest, target: RecoveryTarget, start: BinlogCoordinates, archive: LoadedArchive, window: RecoverableWindow, opts: { startGtidSet?: string; startTime?: string }): ResolvedStop {
  const { transactions, gaps, archivedThrough } = archive;
  const resolve = (reachable: BinlogTransaction[], through = archivedThrough) => {
    try {
      return resolveStop(target, start, reachable, {
        bestEffort: req.bestEffort,
        startGtidSet: opts.startGtidSet,
        ...(opts.startTime === undefined ? {} : { startTime: opts.startTime }),
        ...(through === undefined ? {} : { archivedThrough: through }),
      });
    } catch (err) {
      if ((err as DrillError).type === DrillErrorTypes.BadTarget) throw withWindow(err, window);
      throw err;
    }
  };
  let resolved = resolve(transactions);
  const gap = firstGapBetween(start, resolved.stop, gaps);
  if (gap !== undefined && req.bestEffort) {
    const limit = gapLimitFile(gap);
    resolved = resolve(transactions.filter((t) => compareBinlogNames(t.file, limit) < 0), undefined);
    resolved.shortfall = `${gap.description}: stopped at the last transaction before it${resolved.shortfall === undefined ? '' : ` (${resolved.shortfall})`}`;
  } else {
    assertNoGapBetween(start, resolved.stop, gaps, window);
  }
  assertNoHiddenTransactions(req, target, start, resolved, gaps, window);
  return resolved;
}

/** A time or before-event stop next to a gap cannot be proven: missing transactions may precede the target. */
function assertNoHiddenTransactions(req: PlanRequest, target: RecoveryTarget, start: BinlogCoordinates, resolved: ResolvedStop, gaps: readonly ArchiveGap[], window: RecoverableWindow): void {
  const hidden = target.kind === 'time' || target.kind === 'beforeEvent' ? gapHidingTarget(resolved.stop, resolved.firstExcluded, gaps) : undefined;
  if (hidden === undefined) return;
  const why = `${hidden.description}, between the last archived transaction before ${describeTarget(target)} (ending at ${formatCoordinates(resolved.stop)}) and the first one after it: transactions missing there may precede the target`;
  if (!req.bestEffort)
    throw new DrillError(DrillErrorTypes.BinlogGap, `Cannot tell where ${describeTarget(target)} stops: ${why}. ${window.text}`, { details: { start, stop: resolved.stop, missing: hidden.missing, gap: hidden } });
  resolved.shortfall ??= `${why}; stopped at the last archived transaction before the gap`;
}

/** The plan itself: segments around the skips, what is applied, the RPO and the GTID state to expect. */
function buildPlan(req: PlanRequest, target: RecoveryTarget, start: BinlogCoordinates, backupGtidSet: string | undefined, archive: LoadedArchive, resolved: ResolvedStop, window: RecoverableWindow): ReplayPlan {
  const { archiveDir, names, transactions } = archive;
  const skipped = resolveSkips(req.skip ?? [], start, resolved.stop, transactions);
  const skippedAt = new Set(skipped.map((t) => formatCoordinates({ file: t.file, position: t.startPosition })));
  const applied = transactions.filter(
    (t) =>
      compareCoordinates({ file: t.file, position: t.startPosition }, start) >= 0 &&
      compareCoordinates({ file: t.file, position: t.endPosition }, resolved.stop) <= 0 &&
      !skippedAt.has(formatCoordinates({ file: t.file, position: t.startPosition })),
  );
  const segments = replaySegments(names, start, resolved.stop, skipped);
  const plan: ReplayPlan = {
    archiveDir,
    files: [...new Set(segments.flatMap((s) => s.files))],
    segments,
    start,
    stop: resolved.stop,
    transactions: applied.length,
    skipped: skipped.map((t) => summarizeTransaction(t)),
    rpoSeconds: achievedRpoSeconds({
      reached: resolved.shortfall === undefined,
      targetTimeMicros: target.kind === 'time' ? targetTimeMicros(target.at) : undefined,
      lastAppliedMicros: resolved.lastApplied ? transactionTimeMicros(resolved.lastApplied) : undefined,
      nowMicros: Date.now() * 1000,
    }),
    window: window.text,
  };
  if (resolved.lastApplied) plan.lastApplied = summarizeTransaction(resolved.lastApplied);
  if (resolved.firstExcluded) plan.firstExcluded = summarizeTransaction(resolved.firstExcluded);
  const lastArchived = summarizeTransaction(transactions[transactions.length - 1]);
  if (lastArchived) plan.lastArchived = lastArchived;
  if (resolved.shortfall !== undefined) plan.shortfall = resolved.shortfall;
  const expected = expectedGtidSet(req.flavor, backupGtidSet, applied);
  if (expected !== undefined) plan.expectedGtidSet = expected;
  return plan;
}

function oldestBackupOf(backups: readonly BackupCandidate[]): BackupCandidate | undefined {
  return [...backups].sort((a, b) => compareCoordinates(a.coordinates, b.coordinates))[0];
}

export function replayPlanningActivities(deps: ActivityDeps) {
  /** Plans the replay from `start` (a backup's coordinates) to the target. */
  async function planFrom(req: PlanRequest, start: BinlogCoordinates, backupGtidSet: string | undefined, backups: BackupCandidate[]): Promise<ReplayPlan> {
    const archive = await loadArchive(deps, req.source.name, req.flavor, start);
    const { names, transactions, gaps, index } = archive;
    const window = recoverableWindow(backups, gaps, names, summarizeTransaction(transactions[transactions.length - 1]));
    const target = recoveryTargetOf(req);
    // Earlier files may be absent (never archived, or removed by retention): bound the backup's last commit another way.
    const finishedAt = backups.find((b) => compareCoordinates(b.coordinates, start) === 0)?.finishedAt;
    const startTime = target.kind === 'time' ? backupLastCommitBound(start, transactions, index, finishedAt) : undefined;
    const resolved = stopWithinArchive(req, target, start, archive, window, { startGtidSet: backupGtidSet, startTime });
    try {
      filesForReplay(names, start, resolved.stop); // also: the backup's own file must be archived
    } catch (err) {
      throw new DrillError(DrillErrorTypes.BinlogGap, `${(err as Error).message}. ${window.text}`, { details: (err as DrillError).details, cause: err });
    }
    return buildPlan(req, target, start, backupGtidSet, archive, resolved, window);
  }

  return {
    /** Decides which archived files to replay and exactly where to stop, from a given backup. Refuses unreachable targets before any restore. */
    async planReplay(req: PlanRequest & { start: BinlogCoordinates; gtidSet?: string }): Promise<ReplayPlan> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      return planFrom(req, req.start, req.gtidSet, backups);
    },

    /**
     * For an incident: resolves the target against the whole archive, picks the newest
     * published backup that precedes it (never a new one: it would contain the damage), then
     * plans the replay from that backup's recorded coordinates.
     */
    async planRecovery(req: PlanRequest): Promise<RecoveryPlan> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      const oldestBackup = oldestBackupOf(backups);
      const { names, transactions, gaps } = await loadArchive(deps, req.source.name, req.flavor, oldestBackup?.coordinates);
      const target = recoveryTargetOf(req);
      // Resolve from the oldest backup: nothing before it can be recovered.
      const origin = oldestBackup?.coordinates ?? { file: names[0]!, position: 4 };
      let stop: BinlogCoordinates;
      try {
        stop = resolveStop(target, origin, transactions, { bestEffort: req.bestEffort }).stop;
      } catch (err) {
        // Let the precise planning below word the refusal with the window (when a backup exists).
        if (!oldestBackup) throw err;
        stop = oldestBackup.coordinates;
      }
      let backup: BackupCandidate;
      try {
        backup = req.bisectStarts ? nextBisectStart(backups, stop, req.bisectStarts.tried, req.bisectStarts.expected) : chooseBaseBackup(backups, stop, describeTarget(target));
      } catch (err) {
        throw withWindow(err, recoverableWindow(backups, gaps, names, summarizeTransaction(transactions[transactions.length - 1])));
      }
      return { backup, plan: await planFrom(req, backup.coordinates, backup.gtidSet, backups) };
    },

    /** The recoverable window of a source right now: oldest usable backup → last archived transaction, and every gap; recorded for the metrics. */
    async describeArchive(req: { source: SourceSpec; flavor: Flavor }): Promise<RecoverableWindow> {
      const backups = await listPublishedBackups(deps.paths, req.source.name);
      const { names, transactions, gaps } = await loadArchive(deps, req.source.name, req.flavor, oldestBackupOf(backups)?.coordinates);
      const window = recoverableWindow(backups, gaps, names, summarizeTransaction(transactions[transactions.length - 1]));
      // Kept for the metrics (they survive a worker restart through this file).
      const status = windowStatus(window);
      await updateArchiveStatus(deps.paths, req.source.name, { window: status });
      deps.metrics?.archiveWindow(req.source.name, status);
      await alertNewArchiveGaps(deps, req.source.name, window, runningWorkflowId() ?? req.source.name);
      return window;
    },
  };
}
