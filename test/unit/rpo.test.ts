import { archiveLagSeconds, archiveRpoMissMessage, backupAgeCheck, formatAge, measureArchiveRun, rpoMissed } from '../../domain/recovery/rpo';
import { buildDrillReport, type DrillRecord } from '../../domain/report/build';
import { archiveRpoAlert, drillRpoAlert } from '../../domain/report/rpo-alert';
import { renderMarkdown, renderText } from '../../domain/report/report';

describe('rpoMissed', () => {
  test('judges only when both the RPO and the objective are known', () => {
    expect(rpoMissed(61, 60)).toBe(true);
    expect(rpoMissed(60, 60)).toBe(false);
    expect(rpoMissed(undefined, 60)).toBeUndefined();
    expect(rpoMissed(5, undefined)).toBeUndefined();
  });
});

describe('measureArchiveRun', () => {
  const run = { startedAt: '2026-12-04T10:15:00.000Z', finishedAt: '2026-12-04T10:15:20.000Z', lastTransactionAt: '2026-12-04T10:14:59.000000Z' };

  test('a first run marks the archive complete up to its start, with no lag to judge yet', () => {
    expect(measureArchiveRun(run, undefined, 3600)).toEqual({ caughtUpAt: run.startedAt, lastTransactionAt: run.lastTransactionAt, rpoTargetSeconds: 3600 });
  });

  test('the lag before a run is the time since the previous run caught up; over the objective it is a miss', () => {
    const previous = { caughtUpAt: '2026-12-04T08:15:00.000Z' };
    expect(measureArchiveRun(run, previous, 3600)).toMatchObject({ caughtUpAt: run.startedAt, lagBeforeRunSeconds: 7200, rpoMissed: true });
    expect(measureArchiveRun(run, previous, 7200)).toMatchObject({ lagBeforeRunSeconds: 7200, rpoMissed: false });
    expect(measureArchiveRun(run, previous, undefined).rpoMissed).toBeUndefined();
  });

  test('an idle source keeps its last transaction time, and a run overlapping a later one never moves the mark back', () => {
    const previous = { caughtUpAt: '2026-12-04T10:20:00.000Z', lastTransactionAt: '2026-12-04T09:00:00.000000Z' };
    const measured = measureArchiveRun({ startedAt: run.startedAt, finishedAt: run.finishedAt }, previous, 60);
    expect(measured).toMatchObject({ caughtUpAt: previous.caughtUpAt, lastTransactionAt: previous.lastTransactionAt, lagBeforeRunSeconds: 0, rpoMissed: false });
  });
});

describe('archiveLagSeconds', () => {
  test('grows with the clock from the moment the archive last caught up, never negative', () => {
    const state = { caughtUpAt: '2026-12-04T10:00:00.000Z' };
    expect(archiveLagSeconds(state, Date.parse('2026-12-04T10:30:00.000Z'))).toBe(1800);
    expect(archiveLagSeconds(state, Date.parse('2026-12-04T09:59:00.000Z'))).toBe(0);
  });
});

describe('archive RPO miss', () => {
  test('names the lag, the objective and what to check; nothing when met', () => {
    const missed = { caughtUpAt: '2026-12-04T10:00:00.000Z', lagBeforeRunSeconds: 10800, rpoTargetSeconds: 3600, rpoMissed: true };
    expect(archiveRpoMissMessage('orders', missed)).toMatch(/archive of orders was 3 h behind .* RPO objective of 60 min/);
    expect(archiveRpoAlert('orders', missed, 'archive-orders', 'http://ui/archive-orders', '2026-12-04T10:00:05.000Z')).toMatchObject({ kind: 'rpo-missed', source: 'orders', drillId: 'archive-orders' });
    expect(archiveRpoAlert('orders', { ...missed, rpoMissed: false }, 'a', 'u', 't')).toBeUndefined();
  });
});

