/**
 * The janitor run, started by a Temporal schedule every few minutes (workers/janitor-schedule.ts):
 * one sweep of labelled leftovers whose owner drill has closed or whose expiry has passed.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { DrillActivities } from '../activities';
import type { SweepRequest, SweepResult } from '../activities/janitor';

const { sweepOrphans } = proxyActivities<DrillActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumAttempts: 5 },
});

export async function janitorWorkflow(req: SweepRequest = {}): Promise<SweepResult> {
  return sweepOrphans(req);
}
