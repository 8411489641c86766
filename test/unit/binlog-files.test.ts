import {
  binlogIndex,
  binlogName,
  compareBinlogNames,
  compareCoordinates,
  filesForReplay,
  findSequenceGaps,
  sortBinlogNames,
} from '../../domain/binlog/files';
import { caught } from './binlog-fixtures';

const names = (from: number, to: number, base = 'mysql-bin'): string[] => {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(binlogName(base, i));
  return out;
};

describe('binlog file names', () => {
  test('the index is the numeric suffix', () => {
    expect(binlogIndex('mysql-bin.000042')).toBe(42);
    expect(binlogIndex('host-1-bin.1000000')).toBe(1000000);
  });

  test('a name without a numeric suffix is BadConfig', () => {
    expect(caught(() => binlogIndex('mysql-bin.index')).type).toBe('BadConfig');
    expect(caught(() => binlogIndex('.000001')).type).toBe('BadConfig');
  });

  test('names compare by number, not as text, past 999999', () => {
    expect(compareBinlogNames('mysql-bin.999999', 'mysql-bin.1000000')).toBeLessThan(0);
    expect(sortBinlogNames(['mysql-bin.1000000', 'mysql-bin.000010', 'mysql-bin.999999', 'mysql-bin.000009'])).toEqual([
      'mysql-bin.000009',
      'mysql-bin.000010',
      'mysql-bin.999999',
      'mysql-bin.1000000',
    ]);
  });

  test('sorting groups names by base', () => {
    expect(sortBinlogNames(['b.000001', 'a.000002', 'a.000001'])).toEqual(['a.000001', 'a.000002', 'b.000001']);
  });

  test('sortBinlogNames leaves its input alone', () => {
    const input = ['mysql-bin.000002', 'mysql-bin.000001'];
    sortBinlogNames(input);
    expect(input).toEqual(['mysql-bin.000002', 'mysql-bin.000001']);
  });

  test('coordinates compare by file, then position', () => {
    expect(compareCoordinates({ file: 'mysql-bin.000002', position: 4 }, { file: 'mysql-bin.000001', position: 9999 })).toBeGreaterThan(0);
    expect(compareCoordinates({ file: 'mysql-bin.000002', position: 4 }, { file: 'mysql-bin.000002', position: 120 })).toBeLessThan(0);
    expect(compareCoordinates({ file: 'mysql-bin.000002', position: 120 }, { file: 'mysql-bin.000002', position: 120 })).toBe(0);
  });
});

describe('findSequenceGaps', () => {
  test('names a single missing file between its neighbours', () => {
    expect(findSequenceGaps(['mysql-bin.000042', 'mysql-bin.000044'])).toEqual([
      { after: 'mysql-bin.000042', before: 'mysql-bin.000044', missing: ['mysql-bin.000043'] },
    ]);
  });

  test('lists every missing file of a longer gap, in any input order', () => {
    expect(findSequenceGaps(['mysql-bin.000010', 'mysql-bin.000001', 'mysql-bin.000002', 'mysql-bin.000006'])).toEqual([
      { after: 'mysql-bin.000002', before: 'mysql-bin.000006', missing: ['mysql-bin.000003', 'mysql-bin.000004', 'mysql-bin.000005'] },
      { after: 'mysql-bin.000006', before: 'mysql-bin.000010', missing: ['mysql-bin.000007', 'mysql-bin.000008', 'mysql-bin.000009'] },
    ]);
  });

  test('a contiguous sequence, with duplicates, has no gap', () => {
    expect(findSequenceGaps([...names(1, 5), 'mysql-bin.000003'])).toEqual([]);
  });

  test('files of different bases never form a gap', () => {
    expect(findSequenceGaps(['a.000001', 'b.000005'])).toEqual([]);
  });

  test('missing names across the 999999 boundary get the right width', () => {
    expect(findSequenceGaps(['mysql-bin.999998', 'mysql-bin.1000001'])[0]!.missing).toEqual(['mysql-bin.999999', 'mysql-bin.1000000']);
  });
});

