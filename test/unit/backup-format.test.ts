import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  BACKUP_HEAD_BYTES,
  type BackupMember,
  detectBackupFormat,
  detectCompression,
  detectDirectoryFormat,
  detectPayload,
  previewBytes,
  tarMembersInHead,
  xbstreamMembersInHead,
} from '../../domain/backups/format';

const dir = join(__dirname, '..', 'fixtures', 'foreign');
const bytes = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));
const text = (name: string): string => readFileSync(join(dir, name), 'utf8');
const dumpBytes = (name: string): Uint8Array => new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'dumps', name)));
const head = (b: Uint8Array): Uint8Array => b.subarray(0, BACKUP_HEAD_BYTES);
/** A backup directory as a caller lists it: every name, with the small metadata files read. */
const listing = (sub: string, dataFiles: string[] = []): BackupMember[] => [
  ...dataFiles.map((path) => ({ path })),
  ...readdirSync(join(dir, sub)).map((path) => ({ path, content: text(join(sub, path)) })),
];

/** CRC-32 (IEEE, reflected), as xbstream stores per payload chunk. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function thrown(fn: () => unknown): { type?: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message: string };
  }
  throw new Error('expected a throw');
}

/**
 * An xbstream as mariabackup --stream writes it: per file, payload chunks ("XBSTCK01", flags,
 * 'P', path length LE32, path, length LE64, offset LE64, CRC32 LE32, payload) then an 'E' chunk.
 */
function xbstream(files: Array<[string, string | Uint8Array]>): Uint8Array {
  const parts: Buffer[] = [];
  for (const [path, content] of files) {
    const p = Buffer.from(path);
    const data = Buffer.from(content);
    const chunk = (type: 'P' | 'E'): Buffer => {
      const h = Buffer.alloc(14 + p.length);
      h.write('XBSTCK01', 0, 'latin1');
      h[8] = 0;
      h[9] = type.charCodeAt(0);
      h.writeUInt32LE(p.length, 10);
      p.copy(h, 14);
      return h;
    };
    const meta = Buffer.alloc(20);
    meta.writeBigUInt64LE(BigInt(data.length), 0);
    meta.writeBigUInt64LE(0n, 8);
    meta.writeUInt32LE(crc32(data), 16);
    parts.push(chunk('P'), meta, data, chunk('E'));
  }
  return new Uint8Array(Buffer.concat(parts));
}

const mariabackupStream = (dataBytes: number): Uint8Array =>
  xbstream([
    ['ibdata1', new Uint8Array(dataBytes)],
    ['shop/orders.ibd', new Uint8Array(16384)],
    ['aria_log_control', new Uint8Array(52)],
    ['xtrabackup_binlog_info', text('mariabackup-10.11/xtrabackup_binlog_info')],
    ['backup-my.cnf', text('mariabackup-10.11/backup-my.cnf')],
    ['xtrabackup_checkpoints', text('mariabackup-10.11/xtrabackup_checkpoints')],
    ['xtrabackup_info', text('mariabackup-10.11/xtrabackup_info')],
  ]);

describe('compression by magic bytes', () => {
  test('gzip, zstd, xz and bzip2 files made by the real tools', () => {
    expect(detectCompression(bytes('mysqldump-8.0-all-databases.sql.gz'))).toBe('gzip');
    expect(detectCompression(bytes('mysqldump-8.0-all-databases.sql.zst'))).toBe('zstd');
    expect(detectCompression(bytes('mariadb-dump-10.11-dump-slave.sql.xz'))).toBe('xz');
    expect(detectCompression(bytes('mysqldump-skip-comments.sql.bz2'))).toBe('bzip2');
  });

  test('a plain file is not compressed, whatever its name', () => {
    expect(detectCompression(bytes('mysqldump-8.0-all-databases.sql'))).toBe('none');
  });

  test('text starting with "BZh" but no block size digit is not bzip2', () => {
    expect(detectCompression(new TextEncoder().encode('BZh, not a block size'))).toBe('none');
  });
});

