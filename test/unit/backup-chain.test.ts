import { chainExtractScript, chainIncrementScript, checkBackupChain, checkpointsFileText, chooseIncrementBase, parseCheckpoints } from '../../domain/physical/chain';
import type { ChainLink, ChainMember } from '../../domain/physical/chain';

// Checkpoints files as mariabackup 10.11 wrote them for a full backup and two increments.
const FULL = 'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 44878\nlast_lsn = 47183\nrecover_binlog_info = 0\n';
const INC1 = 'backup_type = incremental\nfrom_lsn = 44878\nto_lsn = 51200\nlast_lsn = 51216\nrecover_binlog_info = 0\n';
const INC2 = 'backup_type = incremental\nfrom_lsn = 51200\nto_lsn = 9007199254740993\nlast_lsn = 9007199254741000\nrecover_binlog_info = 0\n';

const recorded: ChainMember[] = [
  { backupId: 'full', fromLsn: '0', toLsn: '44878' },
  { backupId: 'inc1', fromLsn: '44878', toLsn: '51200' },
  { backupId: 'inc2', fromLsn: '51200', toLsn: '9007199254740993' },
];
const links = (...texts: (string | undefined)[]): ChainLink[] => texts.map((t, i) => ({ backupId: recorded[i]!.backupId, ...(t ? { checkpoints: parseCheckpoints(t)! } : {}) }));

function brokenMessage(fn: () => void): { type?: string; message: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected BrokenBackupChain, nothing was thrown');
}

describe('checkpoints files', () => {
  test('a checkpoints file is read with its 64-bit LSNs exact', () => {
    expect(parseCheckpoints(INC2)).toEqual({ backupType: 'incremental', from: '51200', to: '9007199254740993', last: '9007199254741000' });
  });

  test('a file without backup_type or LSNs is unreadable', () => {
    expect(parseCheckpoints('backup_type = full-backuped\n')).toBeUndefined();
    expect(parseCheckpoints('')).toBeUndefined();
    expect(parseCheckpoints(undefined)).toBeUndefined();
  });

  test('the base written for --incremental-basedir has the keys in the order mariabackup scans them, and reads back the same', () => {
    const lsn = parseCheckpoints(INC1)!;
    const text = checkpointsFileText(lsn);
    expect(text.split('\n').map((l) => l.split(' = ')[0])).toEqual(['backup_type', 'from_lsn', 'to_lsn', 'last_lsn', '']);
    expect(parseCheckpoints(text)).toEqual(lsn);
  });
});

describe('the chain check before any prepare', () => {
  test('a full backup and two increments that join up pass', () => {
    expect(() => checkBackupChain('inc2', recorded, links(FULL, INC1, INC2))).not.toThrow();
  });

  test('a missing increment is refused, named, before any prepare', () => {
    const found = links(FULL, INC1, INC2);
    found[1] = { backupId: 'inc1', missing: 'its folder /b/inc1 is gone' };
    const err = brokenMessage(() => checkBackupChain('inc2', recorded, found));
    expect(err.type).toBe('BrokenBackupChain');
    expect(err.message).toContain('increment 1 of 2 inc1 is missing (its folder /b/inc1 is gone)');
    expect(err.details).toMatchObject({ missing: 'inc1', chain: ['full', 'inc1', 'inc2'] });
  });

  test('an increment that starts after the previous one ends (one missing between them) is refused with both LSNs', () => {
    const inc2After = INC2.replace('from_lsn = 51200', 'from_lsn = 60000');
    const err = brokenMessage(() => checkBackupChain('inc2', [recorded[0]!, recorded[1]!, { ...recorded[2]!, fromLsn: '60000' }], links(FULL, INC1, inc2After)));
    expect(err.type).toBe('BrokenBackupChain');
    expect(err.message).toContain('increment 2 of 2 inc2 starts at LSN 60000 but increment 1 of 2 inc1 ends at LSN 51200');
    expect(err.message).toContain('an increment is missing between them');
  });

  test('an increment taken on an earlier backup (out of order) is refused with both LSNs', () => {
    const onFull = INC2.replace('from_lsn = 51200', 'from_lsn = 44878');
    const err = brokenMessage(() => checkBackupChain('inc2', [recorded[0]!, recorded[1]!, { ...recorded[2]!, fromLsn: '44878' }], links(FULL, INC1, onFull)));
    expect(err.message).toContain('increment 2 of 2 inc2 starts at LSN 44878, before increment 1 of 2 inc1 ends (LSN 51200)');
    expect(err.message).toContain('out of order');
  });

  test('members found in another order than recorded are refused as out of order', () => {
    const swapped: ChainLink[] = [links(FULL)[0]!, { backupId: 'inc2', checkpoints: parseCheckpoints(INC2)! }, { backupId: 'inc1', checkpoints: parseCheckpoints(INC1)! }];
    expect(brokenMessage(() => checkBackupChain('inc2', recorded, swapped)).message).toContain('increment 1 of 2 inc1 is recorded at position 2, but inc2 was found there (out of order)');
  });

  test('a member replaced by another backup of the same name is refused: its LSNs are not the recorded ones', () => {
    const other = INC1.replace('to_lsn = 51200', 'to_lsn = 52000');
    expect(brokenMessage(() => checkBackupChain('inc2', recorded, links(FULL, other, INC2))).message).toContain('inc1 covers LSN 44878 to 52000, but the chain recorded 44878 to 51200');
  });

  test('a chain that does not start with an unprepared full backup is refused', () => {
    const prepared = FULL.replace('full-backuped', 'log-applied');
    expect(brokenMessage(() => checkBackupChain('inc2', recorded, links(prepared, INC1, INC2))).message).toContain('the full backup full is not an unprepared full backup (backup_type = log-applied');
    expect(brokenMessage(() => checkBackupChain('inc2', recorded, links(FULL, FULL.replace('from_lsn = 0\nto_lsn = 44878', 'from_lsn = 44878\nto_lsn = 51200'), INC2))).message).toContain(
      'increment 1 of 2 inc1 is not an increment (backup_type = full-backuped)',
    );
  });

  test('a member without a readable checkpoints file is refused', () => {
    expect(brokenMessage(() => checkBackupChain('inc2', recorded, links(FULL, undefined, INC2))).message).toContain('increment 1 of 2 inc1 has no readable checkpoints file');
  });
});

