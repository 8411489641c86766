import { PrometheusDrillMetrics } from '../../adapters/metrics/prometheus';
import { parseListenAddress } from '../../adapters/metrics/server';
import { configFileSchema } from '../../config/file-schema';
import { drillRequestFor, sourceObjectives } from '../../config/load';
import { lastReports, windowStatus } from '../../domain/metrics/recorder';
import type { DrillReport } from '../../domain/report/report';
import { metricsSettings } from '../../workers/metrics';

function report(overrides: Partial<DrillReport> = {}): DrillReport {
  return {
    drillId: 'drill-orders-1',
    source: 'orders',
    flavor: 'mysql',
    serverVersion: '9.7.0',
    startedAt: '2026-12-04T02:00:00.000Z',
    finishedAt: '2026-12-04T02:05:00.000Z',
    backup: { artifactPath: '/a', bytes: 4096, sha256: 'ab' },
    target: 'checkpoint',
    recoveryPoint: { coordinates: { file: 'binlog.000002', position: 400 } },
    rpoSeconds: 0,
    phases: [
      { phase: 'restore', startedAt: '', finishedAt: '', seconds: 30, outcome: 'ok' },
      { phase: 'replay', startedAt: '', finishedAt: '', seconds: 2, outcome: 'ok' },
    ],
    rtoSeconds: 32,
    rtoTargetSeconds: 60,
    totalSeconds: 300,
    checks: [],
    outcome: 'passed',
    ...overrides,
  };
}

