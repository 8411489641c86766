import type { ScanCosts } from '../../domain/bisect/scan';
import { afterScan, firstPassSnapshotGap, levelPoints, nextScanMove, pointsPerLevel, snapshotPays } from '../../domain/bisect/scan';
import type { BisectSearch } from '../../domain/bisect/search';
import { bisectServerOptionsScript, snapshotHook } from '../../domain/bisect/snapshots';
import { SANDBOX_EXTRA_OPTIONS, serverCommand } from '../../domain/flavors';
import { afterEvaluation, afterRewind, afterSnapshot, startSearch } from '../../domain/bisect/search';

/**
 * Runs a whole search against a window whose query fails from point `culprit` on, with a
 * simulated clock: a restart, a point and a replayed transaction each cost what `costs` says
 * (what the workflow would measure).
 */
function simulate(count: number, culprit: number | undefined, costs: ScanCosts, firstPassSteps?: number) {
  const passesAt = (point: number) => culprit === undefined || point < culprit;
  let s: BisectSearch = afterEvaluation(startSearch(count), passesAt(0));
  const clock = { seconds: 0, restarts: 0, scans: 0 };
  for (let i = 0; i < 1000; i++) {
    const move = nextScanMove(s, { costs, ...(firstPassSteps ? { firstPassSteps } : {}) });
    if (move.kind === 'found' || move.kind === 'never-fails') return { move, s, clock };
    if (move.kind === 'snapshot' || move.kind === 'rewind') {
      clock.seconds += costs.restartSeconds;
      clock.restarts++;
      if (move.kind === 'snapshot') s = afterSnapshot(s, move.at);
      else {
        expect(s.snapshots).toContain(move.to);
        s = afterRewind(s, move.to);
      }
    } else {
      expect(move.from).toBe(s.at);
      expect(move.points.length).toBeGreaterThan(0);
      const failing = move.points.findIndex((p) => !passesAt(p));
      const evaluated = failing < 0 ? move.points : move.points.slice(0, failing + 1);
      clock.seconds += evaluated.length * costs.pointSeconds + (evaluated.at(-1)! - move.from) / costs.replayRate;
      clock.scans++;
      s = afterScan(s, move.from, evaluated.map((point) => ({ point, passed: passesAt(point) })));
    }
  }
  throw new Error('the search did not end');
}

