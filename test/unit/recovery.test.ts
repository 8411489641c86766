import type { BinlogTransaction } from '../../domain/binlog/events';
import { gtidSetOf } from '../../domain/binlog/gtid';
import { archiveFallbackFile, archiveResumeFile, findArchiveGaps, type ArchiveGap, type ArchiveIndex, type ArchivedFileEntry } from '../../domain/recovery/archive-index';
import { backupLastCommitBound, chooseBaseBackup, type BackupCandidate } from '../../domain/recovery/base-backup';
import { expectedGtidSet, proveByGtidExecuted, proveByGtidSlavePos } from '../../domain/recovery/proof';
import { parseSkip, replaySegments, resolveSkips } from '../../domain/recovery/replay-segments';
import { achievedRpoSeconds, describeRecovery } from '../../domain/recovery/report';
import { summarizeTransaction } from '../../domain/recovery/transactions';
import { assertNoGapBetween, gapHidingTarget, firstGapBetween, recoverableWindow } from '../../domain/recovery/window';
import { errorType } from './expect-error';
import { replayPipeline } from '../../domain/replay/client-pipeline';
import { caught } from './binlog-fixtures';

const U = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const F1 = 'mysql-bin.000001';
const F2 = 'mysql-bin.000002';
const F3 = 'mysql-bin.000003';
const F4 = 'mysql-bin.000004';
const T0 = Date.UTC(2026, 10, 21, 14, 0, 0) / 1000;

function tx(file: string, start: number, end: number, n: number): BinlogTransaction {
  return { file, startPosition: start, endPosition: end, timestamp: T0 + n, commitTimeMicros: (T0 + n) * 1e6, gtid: `${U}:${n}`, statements: [], tables: [], kind: 'dml' };
}

function backup(id: string, file: string, position: number, createdAt = '2026-11-21T10:00:00.000Z'): BackupCandidate {
  return { manifestPath: `/a/${id}/manifest.json`, backupId: id, createdAt, coordinates: { file, position } };
}

function entry(file: string, previousGtids: string, gtids: string): ArchivedFileEntry {
  return { file, bytes: 100, sha256: 'x'.repeat(64), endPosition: 100, previousGtids, gtids, sealed: true, archivedAt: '2026-11-21T10:00:00.000Z' };
}

const TXS = [tx(F1, 100, 200, 1), tx(F1, 200, 300, 2), tx(F1, 300, 400, 3), tx(F2, 150, 250, 4), tx(F2, 250, 350, 5)];

describe('chooseBaseBackup', () => {
  const backups = [backup('b1', F1, 100), backup('b2', F1, 300), backup('b3', F2, 250)];

  test('picks the newest backup whose coordinates are at or before the stop', () => {
    expect(chooseBaseBackup(backups, { file: F2, position: 200 }, 'latest').backupId).toBe('b2');
    expect(chooseBaseBackup(backups, { file: F2, position: 250 }, 'latest').backupId).toBe('b3');
  });

  test('between two backups at the same coordinates, picks the later one', () => {
    const twins = [backup('old', F1, 300, '2026-11-21T10:00:00.000Z'), backup('new', F1, 300, '2026-11-21T11:00:00.000Z')];
    expect(chooseBaseBackup(twins, { file: F2, position: 4 }, 'latest').backupId).toBe('new');
  });

  test('refuses when every backup is after the target, naming the oldest backup', () => {
    const e = caught(() => chooseBaseBackup(backups, { file: F1, position: 50 }, 'before:DROP TABLE grades'));
    expect(e.type).toBe('BadTarget');
    expect(e.message).toContain('No published backup precedes before:DROP TABLE grades');
    expect(e.message).toContain('b1');
  });

  test('refuses when there is no backup at all, rather than taking one after the accident', () => {
    const e = caught(() => chooseBaseBackup([], { file: F1, position: 50 }, 'latest'));
    expect(e.type).toBe('BadTarget');
    expect(e.message).toMatch(/a backup taken now would already contain the damage/);
  });
});

