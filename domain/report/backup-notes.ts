/** The report's notes on the drill's backup: its incremental chain, its takes after interruptions, its tables without transactions. Pure. */
import { describeBackupAttempts } from '../backups/attempts';
import type { BackupAttempt } from '../backups/attempts';
import { nonTransactionalWarning } from '../backups/non-transactional';
import type { NonTransactionalTable } from '../backups/non-transactional';

/** One line each, without a leading label; empty when there is nothing to say. */
export function backupNoteLines(b: { attempts?: readonly BackupAttempt[]; nonTransactionalTables?: readonly NonTransactionalTable[]; chain?: readonly string[] }): string[] {
  const warning = nonTransactionalWarning(b.nonTransactionalTables ?? []);
  const chain = b.chain && b.chain.length > 1 ? [`increment ${b.chain.length - 1} of chain ${b.chain.join(' → ')} (prepared in order)`] : [];
  return [...chain, ...describeBackupAttempts(b.attempts), ...(warning ? [`warning: ${warning}`] : [])];
}
