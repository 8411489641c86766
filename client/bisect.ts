/** Starts bisects and follows them: shared by the CLI and the tests. */
import { WorkflowFailedError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { BisectRequestInput } from '../config/schema';
import { parseBisectRequest } from '../config/schema';
import type { BisectAnswer } from '../domain/bisect/answer';
import { bisectWorkflow, progressQuery } from '../workflows';
import type { BisectProgress } from '../workflows';

export async function startBisect(opts: { client: Client; taskQueue: string; request: BisectRequestInput; workflowId: string; summary?: string }): Promise<WorkflowHandle<typeof bisectWorkflow>> {
  // Validated here, before anything starts.
  const request = parseBisectRequest(opts.request);
  return opts.client.workflow.start(bisectWorkflow, { taskQueue: opts.taskQueue, workflowId: opts.workflowId, args: [request], ...(opts.summary ? { staticSummary: opts.summary } : {}) });
}

export interface BisectOutcome {
  answer?: BisectAnswer;
  failure?: { type: string; message: string };
}

/** Waits for the answer; `onProgress` sees the search every `pollMs`. */
export async function awaitBisect(handle: WorkflowHandle<typeof bisectWorkflow>, onProgress?: (p: BisectProgress) => void, pollMs = 1000): Promise<BisectOutcome> {
  let done = false;
  const poller = (async () => {
    while (!done && onProgress) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (!done && p?.bisect) onProgress(p.bisect);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  try {
    return { answer: await handle.result() };
  } catch (err) {
    if (err instanceof WorkflowFailedError || (err as Error)?.name === 'WorkflowFailedError') {
      const cause = (err as WorkflowFailedError).cause as { type?: string; message?: string } | undefined;
      return { failure: { type: cause?.type ?? 'Unknown', message: cause?.message ?? (err as Error).message } };
    }
    throw err;
  } finally {
    done = true;
    await poller;
  }
}

/** One line of a bisect's progress. */
export function describeBisectProgress(p: BisectProgress): string {
  return `culprit within transactions ${p.range.from}-${p.range.to} of ${p.window} (${p.range.transactions} left); ${p.steps} steps: ${p.replays} replays, ${p.snapshots} snapshots, ${p.rewinds} rewinds${p.doing ? `; now: ${p.doing}` : ''}`;
}
