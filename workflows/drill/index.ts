/**
 * The drill: back up (or pick) an artifact, verify it, restore it into a throwaway sandbox,
 * replay binlogs to a target, check the result against the source, and always clean up.
 * Orchestration only: every side effect is an activity. The order of the calls below is the
 * order of commands in recorded histories (test/fixtures/histories): change it only behind patched().
 */
import { ApplicationFailure, CancellationScope, log, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { DrillRequest } from '../../config/schema';
import { drillFailureOf, reportFailure, reportMemoSummary } from '../../domain/report/build';
import type { DrillReport } from '../../domain/report/report';
import { DrillFailureType, DrillKind, DrillOutcome, DrillRtoSeconds, DrillSource, DrillTarget } from '../search-attributes';
import { acquireSourceLock } from '../source-lock';
import { cleanup, long, planning, quick } from './activity-options';
import { Drill } from './context';
import { placeSandbox } from './placement';
import { checkRestoredOnHost, planWhileRestoring, restoreAsTaken, restoreDumpAndReplay, restorePhysicalAndReplay, restoresWhilePlanning } from './sandbox-phases';
import { inspectSource, isIncidentRecovery, obtainVerifiedBackup, planFromBackup, planIncidentRecovery } from './source-phases';

export { progressQuery, releaseSignal, extendSignal } from './progress';
export type { BisectProgress, DrillProgress, DrillStatus } from './progress';

export async function drillWorkflow(request: DrillRequest): Promise<DrillReport> {
  const d = new Drill(request);
  // The first line of the run: the worker's logger puts this source on every later line of it (adapters/logging.ts). Not a command: replay-safe.
  log.info('drill started', { source: request.source.name, target: d.target, kind: request.keepSandbox ? 'pitr' : 'drill' });
  upsertSearchAttributes([
    { key: DrillSource, value: request.source.name },
    // A schedule starts its drills with DrillKind 'scheduled' (cli/schedules.ts): kept, not overwritten.
    { key: DrillKind, value: workflowInfo().typedSearchAttributes.get(DrillKind) ?? (request.keepSandbox ? 'pitr' : 'drill') },
    { key: DrillTarget, value: d.target },
    { key: DrillOutcome, value: 'running' },
  ]);
  try {
    await lockSource(d);
    await restoreToTarget(d);
    await keepForInspection(d);
  } catch (err) {
    d.stop(err);
  } finally {
    await cleanUp(d);
  }
  return reportAndNotify(d);
}

/** Before anything touches the source: a second drill of it fails here with SourceBusy. */
export async function lockSource(d: Drill): Promise<void> {
  const lock = await acquireSourceLock({ source: d.request.source.name, drillId: d.drillId, runId: workflowInfo().runId });
  // Released only after the sandbox is gone, so the next drill of this source starts clean. A
  // release that fails is not the drill's failure: the lock ends with this run anyway (ParentClosePolicy TERMINATE).
  d.undos.push('release the source lock', () => lock.release().catch((err) => log.warn('source lock not released', { error: String(err) })));
}

/** Every phase up to a checked recovery point. */
async function restoreToTarget(d: Drill): Promise<void> {
  const facts = await inspectSource(d);
  const incident = isIncidentRecovery(d.request);
  const baseManifest = incident ? await planIncidentRecovery(d, facts) : d.request.backup?.manifest;
  const backup = await obtainVerifiedBackup(d, facts, baseManifest);
  // The sandbox phase starts: on a host with a free slot, when the fleet places sandboxes.
  await placeSandbox(d);
  if (!backup.published.manifest.coordinates) return restoreAsTaken(d, facts, backup);
  let firstRestore: Promise<void> | undefined;
  if (restoresWhilePlanning(d, backup)) ({ firstRestore } = await planWhileRestoring(d, facts, backup));
  else if (!incident) await planFromBackup(d, facts, backup, { checkpoint: quick, archive: long, plan: planning });
  const plan = d.state.plan!;
  const restore = (first: Promise<void> | undefined) =>
    backup.published.manifest.kind === 'physical' ? restorePhysicalAndReplay(d, facts, backup, plan) : restoreDumpAndReplay(d, facts, backup, plan, first);
  await checkRestoredOnHost(d, facts, await restore(firstRestore), plan, () => restore(undefined));
}

/** A kept sandbox (on-demand PITR) stays up for inspection until released or expired. */
async function keepForInspection(d: Drill): Promise<void> {
  const { sandbox } = d.state;
  if (d.request.keepSandbox && sandbox) await d.board.keepUntilReleased(sandbox, d.report());
}

/** Runs the undos; a failed one (the sandbox still there) fails the drill unless it failed already. */
export async function cleanUp(d: Drill): Promise<void> {
  if (d.undos.size === 0) return;
  d.board.setStatus('cleaning');
  for (const { error } of await d.undos.unwind()) d.state.failure ??= drillFailureOf(error);
}

/** Writes the report (failed and cancelled drills too: it is what `history` reads), alerts, and ends the run. */
async function reportAndNotify(d: Drill): Promise<DrillReport> {
  const { cancelled } = d.state;
  const report = d.report();
  await CancellationScope.nonCancellable(() => cleanup.publishReport({ report })).catch((err) => log.warn('report not written', { error: String(err) }));
  // Alerts on a failure and on the first pass after failures (activities/report/notify.ts); never changes the outcome.
  if (!cancelled) await CancellationScope.nonCancellable(() => quick.notifyDrillOutcome({ report, runId: workflowInfo().runId })).catch((err) => log.warn('alert not delivered', { error: String(err) }));
  d.board.done(report);
  upsertSearchAttributes([
    { key: DrillOutcome, value: report.outcome },
    { key: DrillRtoSeconds, value: report.rtoSeconds },
    ...(report.failure ? [{ key: DrillFailureType, value: report.failure.type }] : []),
  ]);
  upsertMemo({ summary: reportMemoSummary(report) });

  if (cancelled) throw cancelled;
  const failure = reportFailure(report);
  if (failure) throw ApplicationFailure.create({ type: failure.type, message: `drill of ${report.source} failed: ${failure.message}`, nonRetryable: true, details: [report] });
  return report;
}
