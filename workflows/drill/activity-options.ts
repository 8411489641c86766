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
export const quick = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 5 } });
/** Long I/O: heartbeats every 2 s, so a dead worker is noticed within the heartbeat timeout. */
export const long = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4 } });
/**
 * Taking the drill's backup: Temporal retries what a retry of the same take fixes (a dead
 * worker); an interruption by the source comes back to the workflow, which takes the backup
 * again under a fresh name after a pause (backup-attempts.ts).
 */
export const backupTake = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 4, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES, ...BACKUP_INTERRUPTION_TYPES] } });
/** Restore and replay: one attempt per call; the workflow retries the pair from a clean sandbox. */
export const once = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: 1 } });
export type DrillActivityProxy = typeof quick;

/** Restore-and-replay attempts, each from the artifact into a clean sandbox. */
export const RESTORE_ATTEMPTS = 4;

/**
 * Between restore attempts the sandbox is inspected, adopted and quiesced; a Docker daemon that is
 * restarting refuses meanwhile (Transient), so these retry for about 2.5 minutes instead of 15 s.
 */
const DAEMON_RESTART_ATTEMPTS = 10;
export const quickAcrossDaemonRestart = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } });
export const longAcrossDaemonRestart = proxyWithSummaries({ startToCloseTimeout: '4h', heartbeatTimeout: '30s', retry: { ...retry, maximumAttempts: DAEMON_RESTART_ATTEMPTS } });

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
export const cleanup = proxyWithSummaries({ startToCloseTimeout: '5m', retry: { ...retry, maximumAttempts: 20 } });
