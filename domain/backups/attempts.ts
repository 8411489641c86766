/**
 * How often the drill takes its backup again when the source interrupts it, how long it waits
 * in between, and what the report says about the attempts. Pure: the workflow
 * (workflows/drill/backup-attempts.ts) sleeps and calls.
 */
import { BACKUP_INTERRUPTION_TYPES } from '../errors';

/** One take of the drill's backup, as the report lists it. */
export interface BackupAttempt {
  /** From 1. */
  attempt: number;
  outcome: 'ok' | 'failed';
  /** The failure's type and message, for a failed attempt. */
  type?: string;
  message?: string;
}

export interface BackupRetryPolicy {
  /** Takes in all, the first included. */
  attempts: number;
  /** The wait after the first interrupted take; it doubles after each further one. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
}

/**
 * Three takes, 30 s then 60 s apart: a source restart or a one-off ALTER is over by then; a
 * source that interrupts every take within 2 minutes has a problem a DBA must see.
 */
export const DEFAULT_BACKUP_RETRY: BackupRetryPolicy = { attempts: 3, firstDelaySeconds: 30, maxDelaySeconds: 300 };

export function backupRetryPolicy(request: { attempts?: number; retryDelaySeconds?: number } | undefined): BackupRetryPolicy {
  return {
    ...DEFAULT_BACKUP_RETRY,
    ...(request?.attempts === undefined ? {} : { attempts: request.attempts }),
    ...(request?.retryDelaySeconds === undefined ? {} : { firstDelaySeconds: request.retryDelaySeconds }),
  };
}

/**
 * Seconds to wait before taking the backup again after `failedAttempt` failed with `type`;
 * undefined when it is not taken again (not an interruption, or no attempts left).
 */
export function backupRetryDelaySeconds(policy: BackupRetryPolicy, failedAttempt: number, type: string): number | undefined {
  if (!BACKUP_INTERRUPTION_TYPES.includes(type as (typeof BACKUP_INTERRUPTION_TYPES)[number])) return undefined;
  if (failedAttempt >= policy.attempts) return undefined;
  return Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** (failedAttempt - 1));
}

/** The drill's failure after every take was interrupted: the last interruption, with the count. */
export function exhaustedBackupMessage(attempts: readonly BackupAttempt[]): string {
  const last = attempts[attempts.length - 1];
  const kinds = [...new Set(attempts.map((a) => a.type))].join(', ');
  return `the backup was interrupted in each of ${attempts.length} attempts (${kinds}); the last: ${last?.message ?? 'unknown'}`;
}

/** One line per attempt, for the report (only when there was more than one). */
export function describeBackupAttempts(attempts: readonly BackupAttempt[] | undefined): string[] {
  if (!attempts || attempts.length < 2) return [];
  return attempts.map((a) => `attempt ${a.attempt}: ${a.outcome === 'ok' ? 'ok' : `${a.type}: ${(a.message ?? '').split('\n')[0]}`}`);
}
