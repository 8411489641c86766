/** Whether a sandbox proves the point a replay reached, read back from its GTID state. */

import type { BinlogTransaction } from '../binlog/events';
import { gtidSetContains, gtidSetEquals, gtidSetOf, gtidSetUnion, normalizeGtidSet } from '../binlog/gtid';
import type { Flavor } from '../types';
import type { TransactionSummary } from './transactions';

/**
 * The GTID set a MySQL sandbox must show after the replay: the backup's set plus every
 * applied transaction's GTID. Undefined when the backup has no set or a transaction has no GTID.
 */
export function expectedGtidSet(flavor: Flavor, backupGtidSet: string | undefined, applied: readonly BinlogTransaction[]): string | undefined {
  if (flavor !== 'mysql' || backupGtidSet === undefined) return undefined;
  if (applied.some((t) => t.gtid === undefined)) return undefined;
  return gtidSetUnion('mysql', backupGtidSet, gtidSetOf('mysql', applied.map((t) => t.gtid!)));
}

export interface RecoveryProof {
  method: 'gtid_executed' | 'gtid_slave_pos' | 'unavailable';
  passed?: boolean;
  expected?: string;
  actual?: string;
  /** What was checked, or why nothing could be. */
  message: string;
}

/**
 * Compares a MySQL sandbox's `@@gtid_executed` with what the archive says was applied: equal
 * to the expected set, containing the last applied GTID, and containing neither the first
 * transaction not applied nor any skipped one.
 */
export function proveByGtidExecuted(actual: string, expected: string | undefined, lastApplied?: TransactionSummary, firstNotApplied?: TransactionSummary, skipped: readonly TransactionSummary[] = []): RecoveryProof {
  const problems: string[] = [];
  const norm = normalizeGtidSet('mysql', actual);
  if (expected !== undefined && !gtidSetEquals('mysql', expected, norm)) problems.push(`gtid_executed is ${norm || '(empty)'} but the archive says ${expected || '(empty)'}`);
  if (lastApplied?.gtid !== undefined && !gtidSetContains('mysql', norm, lastApplied.gtid)) problems.push(`last applied transaction ${lastApplied.gtid} is missing`);
  if (firstNotApplied?.gtid !== undefined && gtidSetContains('mysql', norm, firstNotApplied.gtid)) problems.push(`first transaction not to apply ${firstNotApplied.gtid} was applied`);
  for (const s of skipped) if (s.gtid !== undefined && gtidSetContains('mysql', norm, s.gtid)) problems.push(`skipped transaction ${s.gtid} was applied`);
  const proof: RecoveryProof = {
    method: 'gtid_executed',
    passed: problems.length === 0,
    actual: norm,
    message:
      problems.length === 0
        ? `sandbox gtid_executed matches the archive: last applied ${lastApplied?.gtid ?? '(none)'}, first not applied ${firstNotApplied?.gtid ?? '(none)'}${skipped.length ? `, skipped ${skipped.map((s) => s.gtid).join(', ')}` : ''}`
        : problems.join('; '),
  };
  if (expected !== undefined) proof.expected = expected;
  return proof;
}

/**
 * MariaDB: after a replay by the server's applier, `@@gtid_slave_pos` is the position of the
 * last applied GTID per domain. It must name the last applied transaction's GTID exactly
 * (not the first one left out). Empty: the client replay leaves no GTID state to read.
 */
export function proveByGtidSlavePos(actual: string, lastApplied?: TransactionSummary, firstNotApplied?: TransactionSummary): RecoveryProof {
  const norm = normalizeGtidSet('mariadb', actual);
  if (norm === '' || lastApplied?.gtid === undefined) {
    return { method: 'unavailable', actual: norm, message: 'the sandbox keeps no GTID position for this replay (MariaDB without a binary log, replayed through the client); the point reached rests on the archive plan and the data checks' };
  }
  const problems: string[] = [];
  if (!gtidSetContains('mariadb', norm, lastApplied.gtid)) problems.push(`last applied transaction ${lastApplied.gtid} is not reached (gtid_slave_pos ${norm})`);
  if (firstNotApplied?.gtid !== undefined && gtidSetContains('mariadb', norm, firstNotApplied.gtid)) problems.push(`first transaction not to apply ${firstNotApplied.gtid} was applied (gtid_slave_pos ${norm})`);
  return {
    method: 'gtid_slave_pos',
    passed: problems.length === 0,
    actual: norm,
    expected: lastApplied.gtid,
    message: problems.length === 0 ? `sandbox gtid_slave_pos ${norm} is exactly the last applied transaction ${lastApplied.gtid}` : problems.join('; '),
  };
}
