/**
 * The drill's phases on the source side: inspect it, take or pick a backup and verify it, take
 * the checkpoint, archive the binlogs and plan the replay. Orchestration only: each step is an activity.
 */
import { ApplicationFailure, CancellationScope, patched } from '@temporalio/workflow';
import type { PublishedBackup, SourceCheckpoint, SourceFacts } from '../../activities';
import type { DrillRequest } from '../../config/schema';
import type { FailedStart } from '../../domain/bisect/start';
import { replayWorkersProblem } from '../../domain/replay/parallel-apply';
import { Phases } from '../../domain/report/report';
import type { Drill } from './context';
import type { DrillActivityProxy } from './activity-options';
import { backupNotes, takeBackup } from './backup-attempts';
import { adoption, long, longUntilStopped, planning, quick } from './activity-options';

/**
 * Patch id: a checkpoint target's checkpoint is taken while the artifact is verified, not after
 * (it reads only the source; the verification keeps one core busy and the other idle).
 */
const CHECKPOINT_WHILE_VERIFYING = 'checkpoint-while-verifying';

/** Patch id: a worker count out of range is refused once the source is inspected, before any backup or sandbox. */
const REPLAY_WORKERS_CHECKED_EARLY = 'replay-workers-checked-early';

export async function inspectSource(d: Drill): Promise<SourceFacts> {
  const facts = await d.phase('inspect-source', () => quick.inspectSource(d.request.source));
  d.state.flavor = facts.identity.flavor;
  d.state.serverVersion = facts.identity.version;
  if (d.request.replayWorkers !== undefined && patched(REPLAY_WORKERS_CHECKED_EARLY)) {
    const problem = replayWorkersProblem(d.request.replayWorkers);
    if (problem) throw ApplicationFailure.create({ type: 'BadConfig', nonRetryable: true, message: problem });
  }
  return facts;
}

/**
 * An incident recovery (a target, no backup named) starts from the newest published backup
 * before the target and never takes a new one: it would already contain the damage.
 */
export function isIncidentRecovery(request: DrillRequest): boolean {
  return !request.backup?.manifest && !request.backup?.team && request.target.kind !== 'checkpoint';
}

/** Plans an incident recovery from the archive; returns the manifest of the backup it starts from. */
export async function planIncidentRecovery(d: Drill, facts: SourceFacts, bisectStarts?: { tried: FailedStart[]; expected: string }): Promise<string> {
  const { request, drillId } = d;
  await d.phase('archive-binlogs', () => long.archiveBinlogs({ drillId, source: request.source, facts, rpoTargetSeconds: request.rpoTargetSeconds }));
  const recovery = await d.phase('plan-replay', () =>
    planning.planRecovery({ source: request.source, flavor: d.state.flavor, target: request.target, skip: request.skip, bestEffort: request.bestEffort, ...(bisectStarts ? { bisectStarts } : {}) }),
  );
  d.state.plan = recovery.plan;
  return recovery.backup.manifestPath;
}

export interface ObtainedBackup {
  published: PublishedBackup;
  /** A checkpoint target's checkpoint, when it was taken while the artifact was verified. */
  earlyCheckpoint?: Promise<SourceCheckpoint>;
}

/**
 * Takes a backup, or picks the given one, and verifies it in full (size, sha256, the gzip
 * stream, the trailer) before any sandbox starts: a broken artifact is refused before any work.
 * The parallel restore checks the stream, sha256 and trailer again as it loads.
 */
