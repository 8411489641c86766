import type { CheckResult } from '../../domain/checks/results';
import {
  RTO_PHASES,
  drillOutcome,
  formatBytes,
  formatSeconds,
  renderMarkdown,
  renderText,
  rtoSeconds,
  summarize,
  type DrillReport,
  type PhaseTiming,
} from '../../domain/report/report';
import {
  buildDrillReport,
  drillFailureOf,
  reportFailure,
  reportMemoSummary,
  type DrillRecord,
} from '../../domain/report/build';

function phase(name: string, seconds: number, outcome: PhaseTiming['outcome'] = 'ok'): PhaseTiming {
  return { phase: name, startedAt: '2026-11-21T18:30:00Z', finishedAt: '2026-11-21T18:31:00Z', seconds, outcome };
}

const ok = (name: string, kind: CheckResult['kind'] = 'checksum'): CheckResult => ({
  name,
  kind,
  target: name.split(':')[1] ?? name,
  passed: true,
  expected: '1-2',
  actual: '1-2',
});

function report(overrides: Partial<DrillReport> = {}): DrillReport {
  return {
    drillId: 'drill-university-20261121T183000Z',
    source: 'university',
    flavor: 'mariadb',
    serverVersion: '10.11.11-MariaDB-0+deb12u1',
    startedAt: '2026-11-21T18:30:00Z',
    finishedAt: '2026-11-21T18:32:10Z',
    backup: {
      artifactPath: '/var/lib/restore-drill/university/university-20261121T183000Z.sql.gz',
      bytes: 12 * 1024 * 1024,
      sha256: 'ab'.repeat(32),
      coordinates: { file: 'mysql-bin.000003', position: 1234 },
      gtidSet: '0-1-5',
    },
    target: 'latest',
    recoveryPoint: {
      coordinates: { file: 'mysql-bin.000004', position: 567 },
      gtidSet: '0-1-9',
      lastCommitTime: '2026-11-21T18:29:58Z',
    },
    rpoSeconds: 2,
    phases: [
      phase('backup', 20),
      phase('verify-artifact', 1.5),
      phase('sandbox-start', 4.25),
      phase('restore', 30),
      phase('replay', 2.5),
      phase('checks', 3.25),
      phase('cleanup', 1),
    ],
    rtoSeconds: 40,
    totalSeconds: 130,
    checks: [ok('row-count:shop.orders', 'row-count'), ok('checksum:shop.orders')],
    outcome: 'passed',
    ...overrides,
  };
}

describe('rtoSeconds', () => {
  test('sums sandbox start, restore, replay and checks only', () => {
    expect(RTO_PHASES).toEqual(['sandbox-start', 'restore', 'replay', 'checks']);
    expect(rtoSeconds(report().phases)).toBe(40);
  });

  test('counts skipped phases as zero', () => {
    expect(rtoSeconds([phase('restore', 10), phase('replay', 99, 'skipped')])).toBe(10);
  });

  test('counts failed phases: a recovery pays for them too', () => {
    expect(rtoSeconds([phase('restore', 10), phase('checks', 2, 'failed')])).toBe(12);
  });

  test('rounds away floating-point noise to milliseconds', () => {
    expect(rtoSeconds([phase('restore', 0.1), phase('replay', 0.2)])).toBe(0.3);
  });

  test('accepts a custom phase list', () => {
    expect(rtoSeconds(report().phases, ['verify-artifact', 'restore'])).toBe(31.5);
  });
});

describe('drillOutcome', () => {
  test('passes when every check passed and nothing failed', () => {
    expect(drillOutcome([ok('a')])).toBe('passed');
  });

  test('fails on a failed check, on a failure, and when nothing was checked', () => {
    expect(drillOutcome([ok('a'), { ...ok('b'), passed: false }])).toBe('failed');
    expect(drillOutcome([ok('a')], { type: 'ToolFailed', message: 'x' })).toBe('failed');
    expect(drillOutcome([])).toBe('failed');
  });
});

