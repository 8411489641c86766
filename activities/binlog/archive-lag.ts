/**
 * After each successful archiving run: how far the archive is now known complete, how far it
 * had fallen behind before the run, against the source's RPO objective (domain/recovery/rpo.ts).
 * Kept in the source's archive status (it survives worker restarts), exported as metrics, and a
 * miss is alerted through the drill alert path, and so is a new gap in the archive.
 */
import { readArchiveStatus, updateArchiveStatus } from '../../adapters/archive-status';
import type { ArchiveIndex } from '../../domain/recovery/archive-index';
import { measureArchiveRun } from '../../domain/recovery/rpo';
import type { ArchiveLagState } from '../../domain/recovery/rpo';
import { archiveGapAlert } from '../../domain/report/archive-gap-alert';
import { archiveRpoAlert } from '../../domain/report/rpo-alert';
import type { RecoverableWindow } from '../../domain/recovery/window';
import type { ActivityDeps } from '../deps';
import { deliverAlerts } from '../report/notify';

/** Commit time of the newest transaction the index records. */
export function lastArchivedCommit(index: ArchiveIndex): string | undefined {
  let newest: string | undefined;
  for (const f of index.files) if (f.lastCommitTime !== undefined && (newest === undefined || Date.parse(f.lastCommitTime) > Date.parse(newest))) newest = f.lastCommitTime;
  return newest;
}

export async function recordArchiveRun(
  deps: ActivityDeps,
  req: { source: string; runId: string; startedAt: string; index: ArchiveIndex; rpoTargetSeconds?: number },
): Promise<ArchiveLagState> {
  const previous = (await readArchiveStatus(deps.paths, req.source)).lag;
  const finishedAt = new Date().toISOString();
  const lastTransactionAt = lastArchivedCommit(req.index);
  const lag = measureArchiveRun({ startedAt: req.startedAt, finishedAt, ...(lastTransactionAt ? { lastTransactionAt } : {}) }, previous, req.rpoTargetSeconds);
  await updateArchiveStatus(deps.paths, req.source, { lag });
  deps.metrics?.archiveCaughtUp(req.source, lag);
  const alert = archiveRpoAlert(req.source, lag, req.runId, `${deps.uiBaseUrl ?? 'workflow'}/${encodeURIComponent(req.runId)}`, finishedAt);
  // The archive is safe whatever the receivers do: deliveries never throw, a lost alert is still a metric and a rule (deploy/monitoring).
  if (alert) await deliverAlerts(deps, [alert]);
  return lag;
}

/**
 * After the recoverable window is described: a gap the archive did not have before alerts once
 * (its description is kept in the archive status). `runId`: the run that found it.
 */
export async function alertNewArchiveGaps(deps: ActivityDeps, source: string, window: RecoverableWindow, runId: string): Promise<void> {
  const gaps = window.gaps.map((g) => g.description);
  const alerted = (await readArchiveStatus(deps.paths, source)).alertedGaps ?? [];
  const alert = archiveGapAlert(source, gaps, alerted, { runId, url: `${deps.uiBaseUrl ?? 'workflow'}/${encodeURIComponent(runId)}`, at: new Date().toISOString() });
  if (alert) await deliverAlerts(deps, [alert]);
  // Only the gaps still there: one that comes back after a repair alerts again.
  if (alert || gaps.length !== alerted.length) await updateArchiveStatus(deps.paths, source, { alertedGaps: gaps });
}