export async function obtainVerifiedBackup(d: Drill, facts: SourceFacts, givenManifest: string | undefined): Promise<ObtainedBackup> {
  const { request, drillId } = d;
  let obtained: ObtainedBackup;
  const team = request.backup?.team;
  if (givenManifest) {
    obtained = await verifyWhileCheckpointing(d, facts, () => long.verifyBackup({ manifestPath: givenManifest }));
  } else if (team) {
    // A team's own backup: picked in its location and put through the door checks where it is.
    // No checkpoint meanwhile: whether the backup can be rolled forward to one is known only after.
    obtained = { published: await d.phase(Phases.VerifyArtifact, () => adoption.adoptTeamBackup({ drillId, source: request.source, facts, team })) };
  } else {
    const published = await takeBackup(d, facts);
    obtained = { ...(await verifyWhileCheckpointing(d, facts, () => long.verifyBackup({ manifestPath: published.manifestPath }))), published };
  }
  const { published } = obtained;
  const m = published.manifest;
  d.state.backup = { ...backupNotes(d.state.backup, facts), artifactPath: published.dumpPath, bytes: m.bytes, sha256: m.sha256, coordinates: m.coordinates, gtidSet: m.gtidSet, takenAt: m.createdAt, ...(m.withoutCoordinates ? { notRolledForward: m.withoutCoordinates } : {}), ...(m.chain ? { chain: m.chain.members.map((c) => c.backupId) } : {}) };
  d.state.base = { manifestPath: published.manifestPath, chosen: isIncidentRecovery(request) ? 'newest-before-target' : request.backup?.manifest || team ? 'given' : 'taken' };
  return obtained;
}

/**
 * Verifies the artifact; a checkpoint target's checkpoint (a read of the source, after the
 * backup) is taken meanwhile. A failed verification stops it and waits until it has stopped.
 */
async function verifyWhileCheckpointing(d: Drill, facts: SourceFacts, verify: () => Promise<PublishedBackup>): Promise<ObtainedBackup> {
  const checkpointing = new CancellationScope();
  let earlyCheckpoint: Promise<SourceCheckpoint> | undefined;
  if (d.request.target.kind === 'checkpoint' && patched(CHECKPOINT_WHILE_VERIFYING)) {
    earlyCheckpoint = checkpointing.run(() => takeCheckpoint(d, facts, longUntilStopped));
    // Awaited where the plan needs it; a failure there is handled where it is awaited.
    earlyCheckpoint.catch(() => undefined);
  }
  try {
    const published = await d.phase(Phases.VerifyArtifact, verify);
    return { published, earlyCheckpoint };
  } catch (err) {
    checkpointing.cancel();
    await earlyCheckpoint?.catch(() => undefined);
    throw err;
  }
}

function takeCheckpoint(d: Drill, facts: SourceFacts, proxy: DrillActivityProxy): Promise<SourceCheckpoint> {
  return d.phase('checkpoint', () => proxy.captureSourceCheckpoint({ source: d.request.source, facts, checksum: d.request.checksum }));
}

export interface PlanningProxies {
  checkpoint: DrillActivityProxy;
  archive: DrillActivityProxy;
  plan: DrillActivityProxy;
}

/**
 * The source-side steps from the backup to the replay plan: the checkpoint (a target taken
 * now), the binlogs archived since the backup, the plan of what to replay.
 */
export async function planFromBackup(d: Drill, facts: SourceFacts, backup: ObtainedBackup, proxies: PlanningProxies): Promise<void> {
  const { request, drillId, state } = d;
  const { manifest } = backup.published;
  const start = manifest.coordinates;
  if (!start) throw ApplicationFailure.create({ type: 'BadTarget', nonRetryable: true, message: `${backup.published.dumpPath} has no binlog coordinates: it cannot be rolled forward` });
  if (request.target.kind === 'checkpoint') state.checkpoint = await (backup.earlyCheckpoint ?? takeCheckpoint(d, facts, proxies.checkpoint));
  await d.phase('archive-binlogs', () => proxies.archive.archiveBinlogs({ drillId, source: request.source, facts, fromFile: start.file, rpoTargetSeconds: request.rpoTargetSeconds }));
  state.plan = await d.phase('plan-replay', () =>
    proxies.plan.planReplay({ source: request.source, flavor: state.flavor, start, gtidSet: manifest.gtidSet, target: request.target, checkpoint: state.checkpoint, skip: request.skip, bestEffort: request.bestEffort }),
  );
}
