/**
 * The janitor run, started by a Temporal schedule every few minutes (workers/janitor-schedule.ts):
 * one sweep of labelled leftovers whose owner drill has closed or whose expiry has passed, then
 * each configured source's backup and binlog retention (policies arrive as input: counts and
 * ages only, no secrets).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DrillActivities } from '../activities';
import type { SourceRetentionResult, SweepRequest, SweepResult } from '../activities/artifacts/janitor';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';

const { sweepOrphans, enforceRetention } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['BadConfig'] },
});

export interface JanitorRequest extends SweepRequest {
  /** false: enforce retention only, leave leftover containers and folders to the scheduled run. Default true. */
  sweepLeftovers?: boolean;
  /** One policy per source whose backups and archived binlogs the janitor prunes; absent: none. */
  retention?: SourceRetentionPolicy[];
}

export interface JanitorResult extends SweepResult {
  retention?: SourceRetentionResult[];
}

export async function janitorWorkflow(req: JanitorRequest = {}): Promise<JanitorResult> {
  const { retention, sweepLeftovers, ...sweep } = req;
  const result: JanitorResult = sweepLeftovers === false ? { removedContainers: [], removedFolders: [], kept: [] } : await sweepOrphans(sweep);
  if (retention !== undefined && retention.length > 0) result.retention = await enforceRetention({ policies: retention });
  return result;
}
