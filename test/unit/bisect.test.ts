import type { BinlogTransaction } from '../../domain/binlog/events';
import { beforeArgument, culpritOf, nextSteps, parseRowChanges, renderBisectAnswer, skipArgument } from '../../domain/bisect/answer';
import type { BisectAnswer } from '../../domain/bisect/answer';
import { assertReadOnlyQuery, parseExpectation } from '../../domain/bisect/expect';
import type { BisectPolicy, BisectSearch } from '../../domain/bisect/search';
import { BISECT_BACKUPS_TRIED, nextBisectStart } from '../../domain/bisect/start';
import { afterEvaluation, afterReplay, afterRewind, afterSnapshot, nearestSnapshot, nextMove, openRange, restartCostTransactions, rewindAfterLostReplay, startSearch } from '../../domain/bisect/search';

/** Runs a whole search against a window whose query fails from point `culprit` on (never, when undefined). */
function simulate(count: number, culprit: number | undefined, policy: BisectPolicy) {
  const passesAt = (point: number) => culprit === undefined || point < culprit;
  let s: BisectSearch = afterEvaluation(startSearch(count), passesAt(0));
  for (let i = 0; i < 1000; i++) {
    const move = nextMove(s, policy);
    if (move.kind === 'found' || move.kind === 'never-fails') return { move, s };
    if (move.kind === 'snapshot') s = afterSnapshot(s, move.at);
    else if (move.kind === 'rewind') {
      expect(s.snapshots).toContain(move.to);
      s = afterRewind(s, move.to);
    } else {
      expect(move.to).toBeGreaterThan(move.from);
      expect(move.from).toBe(s.at);
      s = afterReplay(s, move.from, move.to, passesAt(move.to));
    }
  }
  throw new Error('the search did not end');
}

describe('bisect search', () => {
  const cheapRestarts: BisectPolicy = { scanSteps: 8, restartCostTransactions: 0 };
  const dearRestarts: BisectPolicy = { scanSteps: 8, restartCostTransactions: 50_000 };

  it.each([1, 2, 17, 500, 999, 1000])('finds transaction %i of 1000 as the culprit', (culprit) => {
    expect(simulate(1000, culprit, cheapRestarts).move).toEqual({ kind: 'found', culprit });
    expect(simulate(1000, culprit, dearRestarts).move).toEqual({ kind: 'found', culprit });
  });

  it('finds the only transaction of a one-transaction window', () => {
    expect(simulate(1, 1, cheapRestarts).move).toEqual({ kind: 'found', culprit: 1 });
  });

  it('says the query never fails when the whole window passes, having reached its end', () => {
    const { move, s } = simulate(1000, undefined, cheapRestarts);
    expect(move).toEqual({ kind: 'never-fails' });
    expect(s.at).toBe(1000);
  });

  it('costs a scan plus one halving per level: query runs, replays and rewinds stay logarithmic', () => {
    const n = 100_000;
    const { s } = simulate(n, 61_234, cheapRestarts);
    expect(s.evaluations).toBeLessThanOrEqual(1 + 8 + Math.ceil(Math.log2(n / 8)));
    expect(s.rewinds).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(n / 8)));
    // Never more than about twice the window: each step replays from the nearest snapshot.
    expect(s.transactionsReplayed).toBeLessThan(2 * n);
  });

  it('takes fewer snapshots when a restart costs more than replaying again, and still replays under three windows', () => {
    const n = 100_000;
    const cheap = simulate(n, 61_234, cheapRestarts).s;
    const dear = simulate(n, 61_234, { scanSteps: 8, restartCostTransactions: 200_000 }).s;
    expect(dear.snapshots.length).toBeLessThan(cheap.snapshots.length);
    expect(dear.transactionsReplayed).toBeLessThan(3 * n);
  });

  it('snapshots the backup first, before any replay', () => {
    const s = afterEvaluation(startSearch(10), true);
    expect(nextMove(s, dearRestarts)).toEqual({ kind: 'snapshot', at: 0 });
  });

  it('rewinds to the nearest snapshot at or before the last good point after a failing step', () => {
    let s = afterSnapshot(afterEvaluation(startSearch(100), true), 0);
    s = afterReplay(s, 0, 40, true);
    s = afterSnapshot(s, 40);
    s = afterReplay(s, 40, 60, false);
    expect(nextMove(s, cheapRestarts)).toEqual({ kind: 'rewind', to: 40 });
    s = afterRewind(s, 40);
    expect(nextMove(s, cheapRestarts)).toEqual({ kind: 'replay', from: 40, to: 50 });
    expect(openRange(s)).toEqual({ from: 41, to: 60, transactions: 20 });
  });

  it('after a replay its worker never finished, rewinds to the snapshot at or before where it started', () => {
    const s = afterSnapshot(afterSnapshot(startSearch(100), 0), 30);
    expect(rewindAfterLostReplay(s, 45)).toEqual({ kind: 'rewind', to: 30 });
    expect(rewindAfterLostReplay(s, 29)).toEqual({ kind: 'rewind', to: 0 });
    expect(nearestSnapshot([0, 30], 30)).toBe(30);
  });

  it('prices a restart in transactions from the measured replay rate', () => {
    expect(restartCostTransactions({ transactionsReplayed: 10_000, replaySeconds: 2, restartSeconds: 6, restarts: 2 })).toBe(15_000);
    expect(restartCostTransactions({ transactionsReplayed: 0, replaySeconds: 0, restartSeconds: 6, restarts: 2 })).toBe(0);
  });
});