describe('bisect search in scans', () => {
  // MariaDB on the 2-core host: restarts of a small datadir, tiny transactions, a quick query.
  const cheapReplay: ScanCosts = { restartSeconds: 0.6, pointSeconds: 0.01, replayRate: 60_000 };
  // Heavy transactions and a query scanning big tables.
  const dearReplay: ScanCosts = { restartSeconds: 3, pointSeconds: 2, replayRate: 200 };

  it.each([1, 2, 17, 500, 59_969, 99_999, 100_000])('finds transaction %i of 100000 as the culprit', (culprit) => {
    expect(simulate(100_000, culprit, cheapReplay).move).toEqual({ kind: 'found', culprit });
    expect(simulate(100_000, culprit, dearReplay).move).toEqual({ kind: 'found', culprit });
  });

  it('finds the culprit of small windows, with the first pass fixed by the request too', () => {
    for (const count of [1, 2, 3, 7, 64])
      for (let culprit = 1; culprit <= count; culprit++) {
        expect(simulate(count, culprit, cheapReplay).move).toEqual({ kind: 'found', culprit });
        expect(simulate(count, culprit, cheapReplay, 8).move).toEqual({ kind: 'found', culprit });
      }
  });

  it('says the query never fails when the whole window passes, having reached its end', () => {
    const { move, s } = simulate(10_000, undefined, cheapReplay);
    expect(move).toEqual({ kind: 'never-fails' });
    expect(s.at).toBe(10_000);
  });

  it('with cheap replay, a bisect of 100k transactions takes a few restarts and under 2.5 windows of replay', () => {
    const { s, clock } = simulate(100_000, 59_969, cheapReplay);
    expect(clock.restarts).toBeLessThanOrEqual(5);
    expect(s.rewinds).toBeLessThanOrEqual(3);
    expect(s.transactionsReplayed).toBeLessThan(2.5 * 100_000);
    // Against one full replay of the window (100000 / 60000 s): within 4x on this model.
    expect(clock.seconds / (100_000 / cheapReplay.replayRate)).toBeLessThan(4);
  });

  it('with a dear query, halves instead of scanning many points; with slow replay, snapshots the first pass', () => {
    const { s } = simulate(100_000, 59_969, dearReplay);
    expect(s.evaluations).toBeLessThan(50);
    expect(s.snapshots.filter((p) => p > 0 && p < 59_969).length).toBeGreaterThan(1);
  });

  it('chooses more points per level when a restart costs many points', () => {
    expect(pointsPerLevel(100_000, { restartSeconds: 0.6, pointSeconds: 0.01 })).toBeGreaterThan(20);
    expect(pointsPerLevel(100_000, { restartSeconds: 1, pointSeconds: 10 })).toBeLessThanOrEqual(3);
    expect(pointsPerLevel(1, cheapReplay)).toBe(1);
    expect(pointsPerLevel(5, { restartSeconds: 0, pointSeconds: 0 })).toBe(5);
  });

  it('spreads a level evenly over the open range, leaving out its known failing end', () => {
    const s: BisectSearch = { ...startSearch(100), good: 40, bad: 60, at: 40 };
    expect(levelPoints(s, 4)).toEqual([45, 50, 55]);
    expect(levelPoints(s, 40)).toEqual(Array.from({ length: 19 }, (_, i) => 41 + i));
    expect(levelPoints({ ...startSearch(10), at: 0 }, 4)).toEqual([3, 5, 8, 10]);
  });

  it('snapshots the backup first, then measures the applier with one point', () => {
    let s = afterEvaluation(startSearch(1000), true);
    expect(nextScanMove(s, { costs: { restartSeconds: 0, pointSeconds: 0.01, replayRate: 0 } })).toEqual({ kind: 'snapshot', at: 0 });
    s = afterSnapshot(s, 0);
    const move = nextScanMove(s, { costs: { restartSeconds: 0.5, pointSeconds: 0.01, replayRate: 0 } });
    expect(move).toMatchObject({ kind: 'scan', from: 0 });
    expect(move.kind === 'scan' && move.points.length).toBe(1);
  });

  it('after a failing scan rewinds, then replays to the last good point and snapshots it when the rewinds to come would replay longer', () => {
    let s = afterSnapshot(afterEvaluation(startSearch(100_000), true), 0);
    s = afterScan(s, 0, [
      { point: 50_000, passed: true },
      { point: 60_000, passed: false },
    ]);
    expect(nextScanMove(s, { costs: cheapReplay })).toEqual({ kind: 'rewind', to: 0 });
    s = afterRewind(s, 0);
    expect(snapshotPays(s, cheapReplay)).toBe(true);
    expect(nextScanMove(s, { costs: cheapReplay })).toEqual({ kind: 'scan', from: 0, points: [50_000] });
    s = afterScan(s, 0, [{ point: 50_000, passed: true }]);
    expect(nextScanMove(s, { costs: cheapReplay })).toEqual({ kind: 'snapshot', at: 50_000 });
    // A restart dearer than replaying 50000 transactions again: no snapshot.
    expect(snapshotPays(s, { ...cheapReplay, restartSeconds: 5 })).toBe(false);
  });

  it('spaces first-pass snapshots by the window and the restart, never closer than one restart of replay', () => {
    expect(firstPassSnapshotGap(100_000, 600)).toBe(7746);
    expect(firstPassSnapshotGap(1000, 36_000)).toBe(36_000);
  });

  it('refuses scan results that contradict what is known', () => {
    const s: BisectSearch = { ...startSearch(100), good: 40, bad: 60, at: 40 };
    expect(() => afterScan(s, 40, [{ point: 70, passed: true }])).toThrow(/not deterministic/);
    expect(() => afterScan(s, 40, [{ point: 30, passed: false }])).toThrow(/ascend/);
  });
});

describe('bisect snapshots', () => {
  it('keep a 64 MiB redo log at every later start, through the options file the start script reads last', () => {
    expect(bisectServerOptionsScript('mariadb')).toContain(`'--innodb-log-file-size=${64 * 1024 * 1024}' > ${SANDBOX_EXTRA_OPTIONS}.new`);
    expect(bisectServerOptionsScript('mysql')).toContain(`'--innodb-redo-log-capacity=${64 * 1024 * 1024}'`);
    const script = serverCommand('mariadb', 'sandbox', 1)[2]!;
    expect(script).toContain(`mapfile -t extra < ${SANDBOX_EXTRA_OPTIONS}`);
    expect(script.trimEnd().endsWith('"${extra[@]}"')).toBe(true);
  });

  it('copy the datadir without ibtmp1, which the server makes again', () => {
    expect(snapshotHook(7)).toContain('! -name ibtmp1');
  });
});