describe('logical dumps', () => {
  test('mysqldump 8.0 --all-databases: tool, versions, flavor, and the mysql schema makes it all-databases', () => {
    expect(detectPayload({ innerHead: bytes('mysqldump-8.0-all-databases.sql') })).toEqual({
      kind: 'logical-dump',
      container: 'file',
      tool: 'mysqldump',
      toolVersion: '8.0.40',
      serverVersion: '8.0.40-0ubuntu0.22.04.1-log',
      flavor: 'mysql',
      scope: { kind: 'all-databases', seen: ['billing', 'mysql'] },
    });
  });

  test('the empty "Database:" header says --all-databases before the mysql schema is reached', () => {
    const cut = text('mysqldump-8.0-all-databases.sql').split('-- Current Database: `mysql`')[0]!;
    expect(detectPayload({ innerHead: new TextEncoder().encode(cut) }).scope).toEqual({ kind: 'all-databases', seen: ['billing'] });
  });

  test('a dump of one database without CREATE DATABASE is one-database, named by its header', () => {
    expect(detectPayload({ innerHead: bytes('mysqldump-8.0-one-database.sql') }).scope).toEqual({ kind: 'one-database', database: 'shop' });
  });

  test('mariadb-dump 10.11 with --databases: MariaDB flavor past the sandbox-mode line', () => {
    const f = detectPayload({ innerHead: bytes('mariadb-dump-10.11-dump-slave.sql') });
    expect(f).toMatchObject({ tool: 'mariadb-dump', toolVersion: '10.11.6-MariaDB', flavor: 'mariadb', scope: { kind: 'databases', seen: ['shop'] } });
  });

  test('mariadb-dump 11.8 with --databases: the sandbox-mode line, the dashed tool version and a server version with spaces', () => {
    const f = detectPayload({ innerHead: dumpBytes('mariadb-11.8-head.sql') });
    expect(f).toMatchObject({
      kind: 'logical-dump',
      tool: 'mariadb-dump',
      toolVersion: '11.8.9-MariaDB',
      serverVersion: '11.8.9-MariaDB-0+deb13u1 from Debian-log',
      flavor: 'mariadb',
      scope: { kind: 'databases', seen: ['shop'] },
    });
  });

  test('a --skip-comments dump is recognised by its first versioned SET; its scope is undecidable from the head', () => {
    const f = detectPayload({ innerHead: bytes('mysqldump-skip-comments.sql') });
    expect(f).toMatchObject({ kind: 'logical-dump', tool: 'unknown', flavor: 'unknown' });
    expect(f.scope).toMatchObject({ kind: 'unknown', seen: ['billing'] });
  });

  test('a head that ends before the first table leaves the scope unknown', () => {
    const cut = text('mysqldump-8.0-one-database.sql').split('--\n-- Table structure')[0]!;
    expect(detectPayload({ innerHead: new TextEncoder().encode(cut) }).scope).toMatchObject({ kind: 'unknown', reason: 'the head ends before the first table' });
  });

  test('a gzip dump: compression from the file, payload from the decompressed head', () => {
    const gz = bytes('mysqldump-8.0-all-databases.sql.gz');
    const f = detectBackupFormat({ head: head(gz), innerHead: new Uint8Array(gunzipSync(gz)).subarray(0, BACKUP_HEAD_BYTES) });
    expect(f).toMatchObject({ kind: 'logical-dump', compression: 'gzip', container: 'file', flavor: 'mysql' });
  });

  test('the file name plays no part: a dump named .tar.gz is still a plain dump', () => {
    const f = detectBackupFormat({ head: bytes('mysqldump-8.0-one-database.sql'), name: 'nightly.tar.gz' });
    expect(f).toMatchObject({ kind: 'logical-dump', compression: 'none' });
  });
});

describe('mydumper', () => {
  test('a mydumper 0.10 directory: metadata and schema-create files, databases from the listing, flavor from the GTID', () => {
    expect(detectDirectoryFormat(listing('mydumper-0.10'))).toEqual({
      kind: 'mydumper',
      compression: 'none',
      container: 'directory',
      tool: 'mydumper',
      flavor: 'mariadb',
      scope: { kind: 'databases', seen: ['shop'] },
    });
  });

  test('mydumper -c: gzip-compressed members', () => {
    const files = ['metadata', 'shop-schema-create.sql.gz', 'shop.orders-schema.sql.gz', 'shop.orders.sql.gz'].map((path) => ({ path }));
    expect(detectDirectoryFormat(files)).toMatchObject({ kind: 'mydumper', memberCompression: 'gzip' });
  });

  test('a mydumper directory still being written (metadata.partial) is recognised', () => {
    const files = [{ path: 'metadata.partial', content: 'Started dump at: 2026-12-04 02:30:01\n' }, { path: 'shop-schema-create.sql' }];
    expect(detectDirectoryFormat(files).kind).toBe('mydumper');
  });

  test('a mydumper directory in a POSIX tar made by GNU tar', () => {
    expect(detectPayload({ innerHead: bytes('mydumper-0.10.tar') })).toMatchObject({ kind: 'mydumper', container: 'tar' });
  });
});

