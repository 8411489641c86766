import { DEFAULT_BACKUP_RETRY, backupRetryDelaySeconds, backupRetryPolicy, describeBackupAttempts, exhaustedBackupMessage } from '../../domain/backups/attempts';
import { explainNonTransactionalMismatches, isEngineMixDeprecation, nonTransactionalWarning } from '../../domain/backups/non-transactional';
import type { CheckResult } from '../../domain/checks/results';
import { renderMarkdown, renderText } from '../../domain/report/report';
import type { DrillReport } from '../../domain/report/report';

describe('backup retry policy', () => {
  test('an interruption is taken again with a doubling pause until the attempts are spent', () => {
    const policy = backupRetryPolicy(undefined);
    expect(policy).toEqual(DEFAULT_BACKUP_RETRY);
    expect(backupRetryDelaySeconds(policy, 1, 'SourceConnectionLost')).toBe(30);
    expect(backupRetryDelaySeconds(policy, 2, 'DdlDuringBackup')).toBe(60);
    expect(backupRetryDelaySeconds(policy, 3, 'LockWaitTimeout')).toBeUndefined();
  });

  test('other failures are never taken again', () => {
    expect(backupRetryDelaySeconds(DEFAULT_BACKUP_RETRY, 1, 'ToolFailed')).toBeUndefined();
    expect(backupRetryDelaySeconds(DEFAULT_BACKUP_RETRY, 1, 'DiskFull')).toBeUndefined();
  });

  test('the request sets attempts and the first pause; the pause is capped', () => {
    const policy = backupRetryPolicy({ attempts: 6, retryDelaySeconds: 100 });
    expect(backupRetryDelaySeconds(policy, 1, 'SourceConnectionLost')).toBe(100);
    expect(backupRetryDelaySeconds(policy, 4, 'SourceConnectionLost')).toBe(300);
    expect(backupRetryDelaySeconds(backupRetryPolicy({ attempts: 1 }), 1, 'SourceConnectionLost')).toBeUndefined();
  });

  test('the final failure counts the attempts and keeps the last message', () => {
    const msg = exhaustedBackupMessage([
      { attempt: 1, outcome: 'failed', type: 'SourceConnectionLost', message: 'first' },
      { attempt: 2, outcome: 'failed', type: 'SourceConnectionLost', message: 'second' },
    ]);
    expect(msg).toBe('the backup was interrupted in each of 2 attempts (SourceConnectionLost); the last: second');
  });

  test('one attempt is not worth a line; several are listed', () => {
    expect(describeBackupAttempts([{ attempt: 1, outcome: 'ok' }])).toEqual([]);
    expect(describeBackupAttempts([{ attempt: 1, outcome: 'failed', type: 'DdlDuringBackup', message: 'mysqldump … DDL' }, { attempt: 2, outcome: 'ok' }])).toEqual(['attempt 1: DdlDuringBackup: mysqldump … DDL', 'attempt 2: ok']);
  });
});

describe('non-transactional tables', () => {
  const legacy = { db: 'bulk', table: 'legacy', engine: 'MyISAM' };

  test('no warning without them; each one named with its engine', () => {
    expect(nonTransactionalWarning([])).toBeUndefined();
    const w = nonTransactionalWarning([legacy, { db: 'shop', table: 'cache', engine: 'MEMORY' }]);
    expect(w).toContain('2 tables without transactions: bulk.legacy (MyISAM), shop.cache (MEMORY)');
    expect(w).toContain('--single-transaction');
  });

  test('a checkpoint mismatch on one says why; other tables and passed checks are left as they are', () => {
    const checks: CheckResult[] = [
      { name: 'row-count:bulk.legacy', kind: 'row-count', target: 'bulk.legacy', passed: false, expected: '10', actual: '12', message: 'Table bulk.legacy has 12 rows restored but 10 on the source (+2).' },
      { name: 'checksum:bulk.legacy', kind: 'checksum', target: 'bulk.legacy', passed: true, expected: 'a', actual: 'a' },
      { name: 'row-count:bulk.pages', kind: 'row-count', target: 'bulk.pages', passed: false, expected: '1', actual: '2', message: 'other' },
    ];
    const out = explainNonTransactionalMismatches(checks, [legacy]);
    expect(out[0]!.message).toMatch(/^Table bulk.legacy has 12 rows .* bulk.legacy is a MyISAM table, without transactions: written during the dump, it is not consistent with --single-transaction/);
    expect(out[1]).toEqual(checks[1]);
    expect(out[2]).toEqual(checks[2]);
  });
});

describe('the report on the backup', () => {
  const report: DrillReport = {
    drillId: 'd',
    source: 's',
    flavor: 'mariadb',
    serverVersion: '10.11',
    startedAt: '2026-12-04T19:00:00Z',
    finishedAt: '2026-12-04T19:01:00Z',
    backup: {
      artifactPath: '/a/dump.sql.gz',
      bytes: 10,
      sha256: 'ab',
      attempts: [{ attempt: 1, outcome: 'failed', type: 'SourceConnectionLost', message: 'mariadb-dump of source s lost its connection' }, { attempt: 2, outcome: 'ok' }],
      nonTransactionalTables: [{ db: 'bulk', table: 'legacy', engine: 'MyISAM' }],
    },
    target: 'checkpoint',
    phases: [],
    rtoSeconds: 0,
    totalSeconds: 60,
    checks: [],
    outcome: 'failed',
  };

  test('lists the attempts and flags each table without transactions', () => {
    for (const text of [renderMarkdown(report), renderText(report)]) {
      expect(text).toContain('attempt 1: SourceConnectionLost: mariadb-dump of source s lost its connection');
      expect(text).toContain('attempt 2: ok');
      expect(text).toContain('bulk.legacy (MyISAM)');
    }
  });
});

describe('loading next to a MyISAM table', () => {
  test("MySQL's note on mixing engines in one transaction is not a lost row", () => {
    expect(isEngineMixDeprecation('Combining the storage engines InnoDB and MyISAM is deprecated, but the statement or transaction updates both the InnoDB table bulk.pages and the MyISAM table bulk.legacy.')).toBe(true);
    expect(isEngineMixDeprecation("Data truncated for column 'note' at row 3")).toBe(false);
  });
});
