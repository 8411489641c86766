/**
 * Building the drill report from what the drill recorded: its phase timings, the backup, the
 * target, what the sandbox reached and proved, and how the drill ended. Also the words the
 * workflow shows for it (search attribute, memo) and the failure it ends with.
 *
 * Pure module: the workflow passes the clock's readings in.
 */

import type { CheckResult } from '../checks/results';
import type { ObjectsSummary } from '../checks/objects';
import type { RecoveryProof } from '../recovery/proof';
import type { RecoveryReport } from '../recovery/report';
import { backupAgeCheck, rpoMissed } from '../recovery/rpo';
import type { TransactionSummary } from '../recovery/transactions';
import type { Flavor, RecoveryPoint } from '../types';
import { drillOutcome, rtoSeconds } from './report';
import type { BackupFacts, DrillFailure, DrillReport, PhaseTiming } from './report';

/** A checkpoint target is taken from the source during the drill; the others name a point in its binlogs. */

/** What the replay plan says about the recovery (the fields of a ReplayPlan the report needs). */
export interface ReplayFacts {
  /** Transactions the replay applies (skipped ones excluded). */
  transactions: number;
  lastApplied?: TransactionSummary;
  /** The first transaction after the stop: not applied. */
  firstExcluded?: TransactionSummary;
  /** Transactions left out on request. */
  skipped: TransactionSummary[];
  /** The archive's reach: its last transaction. */
  lastArchived?: TransactionSummary;
  /** Best effort only: why the target itself was not reached. */
  shortfall?: string;
  /** The recoverable window of the source, in words. */
  window: string;
  /** Data loss of this recovery (0 when the target was reached). */
  rpoSeconds: number;
}

/** Everything the drill recorded; optional facts are absent when the drill stopped before them. */
export interface DrillRecord {
  drillId: string;
  source: string;
  flavor: Flavor;
  serverVersion: string;
  sandbox?: { image: string; memoryMb?: number; cpus?: number; bufferPoolMb?: number; host?: string };
  /** Worker hosts the sandbox phase was placed on before the one that ran it, lost mid-drill. */
  lostHosts?: string[];
  /** The one restart of a sandbox the kernel killed at its memory limit, with more memory. */
  memoryRetry?: { fromMb: number; toMb: number };
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string;
  backup: BackupFacts;
  /** describeTarget (domain/recovery/targets) of the request's target. */
  target: string;
  /** The backup replay starts from and how it was chosen (its coordinates are the backup's). */
  base: { manifestPath: string; chosen: RecoveryReport['baseBackup']['chosen'] };
  replay?: ReplayFacts;
  reached?: RecoveryPoint;
  checks: readonly CheckResult[];
  objects?: ObjectsSummary;
  proof?: RecoveryProof;
  phases: readonly PhaseTiming[];
  rtoTargetSeconds?: number;
  rpoTargetSeconds?: number;
  /** The backup is a team's newest (pick `latest`): its age is judged against the RPO objective. */
  judgeBackupAge?: boolean;
  failure?: DrillFailure;
  cancelled: boolean;
}

export const CANCELLED: DrillFailure = { type: 'Cancelled', message: 'the drill was cancelled' };

/**
 * The failure kind of an error chain (ActivityFailure → ApplicationFailure → …): the first
 * `type` found, matched as a string, never by class.
 */
export function drillFailureOf(err: unknown): DrillFailure {
  let e = err as { type?: unknown; message?: string; cause?: unknown } | undefined;
  const top = (err as Error | undefined)?.message ?? String(err);
  while (e) {
    if (typeof e.type === 'string' && e.type.length > 0) return { type: e.type, message: e.message ?? top };
    e = e.cause as typeof e;
  }
  return { type: 'Unknown', message: top };
}

/** The sandbox's own proof of the recovery point, as a check when it could decide. */
export function proofCheck(proof: RecoveryProof): CheckResult | undefined {
  if (proof.passed === undefined) return undefined;
  return { name: `recovery-point:${proof.method}`, kind: 'gtid', target: proof.method, passed: proof.passed, expected: proof.expected, actual: proof.actual, message: proof.message };
}