describe('summarize', () => {
  test('counts checks overall and by kind', () => {
    const s = summarize(report());
    expect(s).toMatchObject({
      passed: true,
      outcome: 'passed',
      totalChecks: 2,
      passedChecks: 2,
      failedChecks: [],
      byKind: { 'row-count': { passed: 1, total: 1 }, checksum: { passed: 1, total: 1 } },
      rtoSeconds: 40,
      totalSeconds: 130,
      rpoSeconds: 2,
    });
    expect(s.headline).toBe('PASSED university: 2/2 checks passed, RTO 40.0s');
  });

  test('does not pass a report that says passed but holds a failed check', () => {
    const bad: CheckResult = { ...ok('checksum:shop.x'), passed: false, actual: '9-9' };
    const s = summarize(report({ checks: [bad] }));
    expect(s.passed).toBe(false);
    expect(s.outcome).toBe('failed');
    expect(s.failedChecks).toEqual([bad]);
  });

  test('puts the failure in the headline', () => {
    const s = summarize(
      report({ outcome: 'failed', checks: [], failure: { type: 'DumpTruncated', message: 'No trailer.\nMore.' } }),
    );
    expect(s.headline).toBe('FAILED university: 0/0 checks passed, RTO 40.0s — DumpTruncated: No trailer.');
  });
});

describe('formatSeconds and formatBytes', () => {
  test('formatSeconds uses seconds under a minute, then m/s and h/m/s', () => {
    expect(formatSeconds(0.44)).toBe('0.4s');
    expect(formatSeconds(185)).toBe('3m 05s');
    expect(formatSeconds(3723)).toBe('1h 02m 03s');
  });

  test('formatBytes uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12.0 MiB');
  });
});

describe('renderMarkdown', () => {
  test('titles the report with the drill id and verdict', () => {
    expect(renderMarkdown(report()).split('\n')[0]).toBe('# Restore drill drill-university-20261121T183000Z: PASSED');
  });

  test('has a phase table with durations and RTO membership', () => {
    const md = renderMarkdown(report());
    expect(md).toContain('| Phase | Outcome | Duration | Started | Finished | RTO |');
    expect(md).toContain('| restore | ok | 30.0s | 2026-11-21T18:30:00Z | 2026-11-21T18:31:00Z | ✓ |');
    expect(md).toContain('| backup | ok | 20.0s | 2026-11-21T18:30:00Z | 2026-11-21T18:31:00Z |  |');
  });

  test('shows the backup and the recovery point reached', () => {
    const md = renderMarkdown(report());
    expect(md).toContain('- **Binlog position:** mysql-bin.000003:1234');
    expect(md).toContain('## Recovery point reached\n\n- **Binlog position:** mysql-bin.000004:567\n- **GTID set:** `0-1-9`\n- **Last commit:** 2026-11-21T18:29:58Z');
    expect(md).toContain('- **RPO:** 2.0s');
  });

  test('lists failed checks with expected and actual, escaping pipes', () => {
    const bad: CheckResult = {
      name: 'assertion:totals',
      kind: 'assertion',
      target: 'totals',
      passed: false,
      expected: '0',
      actual: '3',
      message: 'Assertion totals failed. Query: SELECT a|b',
    };
    const md = renderMarkdown(report({ outcome: 'failed', checks: [bad] }));
    expect(md).toContain('| assertion:totals | 0 | 3 | Assertion totals failed. Query: SELECT a\\|b |');
    expect(md).toContain('0 of 1 checks passed.');
  });

  test('counts passed checks by kind and lists them collapsed', () => {
    const md = renderMarkdown(report());
    expect(md).toContain('| row-count | 1 |\n| checksum | 1 |');
    expect(md).toContain('<details><summary>All passed checks</summary>');
    expect(md).toContain('| checksum:shop.orders | 1-2 |');
  });

  test('shows the failure and a missing recovery point', () => {
    const md = renderMarkdown(
      report({
        outcome: 'failed',
        recoveryPoint: undefined,
        failure: { type: 'DumpTruncated', message: 'The dump does not end with its trailer.' },
      }),
    );
    expect(md).toContain('## Failure\n\n**DumpTruncated**: The dump does not end with its trailer.');
    expect(md).toContain('Not reached: the drill stopped before the restore completed.');
  });
});

