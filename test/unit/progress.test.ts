import { progressBar, renderBarLine, renderPlainLine } from '../../domain/progress/bar';
import { RATE_WINDOW_MS, WorkRate, backupTotal, estimateWork, replayBytes, restoreWork, workOf, workProgress } from '../../domain/progress/work';
import { progressPrinter } from '../../cli/progress-view';

const MiB = 1024 * 1024;
const t0 = Date.parse('2026-12-05T08:00:00.000Z');

describe('estimateWork', () => {
  test('without earlier readings the rate is the average since the work started, and the ETA follows from it', () => {
    const e = estimateWork('restore', workProgress(t0, 100 * MiB, { bytesTotal: 400 * MiB }), t0 + 10_000);
    expect(e.bytesPerSecond).toBe(10 * MiB);
    expect(e.fraction).toBe(0.25);
    expect(e.etaSeconds).toBe(30);
  });

  test('no total: a rate but neither fraction nor ETA', () => {
    const e = estimateWork('replay', workProgress(t0, 50 * MiB), t0 + 5_000);
    expect(e.bytesPerSecond).toBe(10 * MiB);
    expect(e.fraction).toBeUndefined();
    expect(e.etaSeconds).toBeUndefined();
  });

  test('nothing done yet: no rate and no ETA rather than infinity', () => {
    const e = estimateWork('verify', workProgress(t0, 0, { bytesTotal: MiB }), t0 + 5_000);
    expect(e.bytesPerSecond).toBeUndefined();
    expect(e.etaSeconds).toBeUndefined();
    expect(e.fraction).toBe(0);
  });

  test('done past an estimated total: the fraction stops at 1 and the ETA at 0', () => {
    const e = estimateWork('backup', workProgress(t0, 3 * MiB, backupTotal(2 * MiB)), t0 + 1_000);
    expect(e.estimated).toBe(true);
    expect(e.fraction).toBe(1);
    expect(e.etaSeconds).toBe(0);
  });
});

describe('WorkRate', () => {
  test('the rate follows the recent readings, not the average since the start', () => {
    const rate = new WorkRate();
    // 10 MiB/s for 60 s, then 40 MiB/s.
    for (let s = 0; s <= 60; s += 2) rate.update('restore', workProgress(t0, s * 10 * MiB, { bytesTotal: 4000 * MiB }), t0 + s * 1000);
    let e = rate.update('restore', workProgress(t0, 600 * MiB, { bytesTotal: 4000 * MiB }), t0 + 60_000);
    for (let s = 62; s <= 62 + RATE_WINDOW_MS / 1000; s += 2) e = rate.update('restore', workProgress(t0, (600 + (s - 60) * 40) * MiB, { bytesTotal: 4000 * MiB }), t0 + s * 1000);
    expect(e.bytesPerSecond).toBeCloseTo(40 * MiB, -3);
    expect(e.etaSeconds).toBeCloseTo((4000 - e.bytesDone / MiB) / 40, 0);
  });

  test('a retried attempt (a new start, fewer bytes) forgets the readings of the one before', () => {
    const rate = new WorkRate();
    rate.update('restore', workProgress(t0, 0), t0);
    rate.update('restore', workProgress(t0, 500 * MiB), t0 + 10_000);
    const retry = t0 + 20_000;
    const e = rate.update('restore', workProgress(retry, 20 * MiB), retry + 2_000);
    expect(e.bytesPerSecond).toBe(10 * MiB);
  });
});

describe('restoreWork', () => {
  const reading = { loadedBytes: 30 * MiB, storedBytesRead: 10 * MiB, plainBytesRead: 50 * MiB, readToEnd: false, rows: 1234 };

  test('before the end of the dump the plain total is the stored size scaled by the compression so far, marked an estimate', () => {
    expect(restoreWork(t0, reading, 40 * MiB)).toEqual({ bytesDone: 30 * MiB, bytesTotal: 200 * MiB, estimated: true, rowsDone: 1234, startedAt: new Date(t0).toISOString() });
  });

  test('once the dump is read to its end the total is its plain size, exact', () => {
    const w = restoreWork(t0, { ...reading, readToEnd: true, plainBytesRead: 190 * MiB }, 40 * MiB);
    expect(w.bytesTotal).toBe(190 * MiB);
    expect(w.estimated).toBeUndefined();
  });

  test('without a stored size or before the first read, no total', () => {
    expect(restoreWork(t0, reading, undefined).bytesTotal).toBeUndefined();
    expect(restoreWork(t0, { ...reading, storedBytesRead: 0 }, 40 * MiB).bytesTotal).toBeUndefined();
  });
});

