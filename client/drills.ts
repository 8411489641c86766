/** Starts drills and follows them: shared by the CLI, the demo and the tests. */
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { DrillRequestInput } from '../config/schema';
import { parseDrillRequest } from '../config/schema';
import type { DrillReport } from '../domain/report/report';
import { drillWorkflowId } from '../domain/naming';
import { workOf } from '../domain/progress/work';
import type { WorkHeartbeat } from '../domain/progress/work';
import { drillWorkflow, progressQuery } from '../workflows';
import type { DrillProgress } from '../workflows';

export interface StartDrillOptions {
  client: Client;
  taskQueue: string;
  request: DrillRequestInput;
  workflowId?: string;
  /** One line shown in the Temporal UI's run header (user metadata). */
  summary?: string;
}

export async function startDrill(opts: StartDrillOptions): Promise<WorkflowHandle<typeof drillWorkflow>> {
  // Validated here, before anything starts; the workflow receives a normalised request.
  const request = parseDrillRequest(opts.request);
  return opts.client.workflow.start(drillWorkflow, {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? drillWorkflowId(request.source.name, new Date().toISOString()),
    args: [request],
    ...(opts.summary ? { staticSummary: opts.summary } : {}),
  });
}

export interface DrillOutcome {
  report?: DrillReport;
  failure?: { type: string; message: string };
}

/**
 * The work of the drill's running activities (bytes and rows done, against the total), from
 * their last heartbeats. The workflow never sees heartbeats: the server keeps each pending
 * activity's last one, and describing the run reads them without adding to its history.
 */
export async function runningWork(handle: WorkflowHandle<typeof drillWorkflow>): Promise<WorkHeartbeat[]> {
  const described = await handle.describe();
  const work: WorkHeartbeat[] = [];
  for (const pending of described.raw.pendingActivities ?? []) {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    try {
      const w = workOf(defaultPayloadConverter.fromPayload(payload));
      if (w) work.push(w);
    } catch {
      /* details of another shape */
    }
  }
  return work;
}

/** The `progress` query's answer with the work of the running activities ({@link runningWork}) in `work`. */
export async function drillProgress(handle: WorkflowHandle<typeof drillWorkflow>): Promise<DrillProgress> {
  const [progress, work] = await Promise.all([handle.query(progressQuery), runningWork(handle).catch(() => [])]);
  return work.length > 0 ? { ...progress, work } : progress;
}

/**
 * Waits for the result; a failed drill still yields its report (carried in the failure details).
 * `onProgress` sees the drill's progress every `pollMs`, and at the end its report's phases, so
 * the phases that finished after the last poll are seen too.
 */
export async function awaitDrill(handle: WorkflowHandle<typeof drillWorkflow>, onProgress?: (p: DrillProgress) => void, pollMs = 1000): Promise<DrillOutcome> {
  let done = false;
  const poller = (async () => {
    while (!done && onProgress) {
      try {
        const p = await drillProgress(handle);
        if (!done) onProgress(p);
      } catch {
        /* not started yet, or finished between polls */
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  const outcome = await drillResult(handle).finally(async () => {
    done = true;
    await poller;
  });
  if (onProgress && outcome.report) onProgress({ status: 'done', phases: outcome.report.phases, report: outcome.report });
  return outcome;
}

async function drillResult(handle: WorkflowHandle<typeof drillWorkflow>): Promise<DrillOutcome> {
  try {
    return { report: await handle.result() };
  } catch (err) {
    if (err instanceof WorkflowFailedError || (err as Error)?.name === 'WorkflowFailedError') {
      const cause = (err as WorkflowFailedError).cause as { type?: string; message?: string; details?: unknown[] } | undefined;
      return { report: cause?.details?.[0] as DrillReport | undefined, failure: { type: cause?.type ?? 'Unknown', message: cause?.message ?? (err as Error).message } };
    }
    throw err;
  }
}