describe('renderText', () => {
  test('prints the compact passed form', () => {
    expect(renderText(report())).toBe(
      [
        'PASSED  drill-university-20261121T183000Z  university (mariadb 10.11.11-MariaDB-0+deb12u1)',
        'backup   /var/lib/restore-drill/university/university-20261121T183000Z.sql.gz (12.0 MiB, sha256 abababababab) at mysql-bin.000003:1234 gtid 0-1-5',
        'target   latest',
        'reached  mysql-bin.000004:567 gtid 0-1-9 last commit 2026-11-21T18:29:58Z',
        'time     RTO 40.0s  total 2m 10s  RPO 2.0s',
        'phases   backup 20.0s, verify-artifact 1.5s, sandbox-start 4.3s, restore 30.0s, replay 2.5s, checks 3.3s, cleanup 1.0s',
        'checks   2/2 passed',
        '',
      ].join('\n'),
    );
  });

  test('names the chain an incremental backup was restored through', () => {
    const base = report();
    const text = renderText({ ...base, backup: { ...base.backup, chain: ['drill-full', 'drill-inc1', 'drill-inc2'] } });
    expect(text.split('\n')[2]).toBe('         increment 2 of chain drill-full → drill-inc1 → drill-inc2 (prepared in order)');
  });

  test('lists failed checks, non-ok phases and the failure', () => {
    const text = renderText(
      report({
        outcome: 'failed',
        phases: [phase('restore', 3, 'failed'), phase('replay', 0, 'skipped')],
        checks: [{ name: 'row-count:shop.o', kind: 'row-count', target: 'shop.o', passed: false, expected: '10', actual: '9', message: 'Nine.' }],
        failure: { type: 'CheckFailed', message: '1 check failed' },
      }),
    );
    expect(text).toContain('phases   restore 3.0s (failed), replay 0.0s (skipped)');
    expect(text).toContain('  FAIL   row-count:shop.o: expected 10, actual 9 — Nine.');
    expect(text.startsWith('FAILED  ')).toBe(true);
    expect(text.trimEnd().split('\n').pop()).toBe('failure  CheckFailed: 1 check failed');
  });
});

describe('buildDrillReport', () => {
  const applied = { file: 'mysql-bin.000004', startPosition: 400, endPosition: 567, gtid: '0-1-9', commitTime: '2026-11-21T18:29:58.000000Z' };
  function record(overrides: Partial<DrillRecord> = {}): DrillRecord {
    const r = report();
    return {
      drillId: r.drillId,
      source: r.source,
      flavor: r.flavor,
      serverVersion: r.serverVersion,
      sandbox: { image: 'mariadb:10.11' },
      startedAt: '2026-11-21T18:30:00.000Z',
      finishedAt: '2026-11-21T18:32:10.500Z',
      backup: r.backup,
      target: 'checkpoint',
      base: { manifestPath: '/var/lib/restore-drill/university/manifest.json', chosen: 'taken' },
      replay: { transactions: 3, lastApplied: applied, skipped: [], window: 'from the backup to mysql-bin.000004:567', rpoSeconds: 2 },
      reached: r.recoveryPoint,
      checks: r.checks,
      phases: r.phases,
      cancelled: false,
      ...overrides,
    };
  }

  test('a drill that reached its target and passed every check passes, with RTO from the restore-side phases', () => {
    const built = buildDrillReport(record());
    expect(built).toMatchObject({ outcome: 'passed', rtoSeconds: 40, totalSeconds: 130.5, rpoSeconds: 2, sandbox: { image: 'mariadb:10.11' }, target: 'checkpoint' });
    expect(built.failure).toBeUndefined();
    expect(built.phases).toEqual(report().phases);
  });

  test('the recovery starts at the base backup with the backup\'s coordinates', () => {
    expect(buildDrillReport(record()).recovery).toEqual({
      baseBackup: { manifestPath: '/var/lib/restore-drill/university/manifest.json', coordinates: { file: 'mysql-bin.000003', position: 1234 }, chosen: 'taken' },
      transactionsApplied: 3,
      lastApplied: applied,
      firstNotApplied: undefined,
      skipped: [],
      lastArchived: undefined,
      shortfall: undefined,
      window: 'from the backup to mysql-bin.000004:567',
      proof: undefined,
    });
  });

  test('a decided proof of the recovery point becomes a check, and a failed one fails the drill', () => {
    const proof = { method: 'gtid_executed' as const, passed: false, expected: '0-1-9', actual: '0-1-8', message: 'last applied transaction 0-1-9 is missing' };
    const built = buildDrillReport(record({ proof }));
    expect(built.checks.at(-1)).toEqual({ name: 'recovery-point:gtid_executed', kind: 'gtid', target: 'gtid_executed', passed: false, expected: '0-1-9', actual: '0-1-8', message: proof.message });
    expect(built.checks).toHaveLength(3);
    expect(built.recovery?.proof).toBe(proof);
    expect(built.outcome).toBe('failed');
  });

  test('an undecided proof is reported but adds no check', () => {
    const proof = { method: 'unavailable' as const, message: 'no GTID position' };
    const built = buildDrillReport(record({ proof }));
    expect(built.checks).toHaveLength(2);
    expect(built.recovery?.proof).toBe(proof);
    expect(built.outcome).toBe('passed');
  });

  test('a drill stopped before the replay has no RPO, no recovery point and no RTO verdict', () => {
    const built = buildDrillReport(record({ reached: undefined, replay: undefined, checks: [], rtoTargetSeconds: 10, failure: { type: 'ArtifactCorrupt', message: 'sha256 differs' } }));
    expect(built).toMatchObject({ outcome: 'failed', failure: { type: 'ArtifactCorrupt' }, recoveryPoint: undefined, rpoSeconds: undefined, recovery: undefined, rtoMissed: undefined });
  });

  test('a recovery without backup coordinates has no recovery section', () => {
    expect(buildDrillReport(record({ backup: { artifactPath: '', bytes: 0, sha256: '' } })).recovery).toBeUndefined();
  });

  test('the RTO target is missed only by a restore that took longer', () => {
    expect(buildDrillReport(record({ rtoTargetSeconds: 39 })).rtoMissed).toBe(true);
    expect(buildDrillReport(record({ rtoTargetSeconds: 40 })).rtoMissed).toBe(false);
    expect(buildDrillReport(record()).rtoMissed).toBeUndefined();
  });

  test('a cancelled drill fails as Cancelled, unless something failed first', () => {
    expect(buildDrillReport(record({ cancelled: true })).failure).toEqual({ type: 'Cancelled', message: 'the drill was cancelled' });
    expect(buildDrillReport(record({ cancelled: true })).outcome).toBe('failed');
    expect(buildDrillReport(record({ cancelled: true, failure: { type: 'Transient', message: 'sandbox not removed' } })).failure?.type).toBe('Transient');
  });

  test('a drill that checked nothing fails', () => {
    expect(buildDrillReport(record({ checks: [] })).outcome).toBe('failed');
  });
});


