/**
 * Tables in engines without transactions (MyISAM, Aria, MEMORY, CSV, ARCHIVE…). A logical
 * backup's --single-transaction snapshot covers transactional tables only: rows written to
 * these while the dump runs may or may not be in it, and replaying the binlog from the dump's
 * position applies them again. `doctor` warns, the report flags them, and a checkpoint mismatch
 * on one says why. Pure.
 */
import type { CheckResult } from '../checks/results';
import { displayTable } from '../checks/checksums';

export interface NonTransactionalTable {
  db: string;
  table: string;
  engine: string;
}

/**
 * Base tables of the databases (one parameter, the list) whose engine the server itself says has
 * no transactions (information_schema.ENGINES.TRANSACTIONS). BLACKHOLE keeps no rows: left out.
 */
export const NON_TRANSACTIONAL_TABLES_SQL =
  'SELECT t.TABLE_SCHEMA AS db, t.TABLE_NAME AS `table`, t.ENGINE AS engine FROM information_schema.TABLES t ' +
  'JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE ' +
  "WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND t.TABLE_SCHEMA IN (?) AND COALESCE(e.TRANSACTIONS, 'NO') <> 'YES' AND t.ENGINE <> 'BLACKHOLE' " +
  'ORDER BY 1, 2';

const WHY = 'a logical backup (--single-transaction) is consistent for transactional tables only: rows written to these during the dump may be missing from it or applied twice by the replay';
const FIX = 'convert them (ALTER TABLE … ENGINE=InnoDB) or keep writes off them while the backup runs';

/** `bulk.legacy (MyISAM), shop.cache (MEMORY)`, the first `limit` of them and a count of the rest. */
export function listNonTransactional(tables: readonly NonTransactionalTable[], limit = 10): string {
  const shown = tables.slice(0, limit).map((t) => `${displayTable(t.db, t.table)} (${t.engine})`);
  return shown.join(', ') + (tables.length > limit ? ` and ${tables.length - limit} more` : '');
}

/** The doctor's and the report's warning; undefined when there is none. */
export function nonTransactionalWarning(tables: readonly NonTransactionalTable[]): string | undefined {
  if (tables.length === 0) return undefined;
  return `${tables.length} table${tables.length === 1 ? '' : 's'} without transactions: ${listNonTransactional(tables)}; ${WHY}; ${FIX}`;
}

/**
 * The checkpoint comparison's results with a failed row count or checksum of a
 * non-transactional table explained: the backup cannot be consistent for it, the engine
 * is not at fault.
 */
export function explainNonTransactionalMismatches(checks: readonly CheckResult[], tables: readonly NonTransactionalTable[]): CheckResult[] {
  if (tables.length === 0) return [...checks];
  const engines = new Map(tables.map((t) => [displayTable(t.db, t.table), t.engine]));
  return checks.map((c) => {
    const engine = engines.get(c.target);
    if (c.passed || engine === undefined || (c.kind !== 'row-count' && c.kind !== 'checksum')) return c;
    const note = `${c.target} is a ${engine} table, without transactions: written during the dump, it is not consistent with --single-transaction, so the backup holds a different state than the snapshot the replay starts from. Convert it to InnoDB or keep writes off it during backups.`;
    return { ...c, message: c.message ? `${c.message} ${note}` : note };
  });
}

/**
 * MySQL 9's note on a load that touches an InnoDB and a MyISAM table in one transaction
 * ("Combining the storage engines InnoDB and MyISAM is deprecated…"): about the engines, not
 * about the rows, so a restore that loaded every row does not fail on it.
 */
export function isEngineMixDeprecation(message: string): boolean {
  return /^Combining the storage engines \S+ and \S+ is deprecated/.test(message);
}