describe('findArchiveGaps', () => {
  const index: ArchiveIndex = {
    format: 1,
    source: 's',
    files: [entry(F1, '', `${U}:1-3`), entry(F2, `${U}:1-3`, `${U}:4-5`), entry(F3, `${U}:1-5`, `${U}:6`), entry(F4, `${U}:1-6`, '')],
  };

  test('a consistent archive has no gap', () => {
    expect(findArchiveGaps(index, [F1, F2, F3, F4], 'mysql')).toEqual([]);
  });

  test('a file missing from the middle is a file gap naming it', () => {
    const gaps = findArchiveGaps(index, [F1, F2, F4], 'mysql');
    expect(gaps).toEqual([expect.objectContaining({ kind: 'file', after: F2, before: F4, missing: [F3] })]);
    expect(gaps[0]!.description).toBe(`binlog ${F3} missing between ${F2} and ${F4}`);
  });

  test('a file the index lists but that is gone from the end is a gap too', () => {
    expect(findArchiveGaps(index, [F1, F2, F3], 'mysql')).toEqual([expect.objectContaining({ kind: 'file', missing: [F4], after: F3 })]);
  });

  test('transactions missing between two consecutive files are a GTID gap', () => {
    const cut: ArchiveIndex = { ...index, files: [entry(F1, '', `${U}:1-2`), ...index.files.slice(1)] };
    const gaps = findArchiveGaps(cut, [F1, F2, F3, F4], 'mysql');
    expect(gaps).toEqual([expect.objectContaining({ kind: 'gtid', after: F1, before: F2 })]);
    expect(gaps[0]!.description).toContain(`${U}:1-2`);
  });

  test('MariaDB GTID lists are compared per domain', () => {
    const maria: ArchiveIndex = { format: 1, source: 's', files: [entry(F1, '0-1-10', '0-1-15'), entry(F2, '0-1-15,1-2-3', '0-1-20')] };
    expect(findArchiveGaps(maria, [F1, F2], 'mariadb')).toEqual([expect.objectContaining({ kind: 'gtid' })]);
    const ok: ArchiveIndex = { format: 1, source: 's', files: [entry(F1, '0-1-10', '0-1-15'), entry(F2, '0-1-15', '0-1-20')] };
    expect(findArchiveGaps(ok, [F1, F2], 'mariadb')).toEqual([]);
  });
});

describe('recoverableWindow and assertNoGapBetween', () => {
  const last = summarizeTransaction(tx(F4, 100, 200, 9));

  test('the window starts at the oldest backup that rolls forward to the end of the archive', () => {
    const index: ArchiveIndex = { format: 1, source: 's', files: [] };
    const gaps = findArchiveGaps(index, [F1, F3, F4], 'mysql');
    const w = recoverableWindow([backup('b1', F1, 100), backup('b3', F3, 100)], gaps, [F1, F3, F4], last);
    expect(w.from?.backupId).toBe('b3');
    expect(w.to).toEqual(last);
    expect(w.text).toContain('recoverable window: backup b3');
    expect(w.text).toContain(`binlog ${F2} missing between ${F1} and ${F3}`);
  });

  test('without any usable backup the window says so', () => {
    expect(recoverableWindow([], [], [F1], last).text).toMatch(/^recoverable window: no usable backup → last archived transaction mysql-bin.000004:100-200/);
  });

  test('a replay across a missing file is refused with BinlogGap naming the file and the window', () => {
    const gaps = findArchiveGaps({ format: 1, source: 's', files: [] }, [F1, F3], 'mysql');
    const w = recoverableWindow([], gaps, [F1, F3], last);
    const e = caught(() => assertNoGapBetween({ file: F1, position: 100 }, { file: F3, position: 50 }, gaps, w));
    expect(e.type).toBe('BinlogGap');
    expect(e.message).toContain(F2);
    expect(e.message).toContain('recoverable window');
  });

  test('the first gap a replay crosses is the earliest one after its start', () => {
    const gaps = findArchiveGaps({ format: 1, source: 's', files: [] }, [F1, F3, 'mysql-bin.000005'], 'mysql');
    expect(firstGapBetween({ file: F1, position: 100 }, { file: 'mysql-bin.000005', position: 50 }, gaps)?.missing).toEqual([F2]);
    expect(firstGapBetween({ file: F3, position: 100 }, { file: 'mysql-bin.000005', position: 50 }, gaps)?.missing).toEqual([F4]);
    expect(firstGapBetween({ file: F1, position: 100 }, { file: F1, position: 900 }, gaps)).toBeUndefined();
  });

  test('a gap before the replay start does not matter', () => {
    const gaps = findArchiveGaps({ format: 1, source: 's', files: [] }, [F1, F3, F4], 'mysql');
    expect(() => assertNoGapBetween({ file: F3, position: 100 }, { file: F4, position: 50 }, gaps, recoverableWindow([], gaps, [F1, F3, F4], last))).not.toThrow();
  });
});