describe('drillFailureOf', () => {
  test('takes the first type along the cause chain, with its message', () => {
    const err = Object.assign(new Error('Activity task failed'), { cause: Object.assign(new Error('binlog mysql-bin.000043 missing'), { type: 'BinlogGap' }) });
    expect(drillFailureOf(err)).toEqual({ type: 'BinlogGap', message: 'binlog mysql-bin.000043 missing' });
  });

  test('is Unknown, with the top message, when nothing in the chain has a type', () => {
    expect(drillFailureOf(new Error('boom'))).toEqual({ type: 'Unknown', message: 'boom' });
    expect(drillFailureOf('plain')).toEqual({ type: 'Unknown', message: 'plain' });
  });
});

describe('reportFailure and reportMemoSummary', () => {
  test('a passed report has no failure', () => {
    expect(reportFailure(report())).toBeUndefined();
  });

  test('a failed report fails with its failure, else with the failed checks (at most five named)', () => {
    expect(reportFailure(report({ outcome: 'failed', failure: { type: 'DumpTruncated', message: 'no trailer' } }))).toEqual({ type: 'DumpTruncated', message: 'no trailer' });
    const bad = (n: number): CheckResult => ({ ...ok(`checksum:shop.t${n}`), passed: false });
    const checks = [ok('row-count:shop.a', 'row-count'), ...[1, 2, 3, 4, 5, 6].map(bad)];
    expect(reportFailure(report({ outcome: 'failed', checks }))).toEqual({
      type: 'CheckFailed',
      message: '6 of 7 checks failed: checksum:shop.t1, checksum:shop.t2, checksum:shop.t3, checksum:shop.t4, checksum:shop.t5',
    });
  });

  test('the memo line names outcome, source, target, RTO and checks, and a missed RTO target', () => {
    expect(reportMemoSummary(report())).toBe('passed: university to latest, RTO 40.0 s, 2/2 checks passed');
    expect(reportMemoSummary(report({ rtoTargetSeconds: 30, rtoMissed: true }))).toBe('passed: university to latest, RTO 40.0 s (target 30 s MISSED), 2/2 checks passed');
  });
});
