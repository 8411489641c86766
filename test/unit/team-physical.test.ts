/** A team's mariabackup backup: archives walked at the door, its datadir found, the restore script, its manifest. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import { parseManifest } from '../../domain/artifacts/manifest';
import { detectBackupFormat } from '../../domain/backups/format';
import { XbstreamWalker } from '../../domain/physical/backups';
import { TarWalker } from '../../domain/physical/tar-walker';
import { archiveWalk, datadirLayout, inspectDatadir, isBackupMetadata, stripComponents, teamPhysicalFields, teamPhysicalRestoreScript } from '../../domain/physical/team-backup';

const fixtures = join(__dirname, '..', 'fixtures', 'foreign');
const xtrabackupTar = (): Buffer => gunzipSync(readFileSync(join(fixtures, 'xtrabackup-8.0.tar.gz')));
const mariabackupFile = (name: string): string => readFileSync(join(fixtures, 'mariabackup-10.11', name), 'utf8');

function errorOf(fn: () => unknown): { type?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message: string };
  }
  throw new Error('expected a throw');
}

/** Pushes `bytes` in uneven pieces, as a decompressor hands them out. */
function walk(w: { push(c: Buffer): void }, bytes: Buffer, piece = 777): void {
  for (let at = 0; at < bytes.length; at += piece) w.push(bytes.subarray(at, at + piece));
}

/** An xbstream as mariabackup --stream writes it (layout in domain/physical/backups.ts). */
function xbstream(files: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of files) {
    const p = Buffer.from(path);
    const data = Buffer.from(content);
    const header = (type: string): Buffer => {
      const h = Buffer.alloc(14 + p.length);
      h.write('XBSTCK01', 0, 'latin1');
      h[9] = type.charCodeAt(0);
      h.writeUInt32LE(p.length, 10);
      p.copy(h, 14);
      return h;
    };
    const meta = Buffer.alloc(20);
    meta.writeBigUInt64LE(BigInt(data.length), 0);
    meta.writeUInt32LE(crc32(data), 16);
    parts.push(header('P'), meta, data, header('E'));
  }
  return Buffer.concat(parts);
}

describe('TarWalker', () => {
  test('lists every member of a GNU tar and keeps the metadata files it is asked for', () => {
    const w = new TarWalker('x.tar', isBackupMetadata);
    walk(w, xtrabackupTar());
    const members = w.end();
    expect(members.map((m) => m.path)).toContain('2026-12-04/shop/orders.ibd');
    expect(members.find((m) => m.path === '2026-12-04/xtrabackup_checkpoints')?.content).toMatch(/backup_type = full-backuped/);
    expect(members.find((m) => m.path === '2026-12-04/ibdata1')?.content).toBeUndefined();
  });

  test('a tar cut short is DumpTruncated', () => {
    const tar = xtrabackupTar();
    const w = new TarWalker('x.tar');
    walk(w, tar.subarray(0, 2600));
    expect(errorOf(() => w.end())).toMatchObject({ type: 'DumpTruncated', message: expect.stringContaining('x.tar') });
  });

  test('a changed header byte (two writers interleaved) is ArtifactCorrupt', () => {
    const tar = Buffer.from(xtrabackupTar());
    tar[3] = tar[3]! ^ 0x20;
    expect(errorOf(() => walk(new TarWalker('x.tar'), tar)).type).toBe('ArtifactCorrupt');
  });
});

describe('XbstreamWalker members', () => {
  const stream = xbstream([
    ['ibdata1', 'x'.repeat(5000)],
    ['university/students.ibd', 'y'.repeat(100)],
    ['mariadb_backup_binlog_info', 'mysql-bin.000003\t1234\t0-1-42\n'],
    ['mariadb_backup_checkpoints', 'backup_type = full-backuped\nfrom_lsn = 0\n'],
  ]);

  test('every file, with the contents of the metadata files, across chunk boundaries', () => {
    const w = new XbstreamWalker('x.xb', crc32, isBackupMetadata);
    walk(w, stream, 13);
    w.end();
    expect(w.members()).toEqual([
      { path: 'ibdata1' },
      { path: 'university/students.ibd' },
      { path: 'mariadb_backup_binlog_info', content: 'mysql-bin.000003\t1234\t0-1-42\n' },
      { path: 'mariadb_backup_checkpoints', content: 'backup_type = full-backuped\nfrom_lsn = 0\n' },
    ]);
  });

  test('a stream without its checkpoints file fails the door checks as DumpTruncated', () => {
    const cut = xbstream([['ibdata1', 'x'], ['aria_log_control', 'a'], ['mariadb_backup_binlog_info', 'mysql-bin.000003\t1234\n']]);
    const w = archiveWalk('xbstream', 'x.xb', crc32);
    w.push(cut);
    const members = w.end();
    const format = detectBackupFormat({ head: cut, members });
    expect(errorOf(() => inspectDatadir('x.xb', format, members))).toMatchObject({ type: 'DumpTruncated', message: expect.stringMatching(/checkpoints/) });
  });

  test('a whole mariabackup stream: its binlog position, its databases, not prepared', () => {
    const w = archiveWalk('xbstream', 'x.xb', crc32);
    w.push(stream);
    const members = w.end();
    const format = detectBackupFormat({ head: stream, members });
    expect(format).toMatchObject({ kind: 'mariabackup', container: 'xbstream', physical: { prepared: false } });
    const found = inspectDatadir('x.xb', format, members);
    expect(found.physical).toEqual({ root: '', databases: ['university'], prepared: false });
    expect(found.coordinates).toMatchObject({ found: true, point: { coordinates: { file: 'mysql-bin.000003', position: 1234 }, gtidSet: '0-1-42' } });
    expect(teamPhysicalFields(format, found.physical)).toEqual({ archive: 'mbstream', prepared: false });
  });
});

