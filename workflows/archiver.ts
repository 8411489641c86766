/**
 * Continuous binlog archiving: one run copies what the source wrote since the archive's end
 * (resuming at its newest file) and reports the recoverable window. Started by a Temporal
 * Schedule every few minutes with overlap SKIP, so a slow run is never doubled and a missed
 * run is simply caught up by the next one: the archive itself is the resumable state.
 * Orchestration only.
 */
import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { DrillActivities } from '../activities';
import type { SourceSpec } from '../config/schema';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import type { RecoverableWindow } from '../domain/recovery/window';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };
const quick = proxyActivities<DrillActivities>({ startToCloseTimeout: '5m', retry });
const long = proxyActivities<DrillActivities>({ startToCloseTimeout: '1h', heartbeatTimeout: '30s', retry });

export interface ArchiverResult {
  files: number;
  bytes: number;
  window: RecoverableWindow;
}

/** `rpoTargetSeconds`: the source's RPO objective; the run's lag is judged against it (activities/binlog/archive-lag.ts). */
export async function binlogArchiverWorkflow(request: { source: SourceSpec; rpoTargetSeconds?: number }): Promise<ArchiverResult> {
  log.info('binlog archiving started', { source: request.source.name });
  const facts = await quick.inspectSource(request.source);
  const archived = await long.archiveBinlogs({ drillId: workflowInfo().workflowId, source: request.source, facts, rpoTargetSeconds: request.rpoTargetSeconds });
  const window = await quick.describeArchive({ source: request.source, flavor: facts.identity.flavor });
  return { files: archived.length, bytes: archived.reduce((n, f) => n + f.bytes, 0), window };
}