describe('resolveSkips', () => {
  const start = { file: F1, position: 100 };
  const stop = { file: F2, position: 350 };

  test('a GTID names exactly its transaction', () => {
    expect(resolveSkips([{ gtid: `${U.toUpperCase()}:3` }], start, stop, TXS)).toEqual([TXS[2]]);
  });

  test('a position range on transaction boundaries may span several transactions', () => {
    expect(resolveSkips([{ file: F1, startPosition: 200, endPosition: 400 }], start, stop, TXS)).toEqual([TXS[1], TXS[2]]);
  });

  test('a range that cuts a transaction is refused', () => {
    const e = caught(() => resolveSkips([{ file: F1, startPosition: 200, endPosition: 350 }], start, stop, TXS));
    expect(e.type).toBe('BadTarget');
    expect(e.message).toMatch(/transaction boundaries/);
  });

  test('a GTID outside the replay is refused: there is nothing to skip', () => {
    const e = caught(() => resolveSkips([{ gtid: `${U}:5` }], start, { file: F2, position: 250 }, TXS));
    expect(e.type).toBe('BadTarget');
    expect(e.message).toMatch(/outside the replay/);
  });

  test('an unknown GTID is refused', () => {
    expect(caught(() => resolveSkips([{ gtid: `${U}:99` }], start, stop, TXS)).message).toMatch(/no archived transaction has it/);
  });
});

describe('replaySegments and replayPipeline', () => {
  const archived = [F1, F2];

  test('without skips the replay is one segment from the backup to the stop', () => {
    expect(replaySegments(archived, { file: F1, position: 100 }, { file: F2, position: 350 }, [])).toEqual([
      { from: { file: F1, position: 100 }, to: { file: F2, position: 350 }, files: [F1, F2] },
    ]);
  });

  test('a skipped transaction splits the replay around its byte range', () => {
    expect(replaySegments(archived, { file: F1, position: 100 }, { file: F2, position: 350 }, [TXS[2]!])).toEqual([
      { from: { file: F1, position: 100 }, to: { file: F1, position: 300 }, files: [F1] },
      { from: { file: F1, position: 400 }, to: { file: F2, position: 350 }, files: [F1, F2] },
    ]);
  });

  test('adjacent skips leave no empty segment between them, nor after a skip at the stop', () => {
    expect(replaySegments(archived, { file: F1, position: 100 }, { file: F2, position: 350 }, [TXS[1]!, TXS[2]!, TXS[4]!]).map((s) => [s.from, s.to])).toEqual([
      [{ file: F1, position: 100 }, { file: F1, position: 200 }],
      [{ file: F1, position: 400 }, { file: F2, position: 250 }],
    ]);
  });

  test('all segments feed one client session', () => {
    const segments = replaySegments(archived, { file: F1, position: 100 }, { file: F2, position: 350 }, [TXS[2]!]);
    expect(replayPipeline('mysqlbinlog', '/binlogs/', segments, ['mysql', '--binary-mode'])).toBe(
      '( mysqlbinlog --start-position=100 --stop-position=300 /binlogs/mysql-bin.000001; ' +
        'mysqlbinlog --start-position=400 --stop-position=350 /binlogs/mysql-bin.000001 /binlogs/mysql-bin.000002 ) | mysql --binary-mode',
    );
  });
});