describe('datadir layout', () => {
  test('a tar of `./bk`: the datadir is under ./bk, two components stripped (GNU tar counts the dot)', () => {
    const layout = datadirLayout([
      { path: './bk/ibdata1' },
      { path: './bk/mysql/user.frm' },
      { path: './bk/shop/orders.ibd' },
      { path: './bk/my@002ddb/t.frm' },
      { path: './bk/xtrabackup_checkpoints', content: mariabackupFile('xtrabackup_checkpoints') },
    ]);
    expect(layout).toMatchObject({ root: './bk', databases: ['my-db', 'shop'] });
    expect(stripComponents(layout.root)).toBe(2);
    expect(stripComponents('')).toBe(0);
  });
});

describe('restore script', () => {
  test('an xbstream is extracted from the FIFO with mbstream, then prepared', () => {
    const script = teamPhysicalRestoreScript({ archive: 'mbstream', input: '/in/stream', target: '/restore', root: '', prepared: false, useMemoryMb: 512 });
    expect(script.split('\n')).toEqual(['set -eu -o pipefail', "mbstream -x -C '/restore' < '/in/stream'", "mariabackup --prepare --use-memory=512M --target-dir='/restore'"]);
  });

  test('a tar of a prepared directory is extracted without its folder, and --prepare is skipped', () => {
    const script = teamPhysicalRestoreScript({ archive: 'tar', input: '/in/stream', target: '/restore', root: 'bk', prepared: true, useMemoryMb: 512 });
    expect(script).toContain("tar -xf - -C '/restore' --no-same-owner --strip-components=1 < '/in/stream'");
    expect(script).not.toContain('mariabackup --prepare');
  });
  test('a directory, copied by the worker, is only prepared', () => {
    expect(teamPhysicalRestoreScript({ archive: 'directory', input: '', target: '/restore', root: '', prepared: false, useMemoryMb: 256 }).split('\n')).toEqual([
      'set -eu -o pipefail',
      "mariabackup --prepare --use-memory=256M --target-dir='/restore'",
    ]);
  });
});

describe("a team's physical manifest", () => {
  const base = {
    format: 1, kind: 'physical', backupId: 'team-b', source: 's', createdAt: 'x', finishedAt: 'y', file: 'bk.tar.gz', bytes: 10, sha256: 'a'.repeat(64), uncompressedBytes: 20,
    databases: ['university'], server: { flavor: 'mariadb', version: '10.11' }, tool: { name: 'mariabackup' },
    origin: { location: '/backups', key: 'bk.tar.gz', where: '/backups/bk.tar.gz', observed: { size: 10 } },
  };

  test('names its archive, compression, prepared state and datadir folder', () => {
    const m = parseManifest(JSON.stringify({ ...base, archive: 'tar', compression: 'gzip', prepared: true, archiveRoot: 'bk', coordinates: { file: 'mysql-bin.000003', position: 1234 } }), 'm');
    expect(m).toMatchObject({ archive: 'tar', compression: 'gzip', prepared: true, archiveRoot: 'bk' });
  });

  test('without coordinates it says why', () => {
    expect(parseManifest(JSON.stringify({ ...base, archive: 'mbstream', withoutCoordinates: 'no binlog' }), 'm').withoutCoordinates).toBe('no binlog');
    expect(errorOf(() => parseManifest(JSON.stringify({ ...base, archive: 'mbstream' }), 'm')).type).toBe('ArtifactCorrupt');
  });
});