/** The sandbox's image and limits, and its out-of-memory retry. */
function sandboxFacts(sandbox: NonNullable<DrillRecord['sandbox']>, memoryRetry: DrillRecord['memoryRetry'], lostHosts: DrillRecord['lostHosts']): NonNullable<DrillReport['sandbox']> {
  return {
    image: sandbox.image,
    ...(sandbox.host !== undefined ? { host: sandbox.host } : {}),
    ...(lostHosts && lostHosts.length > 0 ? { lostHosts } : {}),
    ...(sandbox.memoryMb !== undefined ? { memoryMb: sandbox.memoryMb } : {}),
    ...(sandbox.cpus !== undefined ? { cpus: sandbox.cpus } : {}),
    ...(sandbox.bufferPoolMb !== undefined ? { bufferPoolMb: sandbox.bufferPoolMb } : {}),
    ...(memoryRetry ? { memoryRetry } : {}),
  };
}

export function buildDrillReport(r: DrillRecord): DrillReport {
  const proved = r.proof ? proofCheck(r.proof) : undefined;
  const aged = r.judgeBackupAge ? backupAgeCheck({ takenAt: r.backup.takenAt, checkedAt: r.startedAt, rpoTargetSeconds: r.rpoTargetSeconds }) : undefined;
  const checks = [...r.checks, ...(proved ? [proved] : []), ...(aged ? [aged] : [])];
  const failure = r.failure ?? (r.cancelled ? CANCELLED : undefined);
  const rto = rtoSeconds(r.phases);
  // The plan's RPO holds only for a replay that actually reached its stop.
  const rpoSeconds = r.replay && r.reached ? r.replay.rpoSeconds : undefined;
  const coordinates = r.backup.coordinates;
  return {
    drillId: r.drillId,
    source: r.source,
    flavor: r.flavor,
    serverVersion: r.serverVersion,
    sandbox: r.sandbox ? sandboxFacts(r.sandbox, r.memoryRetry, r.lostHosts) : undefined,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    backup: r.backup,
    target: r.target,
    recoveryPoint: r.reached,
    rpoSeconds,
    rpoTargetSeconds: r.rpoTargetSeconds,
    rpoMissed: rpoMissed(rpoSeconds, r.rpoTargetSeconds),
    recovery: r.replay && coordinates ? recoveryReport(r.replay, { ...r.base, coordinates }, r.proof) : undefined,
    phases: [...r.phases],
    rtoSeconds: rto,
    rtoTargetSeconds: r.rtoTargetSeconds,
    // Only a restore that completed can have missed its target; a failed one has no RTO.
    rtoMissed: r.rtoTargetSeconds !== undefined && r.reached !== undefined ? rto > r.rtoTargetSeconds : undefined,
    totalSeconds: (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000,
    checks,
    ...(r.objects ? { objects: r.objects } : {}),
    outcome: drillOutcome(checks, failure),
    failure,
  };
}

function recoveryReport(replay: ReplayFacts, baseBackup: RecoveryReport['baseBackup'], proof: RecoveryProof | undefined): RecoveryReport {
  return {
    baseBackup,
    transactionsApplied: replay.transactions,
    lastApplied: replay.lastApplied,
    firstNotApplied: replay.firstExcluded,
    skipped: replay.skipped,
    lastArchived: replay.lastArchived,
    shortfall: replay.shortfall,
    window: replay.window,
    proof,
  };
}

/** Why a failed report fails: its failure, else the checks that failed. Undefined when it passed. */
export function reportFailure(report: DrillReport): DrillFailure | undefined {
  if (report.outcome !== 'failed') return undefined;
  if (report.failure) return report.failure;
  const failed = report.checks.filter((c) => !c.passed);
  // A failed check that names its own failure (a missing definer, an unusable view) types the drill's failure, and its message leads.
  const typed = failed.find((c) => c.failureType !== undefined);
  return {
    type: typed?.failureType ?? 'CheckFailed',
    message: `${failed.length} of ${report.checks.length} checks failed: ${failed.map((c) => c.name).slice(0, 5).join(', ')}${typed?.message ? `; ${typed.message}` : ''}`,
  };
}

/** One line for the workflow's memo, read in the Temporal UI's list. */
export function reportMemoSummary(report: DrillReport): string {
  const passed = report.checks.filter((c) => c.passed).length;
  const missed = report.rtoMissed ? ` (target ${report.rtoTargetSeconds} s MISSED)` : '';
  return `${report.outcome}: ${report.source} to ${report.target}, RTO ${report.rtoSeconds.toFixed(1)} s${missed}, ${passed}/${report.checks.length} checks passed`;
}
