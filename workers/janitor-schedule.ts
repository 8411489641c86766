/**
 * The janitor's Temporal schedule, registered idempotently when a worker starts: one schedule
 * per task queue, overlap SKIP (a slow sweep is never run twice at once).
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { janitorWorkflow } from '../workflows';

export function janitorScheduleId(taskQueue: string): string {
  return `restore-drill-janitor-${taskQueue}`;
}

/** Creates the schedule unless it exists. `every`: a Temporal duration such as '5m'. */
export async function ensureJanitorSchedule(client: Client, opts: { taskQueue: string; every: Duration }): Promise<string> {
  const scheduleId = janitorScheduleId(opts.taskQueue);
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: opts.every }] },
      action: { type: 'startWorkflow', workflowType: janitorWorkflow, args: [{}], taskQueue: opts.taskQueue, workflowId: `janitor-${opts.taskQueue}` },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10m' },
    });
  } catch (err) {
    if ((err as Error)?.name !== 'ScheduleAlreadyRunning') throw err;
  }
  return scheduleId;
}
