/**
 * The drill: back up (or pick) an artifact, verify it, restore it into a throwaway sandbox,
 * replay binlogs to a target, check the result against the source, and always clean up.
 * Orchestration only: every side effect is an activity.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RetryPolicy } from '@temporalio/common';
import type { DrillActivities, ReplayPlan, SandboxHandle, SourceCheckpoint } from '../activities';
import type { DrillRequest } from '../config/schema';
import type { CheckResult } from '../domain/checksums';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import { Phases, drillOutcome, rtoSeconds } from '../domain/report';
import type { DrillFailure, DrillReport, PhaseTiming } from '../domain/report';
import type { RecoveryPoint } from '../domain/types';
import { DrillFailureType, DrillKind, DrillOutcome, DrillRtoSeconds, DrillSource, DrillTarget } from './search-attributes';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };

/** Quick reads and decisions. */
const quick = proxyActivities<DrillActivities>({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 5 } });
/** Long I/O: heartbeats every 2 s, so a dead worker is noticed within the heartbeat timeout. */
const long = proxyActivities<DrillActivities>({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 } });
/** Cleanup must outlast transient Docker trouble. */
const cleanup = proxyActivities<DrillActivities>({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 20 } });

export type DrillStatus = 'running' | 'kept' | 'cleaning' | 'done';

export interface DrillProgress {
  status: DrillStatus;
  current?: string;
  phases: PhaseTiming[];
  sandbox?: { name: string; socketPath: string; expiresAt: string };
  report?: DrillReport;
}

export const progressQuery = defineQuery<DrillProgress>('progress');
/** Releases a kept sandbox now. */
export const releaseSignal = defineSignal('release');
/** Keeps a kept sandbox this many more seconds. */
export const extendSignal = defineSignal<[number]>('extend');

/** The failure kind of an error chain (ActivityFailure → ApplicationFailure), matched by `type`, never by class. */
function failureOf(err: unknown): DrillFailure {
  let e = err as { type?: unknown; message?: string; cause?: unknown } | undefined;
  const top = (err as Error)?.message ?? String(err);
  while (e) {
    if (typeof e.type === 'string' && e.type.length > 0) return { type: e.type, message: e.message ?? top };
    e = e.cause as typeof e;
  }
  return { type: 'Unknown', message: top };
}

function describe(target: DrillRequest['target']): string {
  switch (target.kind) {
    case 'checkpoint':
      return 'checkpoint';
    case 'latest':
      return 'latest';
    case 'time':
      return `time ${target.at}`;
    case 'position':
      return `position ${target.file}:${target.position}`;
    case 'gtid':
      return `gtid ${target.gtid}`;
    case 'beforeEvent':
      return `before "${target.pattern}"`;
  }
}

