/**
 * The drill's activity proxies: one per kind of call, each with the timeouts and retries that
 * kind needs. Every call carries a summary for the UI (../activity-summaries.ts).
 */
import { ActivityCancellationType } from '@temporalio/workflow';
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { BACKUP_INTERRUPTION_TYPES, NON_RETRYABLE_ERROR_TYPES } from '../../domain/errors';
import { proxyWithSummaries } from '../activity-summaries';

const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] };

/** Quick reads and decisions. */
const QUICK: ActivityOptions = { startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 5 } };
export const quick = proxyWithSummaries(QUICK);
/** Long I/O: heartbeats every 2 s, so a dead worker is noticed within the heartbeat timeout. */
const LONG: ActivityOptions = { startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 } };
export const long = proxyWithSummaries(LONG);
/**
 * Taking the drill's backup: Temporal retries what a retry of the same take fixes (a dead
 * worker); an interruption by the source comes back to the workflow, which takes the backup
 * again under a fresh name after a pause (backup-attempts.ts).
 */
export const backupTake = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...BACKUP_INTERRUPTION_TYPES] } });
/** Restore and replay: one attempt per call; the workflow retries the pair from a clean sandbox. */
const ONCE: ActivityOptions = { startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 1 } };
export const once = proxyWithSummaries(ONCE);
export type DrillActivityProxy = typeof quick;

/** Restore-and-replay attempts, each from the artifact into a clean sandbox. */
export const RESTORE_ATTEMPTS = 4;

/**
 * Between restore attempts the sandbox is inspected, adopted and quiesced; a Docker daemon that is
 * restarting refuses meanwhile (Transient), so these retry for about 2.5 minutes instead of 15 s.
 */
const DAEMON_RESTART_ATTEMPTS = 10;
const QUICK_ACROSS_DAEMON_RESTART: ActivityOptions = { startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } };
const LONG_ACROSS_DAEMON_RESTART: ActivityOptions = { startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } };
export const quickAcrossDaemonRestart = proxyWithSummaries(QUICK_ACROSS_DAEMON_RESTART);
export const longAcrossDaemonRestart = proxyWithSummaries(LONG_ACROSS_DAEMON_RESTART);

/**
 * The source-side steps while the first restore runs: a cancelled drill waits until they have
 * stopped (and removed their tool containers) before its cleanup, not just until they were asked to.
 */
export const longUntilStopped = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 }, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

/**
 * Replay planning reads and parses the whole archive since the backup, heartbeating while it
 * does (activities/binlog): a task lost on its way to or from a worker is retried after
 * 30 s instead of after a start-to-close timeout sized for the largest archive.
 */
const PLANNING_OPTIONS: ActivityOptions = { startToCloseTimeout: '1h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 5 } };
export const planning = proxyWithSummaries(PLANNING_OPTIONS);
export const planningUntilStopped = proxyWithSummaries({ ...PLANNING_OPTIONS, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

/**
 * Adopting a team's backup: a file still being written (ArtifactInFlight) is tried again over
 * about 15 minutes, the time a nightly dump job takes to finish, before the drill gives up.
 */
export const adoption = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, initialInterval: '30s', maximumInterval: '5m', maximumAttempts: 6 } });

/**
 * A bisect's consistency query: it may scan large tables, so it heartbeats instead of being
 * bounded by a short timeout, and a worker that dies while it runs is noticed within 30 s.
 */
export const consistencyQuery = proxyWithSummaries({ startToCloseTimeout: '1h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 5 } });

/** Cleanup must outlast transient Docker trouble. */
const CLEANUP: ActivityOptions = { startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 20 } };
export const cleanup = proxyWithSummaries(CLEANUP);

/** The proxies a sandbox's own activities go through (sandbox start, restore, replay, checks, removal). */
export interface SandboxProxies {
  quick: DrillActivityProxy;
  long: DrillActivityProxy;
  once: DrillActivityProxy;
  quickAcrossDaemonRestart: DrillActivityProxy;
  longAcrossDaemonRestart: DrillActivityProxy;
  cleanup: DrillActivityProxy;
}

/** Where no host is placed: the drill's own queue, as before placement. */
export const unplaced: SandboxProxies = { quick, long, once, quickAcrossDaemonRestart, longAcrossDaemonRestart, cleanup };

/**
 * A queue only the host's worker polls takes a task within this, or the host is taken for lost
 * (Temporal does not retry a schedule-to-start timeout). The heartbeating calls (start, restore,
 * replay, checks) notice a host lost mid-call within their 30 s heartbeat timeout; the short ones
 * (inspect, quiesce, prove, remove) within HOST_QUICK_TIMEOUT.
 */
export const HOST_SCHEDULE_TO_START = '30s';
const HOST_QUICK_TIMEOUT = '2m';

const placedProxies = new Map<string, SandboxProxies>();

/** The same calls on one host's own task queue. */
export function onHostQueue(hostQueue: string): SandboxProxies {
  let proxies = placedProxies.get(hostQueue);
  if (!proxies) {
    const on = (o: ActivityOptions, shortCall = false) => proxyWithSummaries({ ...o, ...(shortCall ? { startToCloseTimeout: HOST_QUICK_TIMEOUT } : {}), taskQueue: hostQueue, scheduleToStartTimeout: HOST_SCHEDULE_TO_START });
    proxies = { quick: on(QUICK, true), long: on(LONG), once: on(ONCE), quickAcrossDaemonRestart: on(QUICK_ACROSS_DAEMON_RESTART, true), longAcrossDaemonRestart: on(LONG_ACROSS_DAEMON_RESTART), cleanup: on(CLEANUP, true) };
    placedProxies.set(hostQueue, proxies);
  }
  return proxies;
}