describe('which backup the next increment is taken on', () => {
  const lsn = (from: string, to: string) => ({ backupType: from === '0' ? 'full-backuped' : 'incremental', from, to });

  test('no physical backup yet: a full one starts the chain', () => {
    expect(chooseIncrementBase([], 6)).toMatchObject({ take: 'full', reason: expect.stringContaining('no physical backup') });
  });

  test('the newest backup is the base, and the increment extends its chain', () => {
    const decision = chooseIncrementBase(
      [
        { backupId: 'full', createdAt: '2026-12-01T02:00:00Z', lsn: lsn('0', '100') },
        { backupId: 'inc1', createdAt: '2026-12-02T02:00:00Z', lsn: lsn('100', '200'), chain: recorded.slice(0, 2) },
      ],
      6,
    );
    expect(decision).toMatchObject({ take: 'incremental', base: { backupId: 'inc1' }, members: recorded.slice(0, 2) });
  });

  test('a full backup as the base makes a chain of itself', () => {
    expect(chooseIncrementBase([{ backupId: 'full', createdAt: '2026-12-01T02:00:00Z', lsn: lsn('0', '100') }], 6)).toMatchObject({ take: 'incremental', members: [{ backupId: 'full', fromLsn: '0', toLsn: '100' }] });
  });

  test('a full backup when the chain is long enough, the newest records no LSNs, or its chain lost a member', () => {
    const inc2 = { backupId: 'inc2', createdAt: '2026-12-03T02:00:00Z', lsn: lsn('200', '300'), chain: recorded };
    expect(chooseIncrementBase([inc2], 2)).toMatchObject({ take: 'full', reason: expect.stringContaining('has 2 increments (maxIncrements 2)') });
    expect(chooseIncrementBase([inc2], 3)).toMatchObject({ take: 'incremental' });
    expect(chooseIncrementBase([{ backupId: 'old', createdAt: '2026-12-04T02:00:00Z' }, inc2], 6)).toMatchObject({ take: 'full', reason: expect.stringContaining('old records no LSNs') });
    expect(chooseIncrementBase([{ ...inc2, missingMembers: ['inc1'] }], 6)).toMatchObject({ take: 'full', reason: expect.stringContaining('inc1 gone') });
  });
});

describe('the prepare stages', () => {
  test('the first stage extracts every stream into the drill folder and prepares the full; each increment is its own stage, in order', () => {
    const first = chainExtractScript({ artifacts: ['/backups/full/backup.mbstream.gz', '/backups/inc1/backup.mbstream.gz', '/backups/inc2/backup.mbstream.gz'], target: '/restore', increments: '/increments', useMemoryMb: 512 });
    expect(first.split('\n')).toEqual([
      'set -eu -o pipefail',
      "gunzip -c '/backups/full/backup.mbstream.gz' | mbstream -x -C '/restore'",
      "mkdir -p '/increments/1'",
      "gunzip -c '/backups/inc1/backup.mbstream.gz' | mbstream -x -C '/increments/1'",
      "mkdir -p '/increments/2'",
      "gunzip -c '/backups/inc2/backup.mbstream.gz' | mbstream -x -C '/increments/2'",
      "mariabackup --prepare --use-memory=512M --target-dir='/restore'",
    ]);
    expect(chainIncrementScript({ n: 2, target: '/restore', increments: '/increments', useMemoryMb: 512 })).toContain("--prepare --use-memory=512M --target-dir='/restore' --incremental-dir='/increments/2'");
  });
});