export async function drillWorkflow(request: DrillRequest): Promise<DrillReport> {
  const drillId = workflowInfo().workflowId;
  const startedAt = new Date().toISOString();
  const phases: PhaseTiming[] = [];
  const progress: DrillProgress = { status: 'running', phases };
  let releaseRequested = false;
  let expiresAtMs = 0;
  setHandler(progressQuery, () => progress);
  setHandler(releaseSignal, () => void (releaseRequested = true));
  setHandler(extendSignal, (seconds: number) => {
    expiresAtMs = Math.max(expiresAtMs, Date.now()) + seconds * 1000;
    if (progress.sandbox) progress.sandbox.expiresAt = new Date(expiresAtMs).toISOString();
  });

  const targetText = describe(request.target);
  upsertSearchAttributes([
    { key: DrillSource, value: request.source.name },
    { key: DrillKind, value: request.keepSandbox ? 'pitr' : 'drill' },
    { key: DrillTarget, value: targetText },
    { key: DrillOutcome, value: 'running' },
  ]);

  async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    progress.current = name;
    const record = (outcome: PhaseTiming['outcome']) =>
      phases.push({ phase: name, startedAt: new Date(started).toISOString(), finishedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000, outcome });
    try {
      const result = await work();
      record('ok');
      return result;
    } catch (err) {
      record('failed');
      throw err;
    } finally {
      progress.current = undefined;
    }
  }

  let failure: DrillFailure | undefined;
  let cancelled: unknown;
  let sandboxMayExist = false;
  let sandbox: SandboxHandle | undefined;
  let checks: CheckResult[] = [];
  let reached: RecoveryPoint | undefined;
  let backupFacts: DrillReport['backup'] = { artifactPath: '', bytes: 0, sha256: '' };
  let flavor: DrillReport['flavor'] = request.source.flavor ?? 'mysql';
  let serverVersion = '';
  let plan: ReplayPlan | undefined;
  let checkpoint: SourceCheckpoint | undefined;

  try {
    const facts = await phase('inspect-source', () => quick.inspectSource(request.source));
    flavor = facts.identity.flavor;
    serverVersion = facts.identity.version;
    const published = request.backup
      ? await phase(Phases.VerifyArtifact, () => long.verifyBackup({ manifestPath: request.backup!.manifest }))
      : await phase(Phases.Backup, () => long.takeLogicalBackup({ drillId, source: request.source, facts }));
    if (!request.backup) await phase(Phases.VerifyArtifact, () => long.verifyBackup({ manifestPath: published.manifestPath }));
    backupFacts = { artifactPath: published.dumpPath, bytes: published.manifest.bytes, sha256: published.manifest.sha256, coordinates: published.manifest.coordinates, gtidSet: published.manifest.gtidSet, takenAt: published.manifest.createdAt };
    if (request.target.kind === 'checkpoint') checkpoint = await phase('checkpoint', () => quick.captureSourceCheckpoint({ source: request.source, facts }));
    await phase('archive-binlogs', () => long.archiveBinlogs({ drillId, source: request.source, facts, fromFile: published.manifest.coordinates.file }));
    plan = await phase('plan-replay', () => quick.planReplay({ source: request.source, flavor, start: published.manifest.coordinates, target: request.target, checkpoint }));

    // Registered before the create: removal is idempotent, so a sandbox that was created but
    // never answered is removed too.
    sandboxMayExist = true;
    sandbox = await phase(Phases.SandboxStart, () =>
      long.createSandbox({ drillId, source: request.source.name, flavor, image: facts.image, backupDir: published.backupDir, binlogDir: plan!.archiveDir, ttlSeconds: request.sandboxTtlSeconds }),
    );
    progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt };
    await phase(Phases.Restore, () => long.restoreLogicalDump({ drillId, sandbox: sandbox!, dumpFile: published.dumpPath }));
    await phase(Phases.Replay, () => long.replayBinlogs({ drillId, sandbox: sandbox!, plan: plan! }));
    const verified = await phase(Phases.Checks, () =>
      long.verifyRestore({ drillId, sandbox: sandbox!, databases: facts.databases, plan: plan!, checkpoint, assertions: request.assertions }),
    );
    checks = verified.checks;
    reached = verified.reached;
  } catch (err) {
    if (isCancellation(err)) cancelled = err;
    else failure = failureOf(err);
  }

  const buildReport = (): DrillReport => {
    const outcome = drillOutcome(checks, failure ?? (cancelled ? { type: 'Cancelled', message: 'the drill was cancelled' } : undefined));
    return {
      drillId,
      source: request.source.name,
      flavor,
      serverVersion,
      sandbox: sandbox ? { image: sandbox.image } : undefined,
      startedAt,
      finishedAt: new Date().toISOString(),
      backup: backupFacts,
      target: targetText,
      recoveryPoint: reached,
      rpoSeconds: plan && reached ? shortfallSeconds(request.target, plan) : undefined,
      phases: [...phases],
      rtoSeconds: rtoSeconds(phases),
      totalSeconds: (Date.now() - Date.parse(startedAt)) / 1000,
      checks,
      outcome,
      failure: failure ?? (cancelled ? { type: 'Cancelled', message: 'the drill was cancelled' } : undefined),
    };
  };

  // A kept sandbox (on-demand PITR) stays up for inspection until released or expired.
  if (request.keepSandbox && sandbox && !failure && !cancelled) {
    progress.status = 'kept';
    progress.report = buildReport();
    expiresAtMs = Date.parse(sandbox.expiresAt);
    try {
      while (!releaseRequested && Date.now() < expiresAtMs) await condition(() => releaseRequested, expiresAtMs - Date.now());
    } catch (err) {
      if (isCancellation(err)) cancelled = err;
      else throw err;
    }
  }

  if (sandboxMayExist) {
    progress.status = 'cleaning';
    await CancellationScope.nonCancellable(() => phase(Phases.Cleanup, () => cleanup.removeSandbox({ drillId }))).catch((err) => {
      failure ??= failureOf(err);
    });
  }

  const report = buildReport();
  progress.report = report;
  progress.status = 'done';
  upsertSearchAttributes([
    { key: DrillOutcome, value: report.outcome },
    { key: DrillRtoSeconds, value: report.rtoSeconds },
    ...(report.failure ? [{ key: DrillFailureType, value: report.failure.type }] : []),
  ]);
  upsertMemo({ summary: `${report.outcome}: ${report.source} to ${report.target}, RTO ${report.rtoSeconds.toFixed(1)} s, ${checks.filter((c) => c.passed).length}/${checks.length} checks passed` });

  if (cancelled) throw cancelled;
  if (report.outcome === 'failed') {
    const f = report.failure ?? { type: 'CheckFailed', message: `${checks.filter((c) => !c.passed).length} of ${checks.length} checks failed: ${checks.filter((c) => !c.passed).map((c) => c.name).slice(0, 5).join(', ')}` };
    throw ApplicationFailure.create({ type: f.type, message: `drill of ${report.source} failed: ${f.message}`, nonRetryable: true, details: [report] });
  }
  return report;
}

/** Seconds between what was asked and what was reached (0 when the target was reached exactly). */
function shortfallSeconds(target: DrillRequest['target'], plan: ReplayPlan): number {
  if (target.kind === 'latest' && plan.lastArchived && plan.lastApplied) return (Date.parse(plan.lastArchived.commitTime) - Date.parse(plan.lastApplied.commitTime)) / 1000;
  if (target.kind === 'time' && plan.lastApplied) return Math.max(0, (Date.parse(target.at) - Date.parse(plan.lastApplied.commitTime)) / 1000);
  return 0;
}