describe('expected GTID state and proof', () => {
  test('the expected MySQL set is the backup set plus the applied GTIDs', () => {
    expect(expectedGtidSet('mysql', `${U}:1-2`, [TXS[2]!, TXS[4]!])).toBe(`${U}:1-3:5`);
    expect(expectedGtidSet('mariadb', '0-1-2', [])).toBeUndefined();
  });

  test('gtidSetOf builds a MySQL set and a MariaDB per-domain position', () => {
    expect(gtidSetOf('mysql', [`${U}:3`, `${U}:1`, `${U}:2`])).toBe(`${U}:1-3`);
    expect(gtidSetOf('mariadb', ['0-1-3', '0-1-7', '1-2-4'])).toBe('0-1-7,1-2-4');
  });

  test('gtid_executed equal to the archive, without the skipped transaction, proves the point', () => {
    const p = proveByGtidExecuted(`${U}:1-2,\n${U}:4`, `${U}:1-2:4`, summarizeTransaction(TXS[3]!), summarizeTransaction(TXS[4]!), [summarizeTransaction(TXS[2]!)]);
    expect(p).toMatchObject({ method: 'gtid_executed', passed: true });
  });

  test('a sandbox that applied the skipped transaction fails the proof, saying so', () => {
    const p = proveByGtidExecuted(`${U}:1-4`, `${U}:1-2:4`, summarizeTransaction(TXS[3]!), undefined, [summarizeTransaction(TXS[2]!)]);
    expect(p.passed).toBe(false);
    expect(p.message).toContain(`skipped transaction ${U}:3 was applied`);
  });

  test('MariaDB gtid_slave_pos must be exactly the last applied GTID', () => {
    const last = { ...summarizeTransaction(TXS[0]!), gtid: '0-1-7' };
    const next = { ...summarizeTransaction(TXS[1]!), gtid: '0-1-8' };
    expect(proveByGtidSlavePos('0-1-7', last, next)).toMatchObject({ method: 'gtid_slave_pos', passed: true });
    expect(proveByGtidSlavePos('0-1-8', last, next)).toMatchObject({ passed: false });
    expect(proveByGtidSlavePos('', last, next)).toMatchObject({ method: 'unavailable' });
  });
});

describe('achievedRpoSeconds', () => {
  test('is zero when the target was reached', () => {
    expect(achievedRpoSeconds({ reached: true, lastAppliedMicros: 1, nowMicros: 9e12 })).toBe(0);
  });

  test('for an unreached time target, is the target minus the last applied commit', () => {
    expect(achievedRpoSeconds({ reached: false, targetTimeMicros: 10_500_000, lastAppliedMicros: 4_000_000, nowMicros: 9e12 })).toBe(6.5);
  });

  test('for other unreached targets, is the time since the last applied commit', () => {
    expect(achievedRpoSeconds({ reached: false, lastAppliedMicros: 4_000_000, nowMicros: 64_000_000 })).toBe(60);
  });
});

describe('archiveResumeFile', () => {
  test('an empty archive starts at the file the backup needs', () => {
    expect(archiveResumeFile([], F2)).toBe(F2);
  });

  test('an archive that reaches back far enough resumes at its newest file, leaving holes visible', () => {
    expect(archiveResumeFile([F1, F2, F4], F2)).toBe(F4);
  });

  test('an archive whose newest file precedes the needed one resumes at its newest file, completing a partial copy', () => {
    expect(archiveResumeFile([F1, F2], F4)).toBe(F2);
  });

  test('an archive that starts after the needed file is refetched from that file', () => {
    expect(archiveResumeFile([F3, F4], F2)).toBe(F2);
  });
});

