import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { parseManifest } from '../../domain/artifacts/manifest';
import { XbstreamWalker, parseCloneStatusRow, parseMariabackupBinlogPosition, sandboxAdminInitSql } from '../../domain/physical/backups';
import { serverCommand } from '../../domain/flavors';
import { errorType } from './expect-error';

function payloadChunk(file: string, payload: Buffer, offset = 0): Buffer {
  const p = Buffer.from(file);
  const head = Buffer.alloc(14);
  head.write('XBSTCK01', 0, 'latin1');
  head[8] = 0;
  head[9] = 'P'.charCodeAt(0);
  head.writeUInt32LE(p.length, 10);
  const tail = Buffer.alloc(20);
  tail.writeBigUInt64LE(BigInt(payload.length), 0);
  tail.writeBigUInt64LE(BigInt(offset), 8);
  tail.writeUInt32LE(crc32(payload), 16);
  return Buffer.concat([head, p, tail, payload]);
}

function eofChunk(file: string): Buffer {
  const p = Buffer.from(file);
  const head = Buffer.alloc(14);
  head.write('XBSTCK01', 0, 'latin1');
  head[9] = 'E'.charCodeAt(0);
  head.writeUInt32LE(p.length, 10);
  return Buffer.concat([head, p]);
}

const stream = Buffer.concat([
  payloadChunk('ibdata1', Buffer.alloc(3000, 7)),
  payloadChunk('university/students.ibd', Buffer.from('rows')),
  payloadChunk('ibdata1', Buffer.alloc(100, 9), 3000),
  eofChunk('ibdata1'),
  eofChunk('university/students.ibd'),
  payloadChunk('xtrabackup_binlog_info', Buffer.from('mysql-bin.000001\t1273\t0-1-5\n')),
  eofChunk('xtrabackup_binlog_info'),
  eofChunk('mysql/slow_log.CSV'),
]);

function walk(bytes: Buffer, pieces = 1) {
  const w = new XbstreamWalker('backup.mbstream.gz', crc32);
  const size = Math.ceil(bytes.length / pieces);
  for (let at = 0; at < bytes.length; at += size) w.push(bytes.subarray(at, at + size));
  return w.end();
}

describe('mbstream completeness', () => {
  test('a complete stream is walked to its end, whatever the read sizes', () => {
    expect(walk(stream)).toEqual({ files: 4, chunks: 8, payloadBytes: 3000 + 4 + 100 + 28 });
    expect(walk(stream, 97)).toEqual(walk(stream));
  });

  test('an empty file is a lone EOF chunk', () => {
    expect(walk(eofChunk('mysql/general_log.CSV')).files).toBe(1);
  });

  test('a stream cut inside a chunk is truncated', () => {
    expect(errorType(() => walk(stream.subarray(0, stream.length - 5)))).toBe('DumpTruncated');
  });

  test('a stream cut at a chunk boundary before a file ends is truncated', () => {
    const cut = Buffer.concat([payloadChunk('ibdata1', Buffer.alloc(10, 1))]);
    expect(errorType(() => walk(cut))).toBe('DumpTruncated');
  });

  test('a changed payload byte fails its chunk CRC32', () => {
    const flipped = Buffer.from(stream);
    flipped[60] = flipped[60]! ^ 0xff;
    expect(() => walk(flipped)).toThrow(/CRC32/);
  });

  test('bytes that are not a chunk header are refused', () => {
    expect(errorType(() => walk(Buffer.concat([stream, Buffer.from('garbage-garbage')])))).toBe('DumpTruncated');
  });
});

