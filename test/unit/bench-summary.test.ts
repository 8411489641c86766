import { SIZES, datasetSql, scaledSize, totalRows, workloadShape, workloadSql } from '../../bench/dataset';
import { renderSvg } from '../../bench/plot';
import { candidateMedians, concurrencySeries, renderTable } from '../../bench/summary';
import type { ConcurrencySample, Sample } from '../../bench/summary';

const sample = (rep: number, total: number, match = true, restoreParts?: Record<string, number>): Sample => ({
  candidate: 'engine-fast',
  rep,
  match,
  timings: { ready: 1, restore: 2, replay: 3, checks: 1, cleanup: 0.5, restoreSide: 7.5, total, rto: 7, temporalOverhead: 0.2, ...(restoreParts ? { restoreParts } : {}) },
});

describe('bench: medians', () => {
  test('a run that did not match the ground truth is not counted', () => {
    const m = candidateMedians([sample(1, 10), sample(2, 12), sample(3, 100, false)], 'engine-fast');
    expect(m.counted).toBe(2);
    expect(m.total).toBe(11);
  });

  test('restore sub-phases get their own medians when reported', () => {
    const m = candidateMedians([sample(1, 10, true, { schema: 1, data: 5 }), sample(2, 10, true, { schema: 3, data: 7 })], 'engine-fast');
    expect(m.restoreParts).toEqual({ schema: 2, data: 6 });
  });

  test('check sub-phases get their own medians and are printed beside the checks', () => {
    const withChecks = (rep: number, checkTable: number): Sample => ({ ...sample(rep, 10), timings: { ...sample(rep, 10).timings, checkParts: { checkTable, tableStates: 3, sessions: 4 } } });
    const m = candidateMedians([withChecks(1, 1), withChecks(2, 2)], 'engine-fast');
    expect(m.checkParts).toEqual({ checkTable: 1.5, tableStates: 3, sessions: 4 });
    expect(m.restoreParts).toEqual({});
    expect(renderTable({ mariadb: { dumpBytes: 1, rows: 1, transactions: 1, medians: { 'engine-fast': m }, ratios: {} } })).toContain('| 1.00 (checkTable 1.50, tableStates 3.00, sessions 4) |');
  });
});

describe('bench: restore CPU', () => {
  test("the restore's CPU gets medians per part and a table beside the baselines'", () => {
    const withCpu = (candidate: string, rep: number, restoreCpu: Record<string, number>): Sample => ({ ...sample(rep, 10), candidate, timings: { ...sample(rep, 10).timings, restoreCpu } });
    const engine = candidateMedians([withCpu('engine-fast', 1, { server: 10, worker: 2 }), withCpu('engine-fast', 2, { server: 12, worker: 4 })], 'engine-fast');
    const loadData = candidateMedians([withCpu('load-data', 1, { server: 9, client: 0 })], 'load-data');
    expect(engine.restoreCpu).toEqual({ server: 11, worker: 3 });
    expect(renderTable({ mariadb: { dumpBytes: 1, rows: 1, transactions: 1, medians: { 'engine-fast': engine, 'load-data': loadData }, ratios: {} } })).toContain('| mariadb | server 11.0, worker 3.0 in 2.0 s | server 9.0, client 0.0 in 10.0 s | n/a |');
  });
});

describe('bench: several drills at once', () => {
  const c = (drills: number, rep: number, wallSeconds: number, match = true): ConcurrencySample => ({ drills, rep, wallSeconds, match, drillSeconds: Array(drills).fill(wallSeconds), rtoSeconds: Array(drills).fill(wallSeconds - 1) });

  test('throughput and per-drill RTO are compared with one drill at a time; failed repetitions are left out', () => {
    const [one, two] = concurrencySeries([c(2, 1, 15), c(1, 1, 10), c(2, 2, 15), c(2, 3, 1, false)]);
    expect(one).toMatchObject({ drills: 1, counted: 1, drillsPerHour: 360, throughputVsOne: 1 });
    expect(two).toMatchObject({ drills: 2, counted: 2, wallSeconds: 15, drillsPerHour: 480, rtoSeconds: 14 });
    expect(two.throughputVsOne).toBeCloseTo(4 / 3);
    expect(two.rtoVsOne).toBeCloseTo(14 / 9);
  });
});

describe('bench: dataset', () => {
  test('the growth sizes are fractions of the chosen size in hundreds of rows, with the same workload', () => {
    const quarter = scaledSize(SIZES.ci, 0.25);
    expect(totalRows(quarter)).toBe(totalRows(SIZES.ci) / 4);
    expect(Object.values(quarter).every((n) => n % 100 === 0)).toBe(true);
    expect(quarter.transactions).toBe(SIZES.ci.transactions);
  });

  test('every size writes at least 200,000 row events after the backup', () => {
    for (const size of Object.values(SIZES)) for (const kind of ['batch', 'oltp'] as const) expect(workloadShape(size, kind).rowEvents).toBeGreaterThanOrEqual(200_000);
  });

  test('the workload in parts runs the same procedure over consecutive ranges', () => {
    const whole = workloadSql(SIZES.smoke, 'batch');
    const first = workloadSql(SIZES.smoke, 'batch', 0, 500);
    const rest = workloadSql(SIZES.smoke, 'batch', 500, 2000);
    expect(first.slice(0, 2)).toEqual(whole.slice(0, 2));
    expect(rest.slice(0, 2)).toEqual(whole.slice(0, 2));
    expect([whole[2], first[2], rest[2]]).toEqual(['CALL bench.workload(0, 2000)', 'CALL bench.workload(0, 500)', 'CALL bench.workload(500, 2000)']);
  });

  test('the dataset is deterministic: no random values', () => {
    expect(datasetSql(SIZES.smoke).join('\n')).not.toMatch(/RAND|UUID|NOW\(/i);
    expect(datasetSql(SIZES.smoke)).toEqual(datasetSql(SIZES.smoke));
  });
});

describe('bench: plot', () => {
  test('the concurrency and growth series are drawn, and say so when a run did not measure them', () => {
    const medians = { 'engine-fast': candidateMedians([sample(1, 10)], 'engine-fast') };
    const growth = { dataSize: [1, 2].map((f) => ({ factor: f, rows: f * 1000, dumpBytes: 1, transactions: 1, rowEvents: 1, counted: 1, drillSeconds: f * 5, rtoSeconds: 1, restoreSeconds: 1, replaySeconds: 1 })), binlogVolume: [] };
    const svg = renderSvg({ size: 'smoke', flavors: { mariadb: { medians, concurrency: concurrencySeries([{ drills: 1, rep: 1, wallSeconds: 10, match: true, drillSeconds: [10], rtoSeconds: [9] }]), growth } } });
    expect(svg).toContain('Drills at once, one worker');
    expect(svg).toContain('mariadb wall');
    expect(svg).toContain('Drill time vs data size');
    expect(svg.match(/<polyline/g)?.length).toBeGreaterThanOrEqual(3);
    expect(renderSvg({ size: 'smoke', flavors: { mariadb: { medians } } })).toContain('not measured in this run');
  });
});