describe('describeRecovery', () => {
  test('states the base backup, last applied, first not applied, each skipped transaction and a failed proof', () => {
    const lines = describeRecovery({
      baseBackup: { manifestPath: '/a/b1/manifest.json', coordinates: { file: F1, position: 100 }, chosen: 'newest-before-target' },
      transactionsApplied: 3,
      lastApplied: summarizeTransaction(TXS[3]!),
      firstNotApplied: summarizeTransaction(TXS[4]!),
      skipped: [summarizeTransaction(TXS[2]!)],
      window: 'recoverable window: …',
      proof: { method: 'gtid_executed', passed: false, message: 'skipped transaction was applied' },
    });
    expect(lines).toEqual([
      `base backup /a/b1/manifest.json at ${F1}:100 (newest-before-target)`,
      `applied 3 transaction(s); last applied ${F2}:150-250 GTID ${U}:4 committed 2026-11-21T14:00:04.000000Z`,
      `first not applied ${F2}:250-350 GTID ${U}:5 committed 2026-11-21T14:00:05.000000Z`,
      `skipped ${F1}:300-400 GTID ${U}:3 committed 2026-11-21T14:00:03.000000Z`,
      'proof (gtid_executed, FAILED): skipped transaction was applied',
    ]);
  });
});

describe('an archive whose older files retention removed', () => {
  // F1 and F2 pruned: the archive and its index start at F3, where the oldest kept backup starts.
  const pruned: ArchiveIndex = { format: 1, source: 's', files: [entry(F3, `${U}:1-5`, `${U}:6`), entry(F4, `${U}:1-6`, '')] };
  const kept = [backup('b2', F3, 150, '2026-11-21T11:00:00.000Z'), backup('b3', F4, 4, '2026-11-21T12:00:00.000Z')];

  test('has no gap: a later start is not a hole', () => {
    expect(findArchiveGaps(pruned, [F3, F4], 'mysql')).toEqual([]);
  });

  test('its recoverable window starts at the oldest kept backup', () => {
    const w = recoverableWindow(kept, [], [F3, F4], summarizeTransaction(tx(F4, 100, 200, 7)));
    expect(w.from?.backupId).toBe('b2');
    expect(w.text).toContain(`recoverable window: backup b2 (${F3}:150`);
  });

  test('a backup older than the archive is not in the window, and replaying from it names the missing files', () => {
    const w = recoverableWindow([backup('b1', F1, 100), ...kept], [], [F3, F4], undefined);
    expect(w.from?.backupId).toBe('b2');
    const e = caught(() => replaySegments([F3, F4], { file: F1, position: 100 }, { file: F4, position: 50 }, []));
    expect(e.type).toBe('BinlogGap');
    expect(e.message).toContain(`the archive starts at ${F3}`);
  });
});

describe('backupLastCommitBound', () => {
  const withTimes = (file: string, lastCommitTime?: string): ArchivedFileEntry => ({ ...entry(file, '', ''), ...(lastCommitTime ? { lastCommitTime } : {}) });

  test('undefined when the backup\'s own file holds a transaction before its coordinates (that transaction answers)', () => {
    expect(backupLastCommitBound({ file: F2, position: 300 }, [tx(F2, 150, 250, 4)], { format: 1, source: 's', files: [] }, '2026-11-21T12:00:00.000Z')).toBeUndefined();
  });

  test('the previous archived file\'s last commit when the backup starts before any transaction of its file', () => {
    const index: ArchiveIndex = { format: 1, source: 's', files: [withTimes(F1, '2026-11-21T09:00:00.000000Z'), withTimes(F2)] };
    expect(backupLastCommitBound({ file: F2, position: 4 }, [tx(F2, 150, 250, 4)], index, '2026-11-21T12:00:00.000Z')).toBe('2026-11-21T09:00:00.000000Z');
  });

  test('the backup\'s finish time when the previous file is not archived (pruned or never copied)', () => {
    const index: ArchiveIndex = { format: 1, source: 's', files: [withTimes(F1, '2026-11-21T09:00:00.000000Z'), withTimes(F3)] };
    expect(backupLastCommitBound({ file: F3, position: 4 }, [], index, '2026-11-21T12:00:00.000Z')).toBe('2026-11-21T12:00:00.000Z');
    expect(backupLastCommitBound({ file: F3, position: 4 }, [], { format: 1, source: 's', files: [] }, undefined)).toBeUndefined();
  });
});