describe('bisect expectation', () => {
  it('reads zero, nonzero, numbers and text', () => {
    expect(parseExpectation('zero')).toBe('zero');
    expect(parseExpectation('nonzero')).toBe('nonzero');
    expect(parseExpectation('42')).toBe(42);
    expect(parseExpectation('-1.5')).toBe(-1.5);
    expect(parseExpectation('EUR')).toEqual({ equals: 'EUR' });
    expect(parseExpectation('18446744073709551615')).toEqual({ equals: '18446744073709551615' });
  });

  it('refuses an empty expectation and a query that writes', () => {
    expect(() => parseExpectation(' ')).toThrow(/--expect is empty/);
    expect(() => assertReadOnlyQuery('DELETE FROM t')).toThrow(/read-only/);
    expect(() => assertReadOnlyQuery('  select 1')).not.toThrow();
  });
});

describe('bisect answer', () => {
  const tx = (n: number, extra: Partial<BinlogTransaction> = {}): BinlogTransaction => ({
    file: 'mysql-bin.000002',
    startPosition: 100 * n,
    endPosition: 100 * n + 90,
    timestamp: 1_796_000_000 + n,
    gtid: `0-1-${n}`,
    statements: [],
    tables: [],
    kind: 'dml',
    ...extra,
  });

  it('names the next steps by GTID, else by position', () => {
    const culprit = culpritOf(tx(7), 7);
    const previous = culpritOf(tx(6), 6);
    expect(nextSteps('shop', culprit, previous)).toEqual({ pitrBefore: 'restore-drill pitr shop --to 0-1-6', pitrSkip: 'restore-drill pitr shop --to latest --skip 0-1-7' });
    const noGtid = culpritOf(tx(7, { gtid: undefined }), 7);
    expect(skipArgument(noGtid)).toBe('mysql-bin.000002:700-790');
    expect(beforeArgument(noGtid, undefined)).toBe('mysql-bin.000002:700');
  });

  it('summarises decoded row events per table and kind with the first rows before and after', () => {
    const decoded = [
      '#261205 12:00:00 server id 1  end_log_pos 500 CRC32 0x1 	Update_rows: table id 70 flags: STMT_END_F',
      '### UPDATE `university`.`grades`',
      '### WHERE',
      '###   @1=1 /* INT meta=0 nullable=0 is_null=0 */',
      "###   @2='B'",
      '### SET',
      '###   @1=1',
      "###   @2='F'",
      '### UPDATE `university`.`grades`',
      '### WHERE',
      '###   @1=2',
      '### SET',
      '###   @1=2',
      '### DELETE FROM `university`.`students`',
      '### WHERE',
      '###   @1=9',
      '# at 600',
    ].join('\n');
    expect(parseRowChanges(decoded)).toEqual([
      { table: 'university.grades', kind: 'UPDATE', rows: 2, firstRows: [{ before: "@1=1 @2='B'", after: "@1=1 @2='F'" }, { before: '@1=2', after: '@1=2' }] },
      { table: 'university.students', kind: 'DELETE', rows: 1, firstRows: [{ before: '@1=9' }] },
    ]);
  });

  it('renders the culprit, the values around it and the two commands', () => {
    const answer: BisectAnswer = {
      source: 'shop',
      query: 'SELECT COUNT(*) FROM orphans',
      expected: '0',
      backup: '/home/backups/shop/manifest.json',
      window: { from: { file: 'mysql-bin.000002', position: 4 }, to: { file: 'mysql-bin.000003', position: 900 }, transactions: 3000 },
      culprit: culpritOf(tx(7, { kind: 'ddl', statements: ['DROP TABLE `courses`'] }), 1500),
      previous: culpritOf(tx(6), 1499),
      valueBefore: '0',
      valueAfter: 'error: Table university.courses does not exist',
      next: nextSteps('shop', culpritOf(tx(7), 7), culpritOf(tx(6), 6)),
      cost: { restores: 1, replays: 18, transactionsReplayed: 4000, snapshots: 5, rewinds: 4, evaluations: 19, seconds: 42 },
    };
    const text = renderBisectAnswer(answer);
    expect(text).toContain('transaction 1500 of 3000');
    expect(text).toContain('GTID 0-1-7');
    expect(text).toContain('statement: DROP TABLE `courses`');
    expect(text).toContain("just after it: error: Table university.courses does not exist");
    expect(text).toContain('restore-drill pitr shop --to 0-1-6');
    expect(text).toContain('restore-drill pitr shop --to latest --skip 0-1-7');
  });
});

