/**
 * One drill's context: its request and ids, the facts its phases have established so far, its
 * undo stack and its progress board. The phases read and fill it; the report is built from it.
 */
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ReplayPlan, RestoreOutcome, SandboxHandle, SourceCheckpoint } from '../../activities';
import type { ObjectsSummary } from '../../domain/checks/objects';
import type { DrillRequest } from '../../config/schema';
import type { CheckResult } from '../../domain/checks/results';
import type { RecoveryProof } from '../../domain/recovery/proof';
import type { Flavor, RecoveryPoint } from '../../domain/types';
import { buildDrillReport, drillFailureOf } from '../../domain/report/build';
import { describeTarget } from '../../domain/recovery/targets';
import type { DrillRecord } from '../../domain/report/build';
import type { BackupFacts, DrillFailure, DrillReport } from '../../domain/report/report';
import { UndoStack } from './cleanup';
import { ProgressBoard } from './progress';
import { unplaced } from './activity-options';
import type { SandboxProxies } from './activity-options';
import type { SandboxHost } from './sandbox-host';

/** What the drill has established so far; absent facts were never reached. */
export interface DrillState {
  flavor: Flavor;
  serverVersion: string;
  backup: BackupFacts;
  base: DrillRecord['base'];
  checkpoint?: SourceCheckpoint;
  plan?: ReplayPlan;
  sandbox?: SandboxHandle;
  checks: CheckResult[];
  /** The restore's outcome: what a dump restored as taken is checked against (its objects, its rows per table). */
  restored?: RestoreOutcome;
  objects?: ObjectsSummary;
  reached?: RecoveryPoint;
  proof?: RecoveryProof;
  failure?: DrillFailure;
  /** The one restart of a sandbox the kernel killed at its memory limit, with more memory. */
  memoryRetry?: { fromMb: number; toMb: number };
  /** The cancellation that stopped the drill, rethrown once it has cleaned up and reported. */
  cancelled?: unknown;
}

export class Drill {
  readonly drillId = workflowInfo().workflowId;
  readonly startedAt = new Date().toISOString();
  readonly board = new ProgressBoard();
  readonly undos = new UndoStack();
  readonly target: string;
  readonly state: DrillState;
  /** The host the sandbox phase runs on, when the fleet places sandboxes (placement.ts). */
  placement?: SandboxHost;
  /** Whether the sandbox's removal is registered (once, whichever host it ends up on). */
  sandboxRemovalRegistered = false;
  /** A bisect's sandbox: restarted in place for snapshots and rewinds (activities/sandbox: `bisect`). */
  bisectSandbox = false;

  constructor(readonly request: DrillRequest) {
    this.target = describeTarget(request.target);
    this.state = {
      flavor: request.source.flavor ?? 'mysql',
      serverVersion: '',
      backup: { artifactPath: '', bytes: 0, sha256: '' },
      base: { manifestPath: '', chosen: 'taken' },
      checks: [],
    };
  }

  /** The sandbox's activities: on the placed host's own queue, else on the drill's. */
  onSandboxHost(): SandboxProxies {
    return this.placement?.proxies() ?? unplaced;
  }

  phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.board.phase(name, work);
  }

  useSandbox(sandbox: SandboxHandle): SandboxHandle {
    this.state.sandbox = sandbox;
    this.board.showSandbox(sandbox);
    return sandbox;
  }

  /** Records why the drill stopped early: cancelled, or failed with the first failure's type. */
  stop(err: unknown): void {
    if (isCancellation(err)) this.state.cancelled = err;
    else this.state.failure ??= drillFailureOf(err);
  }

  report(): DrillReport {
    const s = this.state;
    return buildDrillReport({
      drillId: this.drillId,
      source: this.request.source.name,
      flavor: s.flavor,
      serverVersion: s.serverVersion,
      sandbox: s.sandbox,
      lostHosts: this.placement?.hosts.slice(0, -1),
      memoryRetry: s.memoryRetry,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      backup: s.backup,
      target: this.target,
      base: s.base,
      replay: s.plan,
      reached: s.reached,
      checks: s.checks,
      objects: s.objects,
      proof: s.proof,
      phases: this.board.phases,
      rtoTargetSeconds: this.request.rtoTargetSeconds,
      rpoTargetSeconds: this.request.rpoTargetSeconds,
      // A team's newest backup older than the objective: its backup job has stopped.
      judgeBackupAge: this.request.backup?.team?.pick === 'latest',
      failure: s.failure,
      cancelled: s.cancelled !== undefined,
    });
  }
}
