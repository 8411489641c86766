/**
 * The drill: back up (or pick) an artifact, verify it, restore it into a throwaway sandbox,
 * replay binlogs to a target, check the result against the source, and always clean up.
 * Orchestration only: every side effect is an activity.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import type { ReplayPlan, SandboxHandle, SourceCheckpoint } from '../activities';
import type { DrillRequest } from '../config/schema';
import type { CheckResult } from '../domain/checks/checksums';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import { Phases, drillOutcome, rtoSeconds } from '../domain/report/report';
import type { DrillFailure, DrillReport, PhaseTiming } from '../domain/report/report';
import type { RecoveryProof, RecoveryReport } from '../domain/recovery/plan';
import type { RecoveryPoint } from '../domain/types';
import { DrillFailureType, DrillKind, DrillOutcome, DrillRtoSeconds, DrillSource, DrillTarget } from './search-attributes';
import { proxyWithSummaries } from './activity-summaries';
import { acquireSourceLock } from './source-lock';
import type { HeldSourceLock } from './source-lock';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };

/** Quick reads and decisions. */
const quick = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 5 } });
/** Long I/O: heartbeats every 2 s, so a dead worker is noticed within the heartbeat timeout. */
const long = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 } });
/** Restore and replay: one attempt per call; the workflow retries the pair from a clean sandbox. */
const once = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 1 } });
const RESTORE_ATTEMPTS = 4;
/**
 * Patch id: the first logical restore runs while the checkpoint, archive and plan are taken
 * (their order in the history changes; histories recorded before it replay the old order).
 */
const RESTORE_WHILE_PLANNING = 'restore-while-planning';
/**
 * Patch id: a checkpoint target's checkpoint is taken while the artifact is verified, not after
 * (it reads only the source; the verification keeps one core busy and the other idle).
 */
const CHECKPOINT_WHILE_VERIFYING = 'checkpoint-while-verifying';
/**
 * Between restore attempts the sandbox is inspected, adopted and quiesced; a Docker daemon that is
 * restarting refuses meanwhile (Transient), so these retry for about 2.5 minutes instead of 15 s.
 */
const DAEMON_RESTART_ATTEMPTS = 10;
const quickAcrossDaemonRestart = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } });
const longAcrossDaemonRestart = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } });
/**
 * The source-side steps while the first restore runs: a cancelled drill waits until they have
 * stopped (and removed their tool containers) before its cleanup, not just until they were asked to.
 */
const longUntilStopped = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 }, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
/**
 * Replay planning reads and parses the whole archive since the backup, heartbeating while it
 * does (activities/binlog.ts): a task lost on its way to or from a worker is retried after
 * 30 s instead of after a start-to-close timeout sized for the largest archive.
 */
const PLANNING_OPTIONS: ActivityOptions = { startToCloseTimeout: '1h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 5 } };
const planning = proxyWithSummaries(PLANNING_OPTIONS);
const planningUntilStopped = proxyWithSummaries({ ...PLANNING_OPTIONS, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
/** Cleanup must outlast transient Docker trouble. */
const cleanup = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 20 } });

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

