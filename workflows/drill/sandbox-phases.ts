/**
 * The drill's phases in the sandbox: start it, restore the backup into it, replay the binlogs
 * to the target (retried together from the artifact), and check the result against the source.
 */
import { ApplicationFailure, CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import type { ReplayPlan, SandboxHandle, SourceFacts } from '../../activities';
import { Phases } from '../../domain/report/report';
import type { Drill } from './context';
import type { ObtainedBackup } from './source-phases';
import { planFromBackup } from './source-phases';
import { isHostTimeout } from './sandbox-host';
import { RESTORE_ATTEMPTS, longUntilStopped, planningUntilStopped } from './activity-options';

/**
 * Patch id: the first logical restore runs while the checkpoint, archive and plan are taken
 * (their order in the history changes; histories recorded before it replay the old order).
 */
const RESTORE_WHILE_PLANNING = 'restore-while-planning';

/** The kernel killed the sandbox at its memory limit: the activity failed with SandboxOutOfMemory. */
function outOfMemory(err: unknown): { message: string; limitMb?: number } | undefined {
  const cause = (err as { cause?: { type?: string; message?: string; details?: unknown[] } } | undefined)?.cause;
  if (cause?.type !== 'SandboxOutOfMemory') return undefined;
  const details = cause.details?.[0] as { limitMb?: number } | undefined;
  return { message: cause.message ?? '', ...(details?.limitMb ? { limitMb: details.limitMb } : {}) };
}

/**
 * A sandbox the kernel killed at its memory limit is started once more, with the memory the
 * worker's host can give it (activities/sandbox: twice the limit within the budget and what
 * is available); killed again, or with nothing more to give, the drill fails SandboxOutOfMemory.
 */
async function giveMoreMemory(d: Drill, err: unknown, oom: { message: string; limitMb?: number }): Promise<void> {
  const limitMb = oom.limitMb ?? d.state.sandbox?.memoryMb;
  if (d.state.memoryRetry || limitMb === undefined) throw err;
  const maxMemoryMb = d.request.sandbox?.maxMemoryMb;
  const decision = await d.onSandboxHost().quick.sandboxMemoryRetry({ drillId: d.drillId, limitMb, ...(maxMemoryMb !== undefined ? { maxMemoryMb } : {}) });
  if (!decision.retry) throw ApplicationFailure.create({ type: 'SandboxOutOfMemory', nonRetryable: true, message: `${oom.message}; ${decision.reason}`, details: [{ limitMb }] });
  d.state.memoryRetry = { fromMb: limitMb, toMb: decision.memoryMb };
  log.warn(`sandbox out of memory at ${limitMb} MiB: started again with ${decision.memoryMb} MiB`);
}

/**
 * A placed host that timed out (its worker or engine gone): the next attempt runs on the host
 * that holds the drill's slot once it is replaced (placement.ts), the lost one's leftovers are
 * its janitor's. `seen`: the placements received when the attempt began.
 */
async function hostLost(d: Drill, err: unknown, seen: number): Promise<boolean> {
  if (!d.placement || !isHostTimeout(err)) return false;
  const lost = d.placement.current?.host;
  const replaced = await d.placement.replacedSince(seen);
  log.warn(replaced ? `sandbox host ${lost} lost: the sandbox phase starts again on ${d.placement.current?.host}` : `sandbox host ${lost} timed out and no other host took the slot: trying it again`);
  if (replaced) d.state.sandbox = undefined;
  return true;
}

/** A heartbeat timeout (the worker died) or a failure its activity marked retryable. */
export function isRetryableActivityFailure(err: unknown): boolean {
  const cause = (err as { cause?: { name?: string; nonRetryable?: boolean } } | undefined)?.cause;
  return cause?.name === 'TimeoutFailure' || (cause?.name === 'ApplicationFailure' && cause.nonRetryable === false);
}

/**
 * Registered before the sandbox is created, not after: removal is idempotent (by the drill's
 * id), so a sandbox whose create failed or never answered is removed too. A kept sandbox is
 * removed the same way once released or expired.
 */
function registerSandboxRemoval(d: Drill): void {
  if (d.sandboxRemovalRegistered) return;
  d.sandboxRemovalRegistered = true;
  // On the host the sandbox is on when the drill ends: one lost before is its janitor's to clear.
  d.undos.push('remove the sandbox', () => d.phase(Phases.Cleanup, () => d.onSandboxHost().cleanup.removeSandbox({ drillId: d.drillId })));
}

function sandboxRequest(d: Drill, facts: SourceFacts, { published }: ObtainedBackup) {
  const { request, state } = d;
  return {
    drillId: d.drillId,
    source: request.source.name,
    flavor: state.flavor,
    image: facts.image,
    backupDir: published.backupDir,
    // Absent before the plan: the sandbox mounts the source's archive (the plan's own folder).
    ...(state.plan ? { binlogDir: state.plan.archiveDir } : {}),
    ttlSeconds: request.sandboxTtlSeconds,
    sourceDataBytes: facts.dataBytes,
    artifactBytes: published.manifest.bytes,
    bufferPoolMb: request.sandboxBufferPoolMb,
    // After the kernel killed it at its memory limit: the larger limit of its one retry.
    ...(state.memoryRetry ? { memoryMb: state.memoryRetry.toMb } : request.sandbox?.memoryMb !== undefined ? { memoryMb: request.sandbox.memoryMb } : {}),
    ...(request.sandbox?.cpus !== undefined ? { cpus: request.sandbox.cpus } : {}),
    ...(d.bisectSandbox ? { bisect: true } : {}),
  };
}

async function restoreDump(d: Drill, sandbox: SandboxHandle, { published }: ObtainedBackup) {
  d.state.restored = await d.phase(Phases.Restore, () =>
    d.onSandboxHost().once.restoreLogicalDump({
      drillId: d.drillId,
      sandbox,
      dumpFile: published.dumpPath,
      method: d.request.restoreMethod,
      expectedSha256: published.manifest.sha256,
      ...(published.manifest.compression ? { compression: published.manifest.compression } : {}),
      ...(published.manifest.origin ? { origin: published.manifest.origin } : {}),
      ...(published.manifest.intoDatabase ? { intoDatabase: published.manifest.intoDatabase } : {}),
      ...(published.manifest.directory ? { directory: published.manifest.directory } : {}),
    }),
  );
}

function replay(d: Drill, sandbox: SandboxHandle, plan: ReplayPlan) {
  // The worker count travels only when the request names one: histories recorded before it see the same input.
  const workers = d.request.replayWorkers !== undefined ? { workers: d.request.replayWorkers } : {};
  return d.phase(Phases.Replay, () => d.onSandboxHost().once.replayBinlogs({ drillId: d.drillId, sandbox, plan, method: d.request.replayMethod, ...workers }));
}

/**
 * Whether the first restore of a logical dump runs while the replay is planned: it does not
 * depend on the checkpoint or the plan, so the sandbox starts and loads the dump while the
 * source-side steps run (on another host in production, so their time drops out of the drill).
 * Only for a checkpoint, a target taken now: any other is planned first, so an unreachable one
 * is refused before a sandbox exists.
 */
export function restoresWhilePlanning(d: Drill, { published }: ObtainedBackup): boolean {
  return d.request.target.kind === 'checkpoint' && published.manifest.kind !== 'physical' && patched(RESTORE_WHILE_PLANNING);
}

/** Starts the sandbox and the first restore, then plans the replay; returns the restore, still running. */
export async function planWhileRestoring(d: Drill, facts: SourceFacts, backup: ObtainedBackup): Promise<{ firstRestore: Promise<void> }> {
  registerSandboxRemoval(d);
  const restoring = new CancellationScope();
  const firstRestore = restoring.run(async () => {
    const sandbox = d.useSandbox(await d.phase(Phases.SandboxStart, () => d.onSandboxHost().long.createSandbox(sandboxRequest(d, facts, backup))));
    await restoreDump(d, sandbox, backup);
  });
  // Settled by the replay, which waits for it; a failure there is handled where it is awaited.
  firstRestore.catch(() => undefined);
  try {
    // The checkpoint heartbeats (it may scan gigabytes while the restore runs); a cancelled drill waits for all three to stop.
    await planFromBackup(d, facts, backup, { checkpoint: longUntilStopped, archive: longUntilStopped, plan: planningUntilStopped });
  } catch (err) {
    restoring.cancel();
    await firstRestore.catch(() => undefined);
    throw err;
  }
  return { firstRestore };
}

/**
 * A physical backup (only on request or by a manifest's kind): extract (and prepare) it, start
 * the sandbox on it as its datadir, replay. Retried together from the artifact, like a logical
 * restore from the dump.
 */
export async function restorePhysicalAndReplay(d: Drill, facts: SourceFacts, backup: ObtainedBackup, plan: ReplayPlan | undefined): Promise<SandboxHandle> {
  const { request, drillId } = d;
  const { published } = backup;
  registerSandboxRemoval(d);
  for (let attempt = 1; ; attempt++) {
    const seen = d.placement?.received ?? 0;
    try {
      const restored = await d.phase(Phases.Restore, () =>
        d.onSandboxHost().once.restorePhysicalBackup({
          drillId,
          source: request.source.name,
          image: facts.image,
          artifactPath: published.dumpPath,
          manifest: published.manifest,
          prepareMemoryMb: request.source.physical?.prepareMemoryMb,
          ...(request.source.tools ? { tools: request.source.tools } : {}),
        }),
      );
      const sandbox = d.useSandbox(await d.phase(Phases.SandboxStart, () => d.onSandboxHost().long.createSandbox({ ...sandboxRequest(d, facts, backup), datadir: restored.datadir })));
      if (plan) await replay(d, sandbox, plan);
      return sandbox;
    } catch (err) {
      if (isCancellation(err) || attempt >= RESTORE_ATTEMPTS) throw err;
      const oom = outOfMemory(err);
      if (oom) {
        await giveMoreMemory(d, err, oom);
        continue;
      }
      // Retried when the worker died or the started sandbox was killed; a bad artifact fails at once.
      if (await hostLost(d, err, seen)) continue;
      if (!isRetryableActivityFailure(err) && (!d.state.sandbox || (await d.onSandboxHost().quickAcrossDaemonRestart.inspectSandbox({ drillId })).running)) throw err;
    }
  }
}

/**
 * Restore and replay retry together, from the dump: a crashed attempt leaves the sandbox
 * half-loaded, and MariaDB would apply replayed events twice (only MySQL skips known GTIDs).
 * The first attempt's restore may already be running (planWhileRestoring).
 */
export async function restoreDumpAndReplay(d: Drill, facts: SourceFacts, backup: ObtainedBackup, plan: ReplayPlan | undefined, firstRestore: Promise<void> | undefined): Promise<SandboxHandle> {
  if (!firstRestore) registerSandboxRemoval(d);
  for (let attempt = 1; ; attempt++) {
    // A first restore started while planning ran on the first placement.
    const seen = attempt === 1 && firstRestore ? Math.min(d.placement?.received ?? 0, 1) : (d.placement?.received ?? 0);
    try {
      if (attempt === 1 && !firstRestore) d.useSandbox(await d.phase(Phases.SandboxStart, () => d.onSandboxHost().long.createSandbox(sandboxRequest(d, facts, backup))));
      if (attempt > 1) {
        // Adopts the sandbox (restarting it if it was killed, creating it if it never was) and stops the dead attempt's clients.
        d.useSandbox(await d.phase(Phases.SandboxStart, () => d.onSandboxHost().longAcrossDaemonRestart.createSandbox(sandboxRequest(d, facts, backup))));
        await d.onSandboxHost().quickAcrossDaemonRestart.quiesceSandbox({ drillId: d.drillId });
      }
      if (attempt === 1 && firstRestore) await firstRestore;
      else await restoreDump(d, d.state.sandbox!, backup);
      if (plan) await replay(d, d.state.sandbox!, plan);
      return d.state.sandbox!;
    } catch (err) {
      if (isCancellation(err) || attempt >= RESTORE_ATTEMPTS) throw err;
      const oom = outOfMemory(err);
      if (oom) {
        await giveMoreMemory(d, err, oom);
        continue;
      }
      if (await hostLost(d, err, seen)) continue;
      // This function's own first sandbox never started (no image, a bad option): nothing a restore attempt fixes.
      if (attempt === 1 && !firstRestore && !d.state.sandbox) throw err;
      if (!isRetryableActivityFailure(err) && (await d.onSandboxHost().quickAcrossDaemonRestart.inspectSandbox({ drillId: d.drillId })).running) throw err;
    }
  }
}

/**
 * A team's backup without binlog coordinates (a cron dump taken without --source-data): restored
 * as it was taken, then checked on its own (CHECK TABLE, assertions); nothing to compare with the
 * source, which has moved on. Any target but the default is refused before a sandbox exists.
 */
export async function restoreAsTaken(d: Drill, facts: SourceFacts, backup: ObtainedBackup): Promise<void> {
  const { request, drillId, state } = d;
  const { manifest, dumpPath } = backup.published;
  if (request.target.kind !== 'checkpoint')
    throw ApplicationFailure.create({ type: 'BadTarget', nonRetryable: true, message: `${dumpPath} cannot be restored to ${d.target}: ${manifest.withoutCoordinates ?? 'it has no binlog coordinates'}. It can be drilled as it was taken (the default target).` });
  const sandbox = manifest.kind === 'physical' ? await restorePhysicalAndReplay(d, facts, backup, undefined) : await restoreDumpAndReplay(d, facts, backup, undefined, undefined);
  const databases = manifest.databases.length > 0 ? manifest.databases : facts.databases;
  // Nothing to compare with: the dump's own declarations and row counts are the reference.
  const { declaredObjects, rowsLoaded } = state.restored ?? {};
  const verified = await d.phase(Phases.Checks, () =>
    d.onSandboxHost().long.verifyRestore({ drillId, sandbox, databases, assertions: request.assertions, missingDefiners: request.missingDefiners, ...(declaredObjects ? { declaredObjects } : {}), ...(rowsLoaded ? { rowsLoaded } : {}) }),
  );
  state.checks = verified.checks;
  state.objects = verified.objects;
}

/**
 * {@link checkRestored}; a placed host lost during the checks: the sandbox phase (`restoreAgain`)
 * runs again on the host that took the drill's slot, and is checked there.
 */
export async function checkRestoredOnHost(d: Drill, facts: SourceFacts, restored: SandboxHandle, plan: ReplayPlan, restoreAgain: () => Promise<SandboxHandle>): Promise<void> {
  let sandbox = restored;
  for (let attempt = 1; ; attempt++) {
    const seen = d.placement?.received ?? 0;
    try {
      return await checkRestored(d, facts, sandbox, plan);
    } catch (err) {
      if (isCancellation(err) || attempt >= RESTORE_ATTEMPTS || !(await hostLost(d, err, seen))) throw err;
      sandbox = await restoreAgain();
    }
  }
}

/** Checks the restored data against the source, then what the sandbox itself says it applied against the archive. */
export async function checkRestored(d: Drill, facts: SourceFacts, sandbox: SandboxHandle, plan: ReplayPlan): Promise<void> {
  const { request, drillId, state } = d;
  const verified = await d.phase(Phases.Checks, () =>
    d.onSandboxHost().long.verifyRestore({ drillId, sandbox, databases: facts.databases, plan, checkpoint: state.checkpoint, assertions: request.assertions, missingDefiners: request.missingDefiners }),
  );
  state.checks = verified.checks;
  state.objects = verified.objects;
  state.reached = verified.reached;
  state.proof = await d.phase('prove-point', () => d.onSandboxHost().quick.proveRecoveryPoint({ drillId, sandbox, plan, method: request.replayMethod }));
}