describe('binlog position of a physical backup', () => {
  test("mariabackup's report gives file, position and GTID", () => {
    const stderr = "[00] 2026-11-21 21:38:12 Backup created in directory '/tmp/mb/'\n[00] 2026-11-21 21:38:12 MySQL binlog position: filename 'mysql-bin.000001', position '1273', GTID of the last change '0-1-5'\n[00] completed OK!";
    expect(parseMariabackupBinlogPosition(stderr)).toEqual({ coordinates: { file: 'mysql-bin.000001', position: 1273 }, gtidSet: '0-1-5' });
  });

  test("mariabackup 11.8's report line, as it printed it, gives file, position and a GTID position of two domains", () => {
    const stderr = readFileSync(path.join(__dirname, '..', 'fixtures', 'foreign', 'mariabackup-11.8', 'stderr-binlog-position.txt'), 'utf8');
    expect(parseMariabackupBinlogPosition(stderr)).toEqual({ coordinates: { file: 'mysql-bin.000001', position: 1001 }, gtidSet: '0-1-3,1-1-1' });
  });

  test('a mariabackup run that reported no binlog position is refused', () => {
    expect(errorType(() => parseMariabackupBinlogPosition('[00] completed OK!'))).toBe('ArtifactCorrupt');
  });

  test('a clone_status row gives file, position and the GTID set, line breaks removed', () => {
    expect(parseCloneStatusRow('mysql-bin.000001\t1425\t3012de61-e5dc-11f1-9dff-8c2e43c30cee:1-5,\\n4012de61-e5dc-11f1-9dff-8c2e43c30cee:1-2\n')).toEqual({
      coordinates: { file: 'mysql-bin.000001', position: 1425 },
      gtidSet: '3012de61-e5dc-11f1-9dff-8c2e43c30cee:1-5,4012de61-e5dc-11f1-9dff-8c2e43c30cee:1-2',
    });
  });

  test('a clone_status row without binlog coordinates (a donor after a local clone) is refused', () => {
    expect(errorType(() => parseCloneStatusRow('\t0\t\n'))).toBe('ArtifactCorrupt');
  });
});

describe('physical manifest', () => {
  const base = {
    format: 1, backupId: 'b', source: 's', createdAt: 'x', finishedAt: 'y', file: 'backup.mbstream.gz', bytes: 10, sha256: 'a'.repeat(64), uncompressedBytes: 20,
    databases: ['university'], coordinates: { file: 'mysql-bin.000001', position: 1273 }, server: { flavor: 'mariadb', version: '10.11' }, tool: { name: 'mariabackup' },
  };

  test('a physical manifest names its archive format', () => {
    expect(parseManifest(JSON.stringify({ ...base, kind: 'physical', archive: 'mbstream' }), 'm').kind).toBe('physical');
    expect(errorType(() => parseManifest(JSON.stringify({ ...base, kind: 'physical' }), 'm'))).toBe('ArtifactCorrupt');
  });

  test('a logical manifest written before physical backups existed still parses', () => {
    expect(parseManifest(JSON.stringify({ ...base, kind: 'logical', file: 'dump.sql.gz' }), 'm').kind).toBe('logical');
  });
});

describe('sandbox on a restored datadir', () => {
  test('runs an init file that gives root socket-only access, and keeps the per-container server_uuid reset', () => {
    const script = serverCommand('mysql', 'sandbox', 4242, { initSql: sandboxAdminInitSql('mysql') })[2]!;
    expect(script).toContain('--init-file=/run/mysqld/restore-drill-init.sql');
    // The file the server reads holds exactly the SQL, one statement a line.
    const writeLine = script.split('\n').find((l) => l.startsWith('printf'))!.replace('> /run/mysqld/restore-drill-init.sql', '');
    expect(execFileSync('bash', ['-c', writeLine], { encoding: 'utf8' })).toBe(sandboxAdminInitSql('mysql').join('\n') + '\n');
    expect(script).toContain('rm -f /var/lib/mysql/auto.cnf');
    expect(sandboxAdminInitSql('mariadb').join('\n')).toMatch(/IDENTIFIED VIA unix_socket/);
  });

  test('a sandbox for a logical restore has no init file', () => {
    expect(serverCommand('mariadb', 'sandbox', 4242)[2]).not.toContain('--init-file');
  });
});