describe('replayBytes', () => {
  const files = [
    { name: 'bin.000007', bytes: 1000 },
    { name: 'bin.000008', bytes: 2000 },
    { name: 'bin.000009', bytes: 500 },
  ];
  const start = { file: 'bin.000007', position: 400 };
  const stop = { file: 'bin.000009', position: 300 };

  test('the total runs from the backup position through the files to the stop', () => {
    expect(replayBytes(files, start, stop, undefined)).toEqual({ bytesDone: 0, bytesTotal: 600 + 2000 + 300 });
  });

  test('the applier in a middle file has done the rest of the first file and its position in this one', () => {
    expect(replayBytes(files, start, stop, { file: 'bin.000008', position: 150 })).toEqual({ bytesDone: 750, bytesTotal: 2900 });
  });

  test('reached is all of it; a file outside the plan is nothing done', () => {
    expect(replayBytes(files, start, stop, 'reached')).toEqual({ bytesDone: 2900, bytesTotal: 2900 });
    expect(replayBytes(files, start, stop, { file: 'bin.000001', position: 5 }).bytesDone).toBe(0);
  });
});

describe('workOf', () => {
  test('reads the work of heartbeat details and ignores details without one', () => {
    const work = workProgress(t0, 5, { bytesTotal: 10 });
    expect(workOf({ phase: 'verify', read: 5, work })).toEqual({ phase: 'verify', work });
    expect(workOf({ phase: 'checks', done: 1, of: 3 })).toBeUndefined();
    expect(workOf('text')).toBeUndefined();
  });
});

describe('progress rendering', () => {
  const e = estimateWork('restore', workProgress(t0, 512 * MiB, { bytesTotal: 1024 * MiB, rowsDone: 1234567 }), t0 + 16_000);

  test('the bar fills in proportion and keeps its width', () => {
    expect(progressBar(0.5, 10)).toBe('[█████░░░░░]');
    expect(progressBar(0, 4)).toBe('[░░░░]');
    expect(progressBar(1.7, 4)).toBe('[████]');
    expect(progressBar(NaN, 4)).toBe('[░░░░]');
  });

  test('a terminal line shows bar, percent, bytes against the total, rows, rate and ETA', () => {
    expect(renderBarLine(e, 10)).toBe('  restore          [█████░░░░░]  50%  512.0 MiB / 1.0 GiB  1,234,567 rows  32.0 MiB/s  ETA 16.0s');
  });

  test('a plain line says the same without the bar; an estimated total is marked', () => {
    expect(renderPlainLine(e)).toBe('  restore 50%: 512.0 MiB / 1.0 GiB, 1,234,567 rows, 32.0 MiB/s, ETA 16.0s');
    const est = estimateWork('backup', workProgress(t0, MiB, backupTotal(4 * MiB)), t0 + 1000);
    expect(renderPlainLine(est)).toBe('  backup 25%: 1.0 MiB / ~4.0 MiB, 1.0 MiB/s, ETA 3.0s');
  });
});

describe('progressPrinter', () => {
  const phase = (name: string) => ({ phase: name, startedAt: '', finishedAt: '', seconds: 1, outcome: 'ok' as const });
  const running = (bytes: number) => ({ status: 'running' as const, current: 'restore', phases: [phase('sandbox-start')], work: [{ phase: 'restore', work: workProgress(t0, bytes, { bytesTotal: 100 * MiB }) }] });

  test('on a terminal the bar is redrawn in place, and erased before a finished phase is printed', () => {
    const out: string[] = [];
    let now = t0 + 1000;
    const print = progressPrinter({ write: (t) => void out.push(t), isTTY: true, columns: 120 }, { now: () => now });
    print(running(10 * MiB));
    now += 1000;
    print(running(20 * MiB));
    print({ status: 'done', phases: [phase('sandbox-start'), phase('restore')] });
    const text = out.join('');
    expect(text.match(/\[█+░+\]/g)).toHaveLength(2);
    expect(text).toContain('\x1b[1A\x1b[2K');
    expect(text.endsWith('\x1b[1A\x1b[2K  ✓ restore              1.0 s\n')).toBe(true);
  });

  test('otherwise a plain line at most every so often per phase, and every phase once', () => {
    const out: string[] = [];
    let now = t0 + 1000;
    const print = progressPrinter({ write: (t) => void out.push(t) }, { now: () => now, plainEveryMs: 10_000 });
    print(running(10 * MiB));
    now += 5000;
    print(running(20 * MiB));
    now += 5000;
    print(running(30 * MiB));
    print({ status: 'done', phases: [phase('sandbox-start'), phase('restore'), phase('checks')] });
    expect(out.join('')).not.toContain('\x1b');
    expect(out.filter((l) => l.startsWith('  restore '))).toHaveLength(2);
    expect(out.filter((l) => l.startsWith('  ✓'))).toEqual(['  ✓ sandbox-start        1.0 s\n', '  ✓ restore              1.0 s\n', '  ✓ checks               1.0 s\n']);
  });
});
