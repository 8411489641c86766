/**
 * Taking the drill's own backup, again when the source interrupts it (a KILL, a restart, DDL on
 * a table being copied, a lock wait timeout): a bounded number of takes with growing pauses,
 * each under a fresh name, then the interruption's typed failure. Any other failure ends the
 * drill at once. Every take is listed in the report.
 */
import { ApplicationFailure, isCancellation, patched, sleep } from '@temporalio/workflow';
import type { PublishedBackup, SourceFacts } from '../../activities';
import { backupRetryDelaySeconds, backupRetryPolicy, exhaustedBackupMessage } from '../../domain/backups/attempts';
import type { BackupAttempt } from '../../domain/backups/attempts';
import { BACKUP_INTERRUPTION_TYPES } from '../../domain/errors';
import { DEFAULT_MAX_INCREMENTS } from '../../domain/physical/chain';
import { drillFailureOf } from '../../domain/report/build';
import { Phases } from '../../domain/report/report';
import type { BackupFacts } from '../../domain/report/report';
import type { Drill } from './context';
import type { DrillActivityProxy } from './activity-options';
import { backupTake, long } from './activity-options';

/** Patch id: the backup is taken again after an interruption (histories before it took it once). */
const BACKUP_ATTEMPTS = 'backup-attempts';

export async function takeBackup(d: Drill, facts: SourceFacts): Promise<PublishedBackup> {
  const { request, drillId } = d;
  const take = (proxy: DrillActivityProxy, attempt?: number) => {
    const incremental = request.backup?.kind === 'incremental' ? { incremental: { maxIncrements: request.backup.maxIncrements ?? DEFAULT_MAX_INCREMENTS } } : {};
    const req = { drillId, source: request.source, facts, ...(attempt === undefined ? {} : { attempt }), ...incremental };
    return d.phase(Phases.Backup, () => (request.backup?.method === 'physical' ? proxy.takePhysicalBackup(req) : proxy.takeLogicalBackup(req)));
  };
  if (!patched(BACKUP_ATTEMPTS)) return take(long);
  const policy = backupRetryPolicy(request.backup);
  const attempts: BackupAttempt[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      const published = await take(backupTake, attempt);
      attempts.push({ attempt, outcome: 'ok' });
      return published;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = drillFailureOf(err);
      attempts.push({ attempt, outcome: 'failed', ...failure });
      const delay = backupRetryDelaySeconds(policy, attempt, failure.type);
      if (delay !== undefined) {
        await sleep(delay * 1000);
        continue;
      }
      if (attempts.length === 1 || !BACKUP_INTERRUPTION_TYPES.includes(failure.type as (typeof BACKUP_INTERRUPTION_TYPES)[number])) throw err;
      throw ApplicationFailure.create({ type: failure.type, message: exhaustedBackupMessage(attempts), nonRetryable: true });
    } finally {
      d.state.backup.attempts = [...attempts];
    }
  }
}

/** What the report says about the backup beyond the artifact: its takes, its tables without transactions. */
export function backupNotes(previous: BackupFacts, facts: SourceFacts): Pick<BackupFacts, 'attempts' | 'nonTransactionalTables'> {
  return {
    ...(previous.attempts ? { attempts: previous.attempts } : {}),
    ...(facts.nonTransactionalTables?.length ? { nonTransactionalTables: facts.nonTransactionalTables } : {}),
  };
}