/** A heartbeat timeout (the worker died) or a failure its activity marked retryable. */
function isRetryableActivityFailure(err: unknown): boolean {
  const cause = (err as { cause?: { name?: string; nonRetryable?: boolean } } | undefined)?.cause;
  return cause?.name === 'TimeoutFailure' || (cause?.name === 'ApplicationFailure' && cause.nonRetryable === false);
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

  // Phases may overlap (the restore runs while the replay is planned): `current` is the newest still running.
  const running: string[] = [];
  async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    running.push(name);
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
      running.splice(running.lastIndexOf(name), 1);
      progress.current = running.at(-1);
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
  let proof: RecoveryProof | undefined;
  let baseChosen: RecoveryReport['baseBackup']['chosen'] = 'taken';
  let baseManifestPath = '';
  let lock: HeldSourceLock | undefined;

  try {
    // Before anything touches the source: a second drill of it fails here with SourceBusy.
    lock = await acquireSourceLock({ source: request.source.name, drillId, runId: workflowInfo().runId });
    const facts = await phase('inspect-source', () => quick.inspectSource(request.source));
    flavor = facts.identity.flavor;
    serverVersion = facts.identity.version;
    // An incident recovery (a target, no backup named) starts from the newest published backup
    // before the target and never takes a new one: it would already contain the damage.
    const incident = !request.backup?.manifest && request.target.kind !== 'checkpoint';
    let baseManifest = request.backup?.manifest;
    if (incident) {
      await phase('archive-binlogs', () => long.archiveBinlogs({ drillId, source: request.source, facts }));
      const recovery = await phase('plan-replay', () => planning.planRecovery({ source: request.source, flavor, target: request.target, skip: request.skip, bestEffort: request.bestEffort }));
      plan = recovery.plan;
      baseManifest = recovery.backup.manifestPath;
    }
    // Every artifact is verified in full (size, sha256, the gzip stream, the trailer) before any
    // sandbox starts: a broken one is refused before any work. The parallel restore checks the
    // stream, sha256 and trailer again as it loads (activities/fast-restore.ts). A checkpoint
    // target's checkpoint (a read of the source, after the backup) is taken meanwhile; a failed
    // verification stops it and waits until it has stopped.
    const takeCheckpoint = (proxy: typeof quick) => phase('checkpoint', () => proxy.captureSourceCheckpoint({ source: request.source, facts, checksum: request.checksum }));
    let earlyCheckpoint: Promise<SourceCheckpoint> | undefined;
    const verifyWhileCheckpointing = async (manifestPath: string) => {
      const checkpointing = new CancellationScope();
      if (request.target.kind === 'checkpoint' && patched(CHECKPOINT_WHILE_VERIFYING)) {
        earlyCheckpoint = checkpointing.run(() => takeCheckpoint(longUntilStopped));
        // Awaited where the plan needs it; a failure there is handled where it is awaited.
        earlyCheckpoint.catch(() => undefined);
      }
      try {
        return await phase(Phases.VerifyArtifact, () => long.verifyBackup({ manifestPath }));
      } catch (err) {
        checkpointing.cancel();
        await earlyCheckpoint?.catch(() => undefined);
        throw err;
      }
    };
    const givenManifest = baseManifest;
    const published = givenManifest
      ? await verifyWhileCheckpointing(givenManifest)
      : await phase(Phases.Backup, () =>
          request.backup?.method === 'physical' ? long.takePhysicalBackup({ drillId, source: request.source, facts }) : long.takeLogicalBackup({ drillId, source: request.source, facts }),
        );
    if (!givenManifest) await verifyWhileCheckpointing(published.manifestPath);
    backupFacts = { artifactPath: published.dumpPath, bytes: published.manifest.bytes, sha256: published.manifest.sha256, coordinates: published.manifest.coordinates, gtidSet: published.manifest.gtidSet, takenAt: published.manifest.createdAt };
    baseChosen = incident ? 'newest-before-target' : request.backup?.manifest ? 'given' : 'taken';
    baseManifestPath = published.manifestPath;
    // The source-side steps from the backup to the replay plan: the checkpoint (a target
    // taken now), the binlogs archived since the backup, the plan of what to replay.
    const planFromBackup = async (proxies: { checkpoint: typeof quick; archive: typeof quick; plan: typeof quick }) => {
      if (request.target.kind === 'checkpoint') checkpoint = await (earlyCheckpoint ?? takeCheckpoint(proxies.checkpoint));
      await phase('archive-binlogs', () => proxies.archive.archiveBinlogs({ drillId, source: request.source, facts, fromFile: published.manifest.coordinates.file }));
      plan = await phase('plan-replay', () =>
        proxies.plan.planReplay({ source: request.source, flavor, start: published.manifest.coordinates, gtidSet: published.manifest.gtidSet, target: request.target, checkpoint, skip: request.skip, bestEffort: request.bestEffort }),
      );
    };
    const sandboxRequest = () => ({
      drillId,
      source: request.source.name,
      flavor,
      image: facts.image,
      backupDir: published.backupDir,
      // Absent before the plan: the sandbox mounts the source's archive (the plan's own folder).
      ...(plan ? { binlogDir: plan.archiveDir } : {}),
      ttlSeconds: request.sandboxTtlSeconds,
      sourceDataBytes: facts.dataBytes,
      artifactBytes: published.manifest.bytes,
      bufferPoolMb: request.sandboxBufferPoolMb,
    });
    // The first restore of a logical dump does not depend on the checkpoint or the replay plan:
    // the sandbox starts and loads the dump while the source-side steps run (on another host
    // in production, so their time drops out of the drill). The replay waits for both. Only
    // for a checkpoint, a target taken now: any other is planned first, so an unreachable one
    // is refused before a sandbox exists.
    let firstRestore: Promise<void> | undefined;
    const overlap = request.target.kind === 'checkpoint' && published.manifest.kind !== 'physical' && patched(RESTORE_WHILE_PLANNING);
    if (overlap) {
      sandboxMayExist = true;
      const restoring = new CancellationScope();
      firstRestore = restoring.run(async () => {
        sandbox = await phase(Phases.SandboxStart, () => long.createSandbox(sandboxRequest()));
        progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt };
        await phase(Phases.Restore, () => once.restoreLogicalDump({ drillId, sandbox: sandbox!, dumpFile: published.dumpPath, method: request.restoreMethod, expectedSha256: published.manifest.sha256 }));
      });
      // Settled below (the replay waits for it); a failure there is handled where it is awaited.
      firstRestore.catch(() => undefined);
      try {
        // The checkpoint heartbeats (it may scan gigabytes while the restore runs); a cancelled drill waits for all three to stop.
        await planFromBackup({ checkpoint: longUntilStopped, archive: longUntilStopped, plan: planningUntilStopped });
      } catch (err) {
        restoring.cancel();
        await firstRestore.catch(() => undefined);
        throw err;
      }
    } else if (!incident) {
      await planFromBackup({ checkpoint: quick, archive: long, plan: planning });
    }

    if (published.manifest.kind === 'physical') {
      // A physical backup (only on request or by a manifest's kind: recorded histories never
      // come here): extract (and prepare) it, start the sandbox on it as its datadir, replay.
      // Retried together from the artifact, like a logical restore from the dump.
      sandboxMayExist = true;
      for (let attempt = 1; ; attempt++) {
        try {
          const restored = await phase(Phases.Restore, () =>
            once.restorePhysicalBackup({ drillId, source: request.source.name, image: facts.image, artifactPath: published.dumpPath, manifest: published.manifest, prepareMemoryMb: request.source.physical?.prepareMemoryMb }),
          );
          sandbox = await phase(Phases.SandboxStart, () =>
            long.createSandbox({ ...sandboxRequest(), datadir: restored.datadir }),
          );
          progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt };
          await phase(Phases.Replay, () => once.replayBinlogs({ drillId, sandbox: sandbox!, plan: plan!, method: request.replayMethod }));
          break;
        } catch (err) {
          if (isCancellation(err) || attempt >= RESTORE_ATTEMPTS) throw err;
          // Retried when the worker died or the started sandbox was killed; a bad artifact fails at once.
          if (!isRetryableActivityFailure(err) && (!sandbox || (await quickAcrossDaemonRestart.inspectSandbox({ drillId })).running)) throw err;
        }
      }
    } else {
      // Registered before the create: removal is idempotent, so a sandbox that was created but
      // never answered is removed too.
      sandboxMayExist = true;
      if (!firstRestore) {
        sandbox = await phase(Phases.SandboxStart, () => long.createSandbox(sandboxRequest()));
        progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt };
      }
      // Restore and replay retry together, from the dump: a crashed attempt leaves the sandbox
      // half-loaded, and MariaDB would apply replayed events twice (only MySQL skips known GTIDs).
      for (let attempt = 1; ; attempt++) {
        try {
          if (attempt > 1) {
            // Adopts the sandbox (restarting it if it was killed, creating it if it never was) and stops the dead attempt's clients.
            sandbox = await phase(Phases.SandboxStart, () => longAcrossDaemonRestart.createSandbox(sandboxRequest()));
            progress.sandbox = { name: sandbox.name, socketPath: sandbox.socketPath, expiresAt: sandbox.expiresAt };
            await quickAcrossDaemonRestart.quiesceSandbox({ drillId });
          }
          if (attempt === 1 && firstRestore) await firstRestore;
          else await phase(Phases.Restore, () => once.restoreLogicalDump({ drillId, sandbox: sandbox!, dumpFile: published.dumpPath, method: request.restoreMethod, expectedSha256: published.manifest.sha256 }));
          await phase(Phases.Replay, () => once.replayBinlogs({ drillId, sandbox: sandbox!, plan: plan!, method: request.replayMethod }));
          break;
        } catch (err) {
          if (isCancellation(err) || attempt >= RESTORE_ATTEMPTS) throw err;
          if (!isRetryableActivityFailure(err) && (await quickAcrossDaemonRestart.inspectSandbox({ drillId })).running) throw err;
        }
      }
    }
    const verified = await phase(Phases.Checks, () =>
      long.verifyRestore({ drillId, sandbox: sandbox!, databases: facts.databases, plan: plan!, checkpoint, assertions: request.assertions }),
    );
    checks = verified.checks;
    reached = verified.reached;
    // Which transactions the sandbox itself says it applied, against the archive.
    proof = await phase('prove-point', () => quick.proveRecoveryPoint({ drillId, sandbox: sandbox!, plan: plan!, method: request.replayMethod }));
    if (proof.passed !== undefined) checks.push({ name: `recovery-point:${proof.method}`, kind: 'gtid', target: proof.method, passed: proof.passed, expected: proof.expected, actual: proof.actual, message: proof.message });
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
      rpoSeconds: plan && reached ? plan.rpoSeconds : undefined,
      recovery: plan && backupFacts.coordinates ? recoveryReport(plan, { manifestPath: baseManifestPath, coordinates: backupFacts.coordinates, chosen: baseChosen }, proof) : undefined,
      phases: [...phases],
      rtoSeconds: rtoSeconds(phases),
      rtoTargetSeconds: request.rtoTargetSeconds,
      rtoMissed: request.rtoTargetSeconds !== undefined && reached !== undefined ? rtoSeconds(phases) > request.rtoTargetSeconds : undefined,
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
  // Only after cleanup may the next drill of this source start. Should the release fail, the
  // lock still ends with this run (ParentClosePolicy TERMINATE).
  await lock?.release().catch(() => undefined);

  const report = buildReport();
  // Failed and cancelled drills get their report on disk too: it is what `history` reads.
  await CancellationScope.nonCancellable(() => cleanup.publishReport({ report })).catch((err) => log.warn('report not written', { error: String(err) }));
  // Alerts on a failure and on the first pass after failures (activities/notify.ts); never changes the outcome.
  if (!cancelled) await CancellationScope.nonCancellable(() => quick.notifyDrillOutcome({ report, runId: workflowInfo().runId })).catch((err) => log.warn('alert not delivered', { error: String(err) }));
  progress.report = report;
  progress.status = 'done';
  upsertSearchAttributes([
    { key: DrillOutcome, value: report.outcome },
    { key: DrillRtoSeconds, value: report.rtoSeconds },
    ...(report.failure ? [{ key: DrillFailureType, value: report.failure.type }] : []),
  ]);
  upsertMemo({ summary: `${report.outcome}: ${report.source} to ${report.target}, RTO ${report.rtoSeconds.toFixed(1)} s${report.rtoMissed ? ` (target ${report.rtoTargetSeconds} s MISSED)` : ''}, ${checks.filter((c) => c.passed).length}/${checks.length} checks passed` });

  if (cancelled) throw cancelled;
  if (report.outcome === 'failed') {
    const f = report.failure ?? { type: 'CheckFailed', message: `${checks.filter((c) => !c.passed).length} of ${checks.length} checks failed: ${checks.filter((c) => !c.passed).map((c) => c.name).slice(0, 5).join(', ')}` };
    throw ApplicationFailure.create({ type: f.type, message: `drill of ${report.source} failed: ${f.message}`, nonRetryable: true, details: [report] });
  }
  return report;
}

/** What the recovery reached, for the report (domain/recovery.ts). */
function recoveryReport(plan: ReplayPlan, baseBackup: RecoveryReport['baseBackup'], proof: RecoveryProof | undefined): RecoveryReport {
  return {
    baseBackup,
    transactionsApplied: plan.transactions,
    lastApplied: plan.lastApplied,
    firstNotApplied: plan.firstExcluded,
    skipped: plan.skipped,
    lastArchived: plan.lastArchived,
    shortfall: plan.shortfall,
    window: plan.window,
    proof,
  };
}