describe('backupAgeCheck', () => {
  test("a team's newest backup older than the objective fails, naming both ages", () => {
    const check = backupAgeCheck({ takenAt: '2026-12-01T02:00:00.000Z', checkedAt: '2026-12-04T02:00:00.000Z', rpoTargetSeconds: 26 * 3600 })!;
    expect(check).toMatchObject({ name: 'rpo:backup-age', kind: 'freshness', passed: false });
    expect(check.message).toMatch(/3 d old, over the RPO objective of 26 h: the team's backup job has stopped/);
  });

  test('a fresh one passes; without an objective or a time there is no check', () => {
    expect(backupAgeCheck({ takenAt: '2026-12-04T01:00:00.000Z', checkedAt: '2026-12-04T02:00:00.000Z', rpoTargetSeconds: 86400 })).toMatchObject({ passed: true, actual: expect.stringMatching(/^60 min old/) });
    expect(backupAgeCheck({ takenAt: '2026-12-04T01:00:00.000Z', checkedAt: '2026-12-04T02:00:00.000Z' })).toBeUndefined();
    expect(backupAgeCheck({ checkedAt: '2026-12-04T02:00:00.000Z', rpoTargetSeconds: 60 })).toBeUndefined();
  });
});

describe('formatAge', () => {
  test('reads at the precision a DBA needs', () => {
    expect([formatAge(45), formatAge(600), formatAge(5400), formatAge(9000), formatAge(3 * 86400)]).toEqual(['45 s', '10 min', '90 min', '2.5 h', '3 d']);
  });
  test('a sub-second or few-second target is not rounded to 0 s', () => {
    expect([formatAge(0.001), formatAge(0.25), formatAge(2.5), formatAge(9.96)]).toEqual(['0.001 s', '0.25 s', '2.5 s', '10 s']);
  });
});

describe('the report judges RPO against the objective', () => {
  const record = (overrides: Partial<DrillRecord> = {}): DrillRecord => ({
    drillId: 'drill-orders-1',
    source: 'orders',
    flavor: 'mysql',
    serverVersion: '9.7.0',
    startedAt: '2026-12-04T02:00:00.000Z',
    finishedAt: '2026-12-04T02:05:00.000Z',
    backup: { artifactPath: '/backups/orders.sql.gz', bytes: 100, sha256: 'ab'.repeat(32), takenAt: '2026-12-01T02:00:00.000Z' },
    target: 'latest',
    base: { manifestPath: '/m.json', chosen: 'given' },
    replay: { transactions: 1, skipped: [], window: 'w', rpoSeconds: 900 },
    reached: { coordinates: { file: 'binlog.000002', position: 400 } },
    checks: [{ name: 'checksum:shop.orders', kind: 'checksum', target: 'shop.orders', passed: true }],
    phases: [],
    cancelled: false,
    ...overrides,
  });

  test('an RPO over the objective is marked missed, shown, and alerted; the drill still passes on its checks', () => {
    const report = buildDrillReport(record({ rpoTargetSeconds: 600 }));
    expect(report).toMatchObject({ outcome: 'passed', rpoSeconds: 900, rpoTargetSeconds: 600, rpoMissed: true });
    expect(renderText(report)).toContain('RPO 15m 00s (target 10m 00s: MISSED)');
    expect(renderMarkdown(report)).toContain('**RPO:** 15m 00s (target 10m 00s: **MISSED**)');
    expect(drillRpoAlert(report, 'http://ui/drill-orders-1')).toMatchObject({ kind: 'rpo-missed', outcome: 'passed', message: expect.stringMatching(/losing 15 min of writes, over the RPO objective of 10 min/) });
    expect(drillRpoAlert(buildDrillReport(record({ rpoTargetSeconds: 900 })), 'u')).toBeUndefined();
  });

  test("a team's newest backup is judged by its age: too old fails the drill with a freshness check", () => {
    const report = buildDrillReport(record({ rpoTargetSeconds: 86400, judgeBackupAge: true }));
    expect(report.outcome).toBe('failed');
    expect(report.checks.find((c) => c.kind === 'freshness')).toMatchObject({ passed: false, message: expect.stringMatching(/3 d old, over the RPO objective of 24 h/) });
  });

  test('other picks, and drills without an objective, have no age check', () => {
    expect(buildDrillReport(record({ rpoTargetSeconds: 86400 })).checks.some((c) => c.kind === 'freshness')).toBe(false);
    expect(buildDrillReport(record({ judgeBackupAge: true })).checks.some((c) => c.kind === 'freshness')).toBe(false);
  });
});
