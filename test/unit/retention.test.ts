import { assertRetentionPolicy, decideRetention } from '../../domain/artifacts/retention';
import type { RetainedBackupInfo, RetentionInput } from '../../domain/artifacts/retention';
import { errorType } from './expect-error';

const NOW = new Date('2026-11-21T12:00:00Z');
const DAY = 86400;

/** A backup `daysAgo` old starting at mysql-bin.<file>:<position>. */
function backup(id: string, daysAgo: number, file: number, position = 1000): RetainedBackupInfo {
  const at = new Date(NOW.getTime() - daysAgo * DAY * 1000).toISOString();
  return { folder: id, backupId: id, createdAt: at, finishedAt: at, coordinates: { file: `mysql-bin.${String(file).padStart(6, '0')}`, position } };
}

const files = (...n: number[]) => n.map((i) => `mysql-bin.${String(i).padStart(6, '0')}`);

function decide(over: Partial<RetentionInput>) {
  return decideRetention({ backups: [], unreadable: [], archivedFiles: [], policy: { keepBackups: 2 }, now: NOW, ...over });
}

describe('decideRetention', () => {
  test('keeps the N newest backups and removes the older ones, whatever order they are listed in', () => {
    const d = decide({ backups: [backup('b2', 2, 3), backup('b1', 3, 1), backup('b4', 0, 6), backup('b3', 1, 5)] });
    expect(d.keepBackups.map((b) => b.backupId)).toEqual(['b4', 'b3']);
    expect(d.removeBackups.map((b) => b.backupId)).toEqual(['b2', 'b1']);
  });

  test('a kept increment keeps its whole chain, and the binlogs from its full backup on', () => {
    const full = backup('full', 3, 2);
    const inc1 = { ...backup('inc1', 2, 3), chain: ['full'] };
    const inc2 = { ...backup('inc2', 1, 4), chain: ['full', 'inc1'] };
    const d = decide({ backups: [backup('older', 5, 1), full, inc1, inc2], policy: { keepBackups: 1 }, archivedFiles: files(1, 2, 3, 4) });
    expect(d.keepBackups.map((b) => b.backupId).sort()).toEqual(['full', 'inc1', 'inc2']);
    expect(d.keepBackups).toContainEqual(expect.objectContaining({ backupId: 'full', reason: 'in the chain of kept increment inc2: it cannot be prepared without it' }));
    expect(d.removeBackups.map((b) => b.backupId)).toEqual(['older']);
    expect(d.removeBinlogs).toEqual(files(1));
  });

  test('the newest backup is kept even with keepBackups 1 and a zero age window', () => {
    const d = decide({ backups: [backup('old', 30, 1), backup('new', 20, 2)], policy: { keepBackups: 1, keepNewerThanSeconds: 0 } });
    expect(d.keepBackups).toEqual([expect.objectContaining({ backupId: 'new', reason: 'the newest backup is always kept' })]);
    expect(d.removeBackups.map((b) => b.backupId)).toEqual(['old']);
  });

  test('newest is decided by binlog coordinates, then by finish time', () => {
    const a = backup('a', 1, 4, 100);
    const b = backup('b', 2, 4, 200); // finished earlier but starts later in the binlog
    const c = { ...backup('c', 0.5, 4, 100), folder: 'c' }; // same coordinates as a, finished later
    const d = decide({ backups: [a, b, c], policy: { keepBackups: 2 } });
    expect(d.keepBackups.map((x) => x.backupId)).toEqual(['b', 'c']);
    expect(d.removeBackups.map((x) => x.backupId)).toEqual(['a']);
  });

  test('keepNewerThan also keeps every backup younger than the window beyond the N newest', () => {
    const d = decide({ backups: [backup('b1', 20, 1), backup('b2', 6, 2), backup('b3', 3, 3), backup('b4', 1, 4)], policy: { keepBackups: 1, keepNewerThanSeconds: 7 * DAY } });
    expect(d.keepBackups.map((b) => b.backupId)).toEqual(['b4', 'b3', 'b2']);
    expect(d.keepBackups[1]!.reason).toBe('finished less than 7 d ago');
    expect(d.removeBackups).toEqual([expect.objectContaining({ backupId: 'b1', reason: 'older than the 1 newest backups and than 7 d' })]);
  });

  test('fewer backups than N: nothing is removed, and binlogs before the oldest backup go', () => {
    const d = decide({ backups: [backup('b1', 2, 3)], archivedFiles: files(1, 2, 3, 4), policy: { keepBackups: 5 } });
    expect(d.removeBackups).toEqual([]);
    expect(d.removeBinlogs).toEqual(files(1, 2));
    expect(d.binlogsKeptFrom).toBe('mysql-bin.000003');
  });

  test('binlog files from the oldest kept backup\'s start file onwards stay, including that whole file', () => {
    const d = decide({ backups: [backup('b1', 3, 1), backup('b2', 2, 3, 123456), backup('b3', 1, 5)], archivedFiles: files(1, 2, 3, 4, 5, 6) });
    expect(d.removeBackups.map((b) => b.backupId)).toEqual(['b1']);
    expect(d.removeBinlogs).toEqual(files(1, 2));
    expect(d.binlogsKeptFrom).toBe('mysql-bin.000003');
    expect(d.binlogReason).toBe('the oldest kept backup b2 starts at mysql-bin.000003:123456: every file from mysql-bin.000003 on is kept for its point-in-time recovery');
  });

  test('only a prefix of the archive ever goes: a hole after the cut is not widened, files are compared numerically', () => {
    const archive = ['mysql-bin.999999', 'mysql-bin.1000000', 'mysql-bin.1000002', 'mysql-bin.1000003'];
    const d = decide({ backups: [{ ...backup('b', 1, 0), coordinates: { file: 'mysql-bin.1000000', position: 4 } }], archivedFiles: archive, policy: { keepBackups: 1 } });
    expect(d.removeBinlogs).toEqual(['mysql-bin.999999']);
    expect(d.binlogsKeptFrom).toBe('mysql-bin.1000000');
  });

  test('an archive that already starts after the oldest kept backup loses nothing', () => {
    const d = decide({ backups: [backup('b1', 1, 2)], archivedFiles: files(4, 5), policy: { keepBackups: 1 } });
    expect(d.removeBinlogs).toEqual([]);
    expect(d.binlogsKeptFrom).toBe('mysql-bin.000004');
  });

  test('files of another binlog series are never removed', () => {
    const d = decide({ backups: [backup('b1', 1, 3)], archivedFiles: [...files(1, 2, 3), 'other-bin.000001'], policy: { keepBackups: 1 } });
    expect(d.removeBinlogs).toEqual(files(1, 2));
  });

  test('duplicates in the archive listing (present and indexed) are removed once', () => {
    const d = decide({ backups: [backup('b1', 1, 2)], archivedFiles: [...files(1, 2), ...files(1, 2)], policy: { keepBackups: 1 } });
    expect(d.removeBinlogs).toEqual(files(1));
  });

  test('unreadable backups are reported, never removed, and do not count among the N newest', () => {
    const d = decide({ backups: [backup('b1', 3, 1), backup('b2', 2, 2)], unreadable: [{ folder: 'broken', problem: 'manifest is not valid JSON' }], policy: { keepBackups: 1 } });
    expect(d.reported).toEqual([{ folder: 'broken', problem: 'manifest is not valid JSON' }]);
    expect([...d.removeBackups, ...d.keepBackups].map((b) => b.folder)).not.toContain('broken');
    expect(d.removeBackups.map((b) => b.backupId)).toEqual(['b1']);
  });

  test('with no readable backup nothing at all is removed, not even binlogs', () => {
    const d = decide({ unreadable: [{ folder: 'x', problem: 'no manifest.json' }], archivedFiles: files(1, 2, 3) });
    expect(d).toMatchObject({ removeBackups: [], keepBackups: [], removeBinlogs: [], binlogReason: 'no readable backup: the archive is kept whole' });
  });

  test('with an age window, a backup whose finish time is unreadable is kept (its age is unknown)', () => {
    const odd = { ...backup('odd', 0, 1), finishedAt: 'yesterday', createdAt: 'yesterday' };
    expect(decide({ backups: [backup('new', 0, 5), odd], policy: { keepBackups: 1, keepNewerThanSeconds: 30 * DAY } }).keepBackups.map((b) => b.backupId)).toEqual(['new', 'odd']);
    expect(decide({ backups: [backup('new', 0, 5), odd], policy: { keepBackups: 1 } }).removeBackups.map((b) => b.backupId)).toEqual(['odd']);
  });
});

describe('assertRetentionPolicy', () => {
  test.each([0, -1, 1.5, Number.NaN])('keepBackups %p is refused with BadConfig', (n) => {
    expect(errorType(() => assertRetentionPolicy({ keepBackups: n }))).toBe('BadConfig');
    expect(errorType(() => decideRetention({ backups: [backup('b', 0, 1)], unreadable: [], archivedFiles: [], policy: { keepBackups: n }, now: NOW }))).toBe('BadConfig');
  });

  test('a negative age window is refused', () => {
    expect(errorType(() => assertRetentionPolicy({ keepBackups: 1, keepNewerThanSeconds: -5 }))).toBe('BadConfig');
  });

  test.each([0, -3, 2.5])('keepReports %p is refused with BadConfig', (n) => {
    expect(() => assertRetentionPolicy({ keepBackups: 1, keepReports: n }, 'orders')).toThrow(`retention of orders: keepReports is ${n}; it must be a whole number of at least 1`);
  });

  test('keepBackups 1 with no age window is valid', () => {
    expect(errorType(() => assertRetentionPolicy({ keepBackups: 1 }))).toBeUndefined();
  });
});