describe('bisect start without --from', () => {
  const backup = (id: string, position: number) => ({ manifestPath: `/store/${id}/manifest.json`, backupId: id, createdAt: `2026-12-0${position}T00:00:00Z`, coordinates: { file: 'mysql-bin.000001', position: position * 1000 } });
  const backups = [backup('b1', 1), backup('b3', 3), backup('b2', 2), backup('b4', 4)];
  const stop = { file: 'mysql-bin.000001', position: 3500 };

  it('tries the newest backup before the target, then the next older one on which the query failed', () => {
    expect(nextBisectStart(backups, stop, [], '0').backupId).toBe('b3');
    expect(nextBisectStart(backups, stop, [{ manifestPath: '/store/b3/manifest.json', value: '2' }], '0').backupId).toBe('b2');
  });

  it('says which backups failed, with their values, when no older backup is left', () => {
    const tried = [
      { manifestPath: '/store/b3/manifest.json', value: '2' },
      { manifestPath: '/store/b2/manifest.json', value: '1' },
      { manifestPath: '/store/b1/manifest.json', value: 'error: no such table' },
    ];
    expect(() => nextBisectStart(backups.slice(0, 3), stop, tried, '0')).toThrow(
      /the start is wrong: the query already fails on each of the 3 newest backups before the target, expected 0: \/store\/b3\/manifest.json \(it returns 2\), .*; no older backup precedes mysql-bin.000001:3500/,
    );
  });

  it(`gives up after ${BISECT_BACKUPS_TRIED} backups, each a restore`, () => {
    const many = Array.from({ length: 6 }, (_, i) => backup(`b${i + 1}`, i + 1));
    const tried = ['b6', 'b5', 'b4'].map((id) => ({ manifestPath: `/store/${id}/manifest.json`, value: '1' }));
    expect(() => nextBisectStart(many, { file: 'mysql-bin.000001', position: 9000 }, tried, 'zero')).toThrow(/the bisect tries at most 3/);
  });
});
