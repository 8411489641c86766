/**
 * The recovery point objective (a source's `rpoTarget`): how much data a recovery may lose.
 * Three things are judged against it: the RPO a drill reached, the binlog archive's lag (writes a
 * recovery right now could lose), and the age of a team's newest backup.
 *
 * Pure module.
 */
import type { CheckResult } from '../checks/results';

/** Missed only when there is both a measure and an objective. */
export function rpoMissed(rpoSeconds: number | undefined, rpoTargetSeconds: number | undefined): boolean | undefined {
  if (rpoSeconds === undefined || rpoTargetSeconds === undefined) return undefined;
  return rpoSeconds > rpoTargetSeconds;
}

/**
 * One successful archiving run. The archive holds everything the source wrote before the run
 * started (it copies to the end of the source's newest binlog), so that moment is how far the
 * archive is known complete: `caughtUpAt`. Between runs, a lost source loses everything since.
 */
export interface ArchiveRun {
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string;
  /** Commit time of the newest archived transaction (the recoverable window's end), if any. */
  lastTransactionAt?: string;
}

/** What a run establishes, kept between runs (and worker restarts) beside the archive. */
export interface ArchiveLagState {
  /** The archive holds every transaction committed before this (ISO-8601 UTC). */
  caughtUpAt: string;
  lastTransactionAt?: string;
  /**
   * The archive's lag just before this run: seconds between the previous run's `caughtUpAt` and
   * this run's start, the longest a lost source would have lost. Absent for a first run.
   */
  lagBeforeRunSeconds?: number;
  rpoTargetSeconds?: number;
  /** The lag before this run exceeded the objective: a recovery then would have missed it. */
  rpoMissed?: boolean;
}

export function measureArchiveRun(run: ArchiveRun, previous: ArchiveLagState | undefined, rpoTargetSeconds: number | undefined): ArchiveLagState {
  const lagBeforeRunSeconds = previous === undefined ? undefined : Math.max(0, (Date.parse(run.startedAt) - Date.parse(previous.caughtUpAt)) / 1000);
  // A run that overlaps a slower earlier one never moves the mark backwards.
  const caughtUpAt = previous !== undefined && Date.parse(previous.caughtUpAt) > Date.parse(run.startedAt) ? previous.caughtUpAt : run.startedAt;
  const state: ArchiveLagState = { caughtUpAt };
  const last = run.lastTransactionAt ?? previous?.lastTransactionAt;
  if (last !== undefined) state.lastTransactionAt = last;
  if (lagBeforeRunSeconds !== undefined) state.lagBeforeRunSeconds = round3(lagBeforeRunSeconds);
  if (rpoTargetSeconds !== undefined) state.rpoTargetSeconds = rpoTargetSeconds;
  const missed = rpoMissed(lagBeforeRunSeconds, rpoTargetSeconds);
  if (missed !== undefined) state.rpoMissed = missed;
  return state;
}

/** Seconds of writes the archive may lack at `nowMs`: since it last caught up with the source. */
export function archiveLagSeconds(state: Pick<ArchiveLagState, 'caughtUpAt'>, nowMs: number): number {
  return round3(Math.max(0, (nowMs - Date.parse(state.caughtUpAt)) / 1000));
}

/** The words an alert and a log line use for an archive that fell behind its objective. */
export function archiveRpoMissMessage(source: string, state: ArchiveLagState): string | undefined {
  if (!state.rpoMissed || state.lagBeforeRunSeconds === undefined || state.rpoTargetSeconds === undefined) return undefined;
  return (
    `the binlog archive of ${source} was ${formatAge(state.lagBeforeRunSeconds)} behind the source before its last run, over the RPO objective of ${formatAge(state.rpoTargetSeconds)}: ` +
    `a recovery then would have lost more than the objective allows. Check that the archiver schedule runs and succeeds (restore-drill schedule describe ${source}), and that archiveEvery is well under rpoTarget`
  );
}

export const BACKUP_AGE_CHECK = 'rpo:backup-age';

/**
 * A team's newest backup (picked by the `latest` policy) older than the RPO objective means
 * the team's backup job has stopped: restoring it would lose more than the objective allows.
 * Undefined without an objective or without the backup's time.
 */
export function backupAgeCheck(opts: { takenAt?: string; checkedAt: string; rpoTargetSeconds?: number }): CheckResult | undefined {
  if (opts.takenAt === undefined || opts.rpoTargetSeconds === undefined) return undefined;
  const age = Math.max(0, (Date.parse(opts.checkedAt) - Date.parse(opts.takenAt)) / 1000);
  if (!Number.isFinite(age)) return undefined;
  const passed = age <= opts.rpoTargetSeconds;
  return {
    name: BACKUP_AGE_CHECK,
    kind: 'freshness',
    target: 'newest team backup',
    passed,
    expected: `at most ${formatAge(opts.rpoTargetSeconds)} old (rpoTarget)`,
    actual: `${formatAge(age)} old (taken ${opts.takenAt})`,
    ...(passed
      ? {}
      : { message: `the newest backup is ${formatAge(age)} old, over the RPO objective of ${formatAge(opts.rpoTargetSeconds)}: the team's backup job has stopped or is failing; restoring it now would lose ${formatAge(age)} of writes` }),
  };
}

/** `45 s`, `12 min`, `3.5 h`, `2.1 d`: ages in alerts and checks, to the precision a DBA reads. */
export function formatAge(seconds: number): string {
  // A sub-second target (1 ms, 0.5 s) is not "0 s".
  if (seconds < 1) return `${Number(seconds.toPrecision(2))} s`;
  if (seconds < 10) return `${trim(seconds)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${trim(seconds / 3600)} h`;
  return `${trim(seconds / 86400)} d`;
}

function trim(n: number): string {
  return n.toFixed(1).replace(/\.0$/, '');
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