describe('gapHidingTarget', () => {
  const purged: ArchiveGap = { kind: 'file', after: F1, before: F3, missing: [F2], description: `binlog ${F2} missing between ${F1} and ${F3}` };
  const lostTail: ArchiveGap = { kind: 'gtid', after: F1, before: F2, missing: [], description: `GTID gap between ${F1} and ${F2}` };

  test('a purged file between the stop and the first transaction left out may hide transactions before the target', () => {
    expect(gapHidingTarget({ file: F1, position: 400 }, { file: F3, startPosition: 150 }, [purged])).toBe(purged);
  });

  test('the lost tail of a file copied while active (a GTID gap) hides them too', () => {
    expect(gapHidingTarget({ file: F1, position: 400 }, { file: F2, startPosition: 150 }, [lostTail])).toBe(lostTail);
  });

  test('no gap between them: the stop is proven, whatever gaps lie elsewhere', () => {
    expect(gapHidingTarget({ file: F3, position: 200 }, { file: F3, startPosition: 200 }, [purged, lostTail])).toBeUndefined();
    expect(gapHidingTarget({ file: F1, position: 300 }, { file: F1, startPosition: 300 }, [{ ...purged, after: F3, before: 'mysql-bin.000005', missing: [F4] }])).toBeUndefined();
  });

  test('nothing left out (the target lies past the archive): nothing to hide', () => {
    expect(gapHidingTarget({ file: F1, position: 400 }, undefined, [purged])).toBeUndefined();
  });
});

describe('archiveFallbackFile', () => {
  test('the file the backup needs, when the source still has it', () => {
    expect(archiveFallbackFile(F3, F2)).toBe(F3);
    expect(archiveFallbackFile(F3, F3)).toBe(F3);
  });

  test('the oldest file the source still has, when it purged the one the backup needs', () => {
    expect(archiveFallbackFile(F1, F3)).toBe(F3);
  });

  test('the file the backup needs when the source cannot say, or names another series', () => {
    expect(archiveFallbackFile(F1, undefined)).toBe(F1);
    expect(archiveFallbackFile(F1, 'other-bin.000009')).toBe(F1);
  });
});

describe('parseSkip (pitr --skip)', () => {
  test('a MySQL or MariaDB GTID names one transaction', () => {
    expect(parseSkip('3E11FA47-71CA-11E1-9E33-C80AA9429562:23')).toEqual({ gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23' });
    expect(parseSkip(' 0-1-4711 ')).toEqual({ gtid: '0-1-4711' });
  });

  test('file:start-end is a byte range in an archived binlog', () => {
    expect(parseSkip('mysql-bin.000004:1234-5678')).toEqual({ file: 'mysql-bin.000004', startPosition: 1234, endPosition: 5678 });
  });

  test.each([
    ['3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5', /GTID interval: name one GTID per skip/],
    ['mysql-bin.000004:5678-1234', /ends after it starts/],
    ['mysql-bin.000004:0-10', /starts at 4 or later/],
    ['mysql-bin.000004:1234', /is neither a GTID .* nor a binlog byte range file:start-end/],
    ['UPDATE students', /is neither/],
  ])('%s is refused with what to write instead', (text, message) => {
    expect(errorType(() => parseSkip(text))).toBe('BadTarget');
    expect(() => parseSkip(text)).toThrow(message);
  });
});