describe('physical backups', () => {
  test('a mariabackup 10.11 directory, not prepared', () => {
    const f = detectDirectoryFormat(listing('mariabackup-10.11', ['ibdata1', 'ib_logfile0', 'shop/orders.ibd', 'shop/orders.frm']));
    expect(f).toEqual({
      kind: 'mariabackup',
      compression: 'none',
      container: 'directory',
      tool: 'mariabackup',
      toolVersion: '10.11.6-MariaDB',
      serverVersion: '10.11.6-MariaDB-0+deb12u1-log',
      flavor: 'mariadb',
      physical: { backupType: 'full-backuped', prepared: false, incremental: false },
    });
  });

  test('a mariabackup 11.8 directory (mariadb_backup_* files, three undo tablespaces), not prepared', () => {
    const f = detectDirectoryFormat(listing('mariabackup-11.8', ['ibdata1', 'ib_logfile0', 'undo001', 'undo002', 'undo003', 'shop/orders.frm', 'shop/orders.ibd']));
    expect(f).toEqual({
      kind: 'mariabackup',
      compression: 'none',
      container: 'directory',
      tool: 'mariabackup',
      toolVersion: '11.8.9-MariaDB',
      serverVersion: '11.8.9-MariaDB-0+deb13u1 from Debian-log',
      flavor: 'mariadb',
      physical: { backupType: 'full-backuped', prepared: false, incremental: false },
    });
  });

  test('a prepared backup says so (full-prepared)', () => {
    const files = listing('mariabackup-10.11').map((m) =>
      m.path === 'xtrabackup_checkpoints' ? { ...m, content: m.content!.replace('full-backuped', 'full-prepared') } : m,
    );
    expect(detectDirectoryFormat(files).physical).toEqual({ backupType: 'full-prepared', prepared: true, incremental: false });
  });

  test('MariaDB file names (mariadb_backup_*) are mariabackup even without their contents', () => {
    const files = ['ibdata1', 'mariadb_backup_checkpoints', 'mariadb_backup_info', 'mariadb_backup_binlog_info'].map((path) => ({ path }));
    expect(detectDirectoryFormat(files).kind).toBe('mariabackup');
  });

  test('a Percona XtraBackup 8.0 directory: tool_name xtrabackup, MySQL flavor', () => {
    expect(detectDirectoryFormat(listing('xtrabackup-8.0', ['ibdata1', 'mysql.ibd', 'undo_001']))).toMatchObject({
      kind: 'xtrabackup',
      tool: 'xtrabackup',
      toolVersion: '8.0.35-30',
      flavor: 'mysql',
    });
  });

  test('a GNU tar.gz of an XtraBackup directory: members read from the tar headers, under a folder', () => {
    const gz = bytes('xtrabackup-8.0.tar.gz');
    const inner = new Uint8Array(gunzipSync(gz));
    expect(tarMembersInHead(inner).map((m) => m.path)).toContain('2026-12-04/xtrabackup_info');
    expect(detectBackupFormat({ head: gz, innerHead: inner })).toMatchObject({ kind: 'xtrabackup', compression: 'gzip', container: 'tar' });
  });

  test('a whole small mbstream in the head: mariabackup, from the info file inside it', () => {
    const stream = mariabackupStream(4096);
    expect(detectPayload({ innerHead: stream })).toMatchObject({ kind: 'mariabackup', container: 'xbstream', physical: { prepared: false } });
  });

  test('xbstream members and the contents of those that end in the head', () => {
    const members = xbstreamMembersInHead(mariabackupStream(16));
    expect(members.find((m) => m.path === 'xtrabackup_binlog_info')?.content).toBe('mysql-bin.000042\t73421\t0-1-9981\n');
  });

  test('a large mbstream whose head shows only ibdata1 is decided by the member list the caller walked', () => {
    const stream = mariabackupStream(BACKUP_HEAD_BYTES * 2);
    expect(thrown(() => detectPayload({ innerHead: head(stream) })).type).toBe('UnknownBackupFormat');
    const members = [{ path: 'ibdata1' }, { path: 'xtrabackup_info', content: text('mariabackup-10.11/xtrabackup_info') }];
    expect(detectPayload({ innerHead: head(stream), members }).kind).toBe('mariabackup');
  });
});

describe('refusals', () => {
  test('an unknown text file is named by what it starts with, and the supported formats are listed', () => {
    const err = thrown(() => detectPayload({ innerHead: new TextEncoder().encode('id,name\n1,alice\n'), name: 's3://b/p/users.csv' }));
    expect(err.type).toBe('UnknownBackupFormat');
    expect(err.message).toContain('s3://b/p/users.csv');
    expect(err.message).toContain('"id,name\\n1,alice"');
    expect(err.message).toContain('mysqldump / mariadb-dump');
  });

  test('an unknown binary file is shown in hex', () => {
    const err = thrown(() => detectPayload({ innerHead: new Uint8Array([0x00, 0x01, 0xfe, 0xca, 0x10]) }));
    expect(err.message).toContain('bytes 00 01 fe ca 10');
  });

  test('a zip archive is named as such', () => {
    const err = thrown(() => detectPayload({ innerHead: new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]) }));
    expect(err.message).toContain('a zip archive');
  });

  test('a tar of something else lists its members', () => {
    const err = thrown(() => detectPayload({ innerHead: tarOf('photos/cat.jpg') }));
    expect(err.type).toBe('UnknownBackupFormat');
    expect(err.message).toContain('photos/cat.jpg');
  });

  test('a directory that is no backup lists what it holds', () => {
    const err = thrown(() => detectDirectoryFormat([{ path: 'README' }, { path: 'notes.txt' }], '/backups/db1'));
    expect(err.type).toBe('UnknownBackupFormat');
    expect(err.message).toContain('/backups/db1 holds README, notes.txt');
  });

  test('an empty file starts with nothing', () => {
    expect(previewBytes(new Uint8Array(0))).toBe('nothing (0 bytes)');
  });
});

/** A one-member ustar archive, header laid out as POSIX.1-1988 says. */
function tarOf(path: string): Uint8Array {
  const h = Buffer.alloc(1024);
  h.write(path, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('00000000000\0', 124, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  return new Uint8Array(h);
}
