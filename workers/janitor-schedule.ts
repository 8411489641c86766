/**
 * The janitor's Temporal schedule, registered when a worker starts: one schedule per task
 * queue, overlap SKIP (a slow sweep is never run twice at once). Its input carries each
 * source's retention policy from the configuration file, so a worker started after the file
 * changed updates the schedule in place.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client, ScheduleOptionsAction } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import { janitorWorkflow } from '../workflows';
import type { JanitorRequest } from '../workflows';

/** The janitor's interval from RESTORE_DRILL_JANITOR_EVERY (default 5m); undefined when it is `off`. */
export function janitorInterval(env: NodeJS.ProcessEnv = process.env): Duration | undefined {
  const every = env.RESTORE_DRILL_JANITOR_EVERY ?? '5m';
  return every === 'off' ? undefined : (every as Duration);
}

export function janitorScheduleId(taskQueue: string): string {
  return `restore-drill-janitor-${taskQueue}`;
}

/**
 * Creates the schedule, or updates its interval and input when it exists. `every`: a Temporal
 * duration such as '5m'. `retention`: the policies to enforce (none: leftovers only).
 */
export async function ensureJanitorSchedule(client: Client, opts: { taskQueue: string; every: Duration; retention?: SourceRetentionPolicy[] }): Promise<string> {
  const scheduleId = janitorScheduleId(opts.taskQueue);
  const request: JanitorRequest = opts.retention && opts.retention.length > 0 ? { retention: opts.retention } : {};
  const action: ScheduleOptionsAction = { type: 'startWorkflow', workflowType: janitorWorkflow, args: [request], taskQueue: opts.taskQueue, workflowId: `janitor-${opts.taskQueue}` };
  const spec = { intervals: [{ every: opts.every }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10m' } });
  } catch (err) {
    if ((err as Error)?.name !== 'ScheduleAlreadyRunning') throw err;
    await client.schedule.getHandle(scheduleId).update((prev) => ({ spec, action, policies: prev.policies, state: prev.state }));
  }
  return scheduleId;
}