/** The value of one series in the exposition text, or undefined when absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('PrometheusDrillMetrics', () => {
  test("a passing drill sets outcome, times, RTO, each phase's seconds and the backup size", async () => {
    const m = new PrometheusDrillMetrics();
    m.drillReported(report());
    const text = await m.text();
    const finished = Date.parse('2026-12-04T02:05:00.000Z') / 1000;
    expect(value(text, 'restore_drill_last_drill_success{source="orders"}')).toBe(1);
    expect(value(text, 'restore_drill_last_drill_timestamp_seconds{source="orders"}')).toBe(finished);
    expect(value(text, 'restore_drill_last_success_timestamp_seconds{source="orders"}')).toBe(finished);
    expect(value(text, 'restore_drill_rto_seconds{source="orders"}')).toBe(32);
    expect(value(text, 'restore_drill_rto_target_seconds{source="orders"}')).toBe(60);
    expect(value(text, 'restore_drill_phase_seconds{source="orders",phase="restore"}')).toBe(30);
    expect(value(text, 'restore_drill_backup_size_bytes{source="orders"}')).toBe(4096);
    expect(value(text, 'restore_drill_drills_total{source="orders",outcome="passed"}')).toBe(1);
  });

  test('a failed drill keeps the last pass time and RTO, and drops phases it did not run', async () => {
    const m = new PrometheusDrillMetrics();
    m.drillReported(report());
    m.drillReported(report({ finishedAt: '2026-12-05T02:05:00.000Z', outcome: 'failed', recoveryPoint: undefined, rtoSeconds: 5, phases: [{ phase: 'restore', startedAt: '', finishedAt: '', seconds: 5, outcome: 'failed' }] }));
    const text = await m.text();
    expect(value(text, 'restore_drill_last_drill_success{source="orders"}')).toBe(0);
    expect(value(text, 'restore_drill_last_success_timestamp_seconds{source="orders"}')).toBe(Date.parse('2026-12-04T02:05:00.000Z') / 1000);
    expect(value(text, 'restore_drill_rto_seconds{source="orders"}')).toBe(32);
    expect(value(text, 'restore_drill_phase_seconds{source="orders",phase="replay"}')).toBeUndefined();
    expect(value(text, 'restore_drill_phase_seconds{source="orders",phase="restore"}')).toBe(5);
  });

  test('archive lag is computed at scrape time from when the archive last caught up', async () => {
    let now = Date.parse('2026-12-04T10:00:00.000Z');
    const m = new PrometheusDrillMetrics({ now: () => now });
    m.archiveCaughtUp('orders', { caughtUpAt: '2026-12-04T09:59:00.000Z', rpoTargetSeconds: 600, lagBeforeRunSeconds: 900, rpoMissed: true });
    expect(value(await m.text(), 'restore_drill_archive_lag_seconds{source="orders"}')).toBe(60);
    now += 600_000;
    const text = await m.text();
    expect(value(text, 'restore_drill_archive_lag_seconds{source="orders"}')).toBe(660);
    expect(value(text, 'restore_drill_rpo_target_seconds{source="orders"}')).toBe(600);
    expect(value(text, 'restore_drill_rpo_missed{source="orders",check="archive"}')).toBe(1);
  });

  test('window, gaps, janitor removals and running sandboxes per source', async () => {
    const m = new PrometheusDrillMetrics({ runningSandboxes: async () => ['orders', 'orders', 'billing'] });
    m.archiveWindow('orders', windowStatus({ from: { backupId: 'b', coordinates: { file: 'binlog.000001', position: 4 }, createdAt: '2026-12-01T00:00:00.000Z' }, to: { file: 'binlog.000003', startPosition: 4, endPosition: 9, commitTime: '2026-12-04T00:00:00.000000Z' }, gaps: [], text: '' }));
    m.janitorRemoved('orders', 'backups', 2);
    m.janitorRemoved('orders', 'binlogs', 0);
    const text = await m.text();
    expect(value(text, 'restore_drill_recoverable_window_start_timestamp_seconds{source="orders"}')).toBe(Date.parse('2026-12-01T00:00:00Z') / 1000);
    expect(value(text, 'restore_drill_recoverable_window_end_timestamp_seconds{source="orders"}')).toBe(Date.parse('2026-12-04T00:00:00Z') / 1000);
    expect(value(text, 'restore_drill_archive_gaps{source="orders"}')).toBe(0);
    expect(value(text, 'restore_drill_janitor_removals_total{source="orders",kind="backups"}')).toBe(2);
    expect(value(text, 'restore_drill_janitor_removals_total{source="orders",kind="binlogs"}')).toBeUndefined();
    expect(value(text, 'restore_drill_sandboxes_running{source="orders"}')).toBe(2);
    expect(value(text, 'restore_drill_sandboxes_running{source="billing"}')).toBe(1);
  });

  test('seeding after a restart shows the last drill and the last pass without counting drills', async () => {
    const m = new PrometheusDrillMetrics();
    const passed = report();
    const failed = report({ drillId: 'drill-orders-2', finishedAt: '2026-12-05T02:05:00.000Z', outcome: 'failed' });
    const { last, lastPassed } = lastReports([passed, failed]);
    expect([last?.drillId, lastPassed?.drillId]).toEqual(['drill-orders-2', 'drill-orders-1']);
    m.seedReports(last!, lastPassed);
    const text = await m.text();
    expect(value(text, 'restore_drill_last_drill_success{source="orders"}')).toBe(0);
    expect(value(text, 'restore_drill_last_success_timestamp_seconds{source="orders"}')).toBe(Date.parse(passed.finishedAt) / 1000);
    expect(text).not.toContain("restore_drill_drills_total{");
    expect(value(text, 'restore_drill_rto_seconds{source="orders"}')).toBe(32);
  });
});

describe('metrics settings', () => {
  test('host:port, IPv6 in brackets; anything else is refused', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListenAddress('9464')).toThrow(/not host:port/);
  });

  test('the environment wins over the configuration file; nothing configured serves nothing', () => {
    expect(metricsSettings({ metrics: { listen: '127.0.0.1:9464' } }, {})).toEqual({ listen: '127.0.0.1:9464' });
    expect(metricsSettings({ metrics: { listen: '127.0.0.1:9464' } }, { RESTORE_DRILL_METRICS_LISTEN: '127.0.0.1:1', RESTORE_DRILL_TEMPORAL_METRICS_LISTEN: '127.0.0.1:2' })).toEqual({ listen: '127.0.0.1:1', temporalListen: '127.0.0.1:2' });
    expect(metricsSettings(undefined, {})).toEqual({});
  });

  test('the configuration file takes metrics addresses and rpoTarget as a duration, passed to drills and exported as objectives', () => {
    const config = configFileSchema.parse({
      metrics: { listen: '127.0.0.1:9464', temporalListen: '127.0.0.1:9465' },
      sources: { orders: { connection: { host: '127.0.0.1', port: 3306 }, user: 'drill', rtoTarget: '10m', rpoTarget: '1h' } },
    });
    expect(config.metrics).toEqual({ listen: '127.0.0.1:9464', temporalListen: '127.0.0.1:9465' });
    expect(drillRequestFor(config, 'orders')).toMatchObject({ rtoTargetSeconds: 600, rpoTargetSeconds: 3600 });
    expect(sourceObjectives(config)).toEqual([{ source: 'orders', rtoTargetSeconds: 600, rpoTargetSeconds: 3600 }]);
    expect(() => configFileSchema.parse({ metrics: { listen: 'anywhere' }, sources: { orders: { connection: { host: 'h' }, user: 'u' } } })).toThrow(/host:port/);
  });
});
