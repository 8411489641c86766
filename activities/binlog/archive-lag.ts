/**
 * After each successful archiving run: how far the archive is now known complete, how far it
 * had fallen behind before the run, against the source's RPO objective (domain/recovery/rpo.ts).
 * Kept in the source's archive status (it survives worker restarts), exported as metrics, and a
 * miss is alerted through the drill alert path.
 */
import { log } from '@temporalio/activity';
import { readArchiveStatus, updateArchiveStatus } from '../../adapters/archive-status';
import type { ArchiveIndex } from '../../domain/recovery/archive-index';
import { measureArchiveRun } from '../../domain/recovery/rpo';
import type { ArchiveLagState } from '../../domain/recovery/rpo';
import { archiveRpoAlert } from '../../domain/report/rpo-alert';
import type { ActivityDeps } from '../deps';
import { deliverAlert } from '../report/notify';

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
  // The archive is safe whatever the webhook does: a lost alert is still a metric and a rule (deploy/monitoring).
  if (alert) await deliverAlert(deps, alert).catch((err: Error) => log.warn(`RPO alert for ${req.source} not delivered: ${err.message}`));
  return lag;
}