describe('filesForReplay', () => {
  const archive = names(40, 45);

  test('returns the files from the backup start to the target, in order', () => {
    expect(filesForReplay(archive, { file: 'mysql-bin.000041', position: 1234 }, { file: 'mysql-bin.000043', position: 4 })).toEqual([
      'mysql-bin.000041',
      'mysql-bin.000042',
      'mysql-bin.000043',
    ]);
  });

  test('without a target, replays through the newest archived file', () => {
    expect(filesForReplay(archive, { file: 'mysql-bin.000044', position: 4 })).toEqual(['mysql-bin.000044', 'mysql-bin.000045']);
  });

  test('a target in the start file needs only that file', () => {
    expect(filesForReplay(archive, { file: 'mysql-bin.000042', position: 100 }, { file: 'mysql-bin.000042', position: 900 })).toEqual(['mysql-bin.000042']);
  });

  test('ignores archived files of another base and unsorted input', () => {
    expect(filesForReplay(['relay.000041', 'mysql-bin.000042', 'mysql-bin.000041'], { file: 'mysql-bin.000041', position: 4 })).toEqual([
      'mysql-bin.000041',
      'mysql-bin.000042',
    ]);
  });

  test('a hole in the needed range is a BinlogGap naming the missing file and the range', () => {
    const e = caught(() => filesForReplay(['mysql-bin.000042', 'mysql-bin.000044'], { file: 'mysql-bin.000042', position: 1234 }, { file: 'mysql-bin.000044', position: 567 }));
    expect(e.type).toBe('BinlogGap');
    expect(e.message).toContain('missing mysql-bin.000043');
    expect(e.message).toContain('from mysql-bin.000042:1234 to mysql-bin.000044:567');
    expect(e.details).toMatchObject({ missing: ['mysql-bin.000043'] });
  });

  test('a hole outside the needed range does not matter', () => {
    expect(filesForReplay(['mysql-bin.000040', 'mysql-bin.000042', 'mysql-bin.000043'], { file: 'mysql-bin.000042', position: 4 })).toEqual([
      'mysql-bin.000042',
      'mysql-bin.000043',
    ]);
  });

  test('a backup that starts before the oldest archived file is a BinlogGap', () => {
    const e = caught(() => filesForReplay(archive, { file: 'mysql-bin.000038', position: 4 }));
    expect(e.type).toBe('BinlogGap');
    expect(e.message).toContain('the archive starts at mysql-bin.000040');
    expect(e.message).toContain('missing mysql-bin.000038, mysql-bin.000039');
  });

  test('a target after the newest archived file is a BinlogGap', () => {
    const e = caught(() => filesForReplay(archive, { file: 'mysql-bin.000044', position: 4 }, { file: 'mysql-bin.000047', position: 4 }));
    expect(e.type).toBe('BinlogGap');
    expect(e.message).toContain('missing mysql-bin.000046, mysql-bin.000047');
  });

  test('a long run of missing files is summarised in the message', () => {
    const e = caught(() => filesForReplay(['mysql-bin.000001', 'mysql-bin.000100'], { file: 'mysql-bin.000001', position: 4 }));
    expect(e.message).toContain('mysql-bin.000002, mysql-bin.000003, mysql-bin.000004, … mysql-bin.000099 (98 files)');
    expect(e.details).toMatchObject({ missingCount: 98 });
  });

  test('an empty archive is a BinlogGap', () => {
    expect(caught(() => filesForReplay([], { file: 'mysql-bin.000001', position: 4 })).type).toBe('BinlogGap');
  });

  test('a target before the start is BadTarget', () => {
    const e = caught(() => filesForReplay(archive, { file: 'mysql-bin.000042', position: 900 }, { file: 'mysql-bin.000042', position: 100 }));
    expect(e.type).toBe('BadTarget');
    expect(e.message).toContain('mysql-bin.000042:100');
    expect(e.message).toContain('mysql-bin.000042:900');
  });

  test('a target in another binlog series is BadTarget', () => {
    expect(caught(() => filesForReplay(archive, { file: 'mysql-bin.000042', position: 4 }, { file: 'other.000043', position: 4 })).type).toBe('BadTarget');
  });
});
