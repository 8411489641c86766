import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DUMP_HEAD_BYTES,
  DUMP_TAIL_BYTES,
  USER_DATABASES_SQL,
  checkDumpTrailer,
  incompleteDumpError,
  keepDumpTail,
  mysqldumpArgs,
  optionFileContents,
  parseDump,
  parseDumpHead,
  parseDumpTail,
  quoteOptionValue,
} from '../../domain/dump/format';

const fixture = (name: string): string => readFileSync(join(__dirname, '..', 'fixtures', 'dumps', name), 'utf8');

function thrown(fn: () => unknown): { type?: string; message?: string } | undefined {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message?: string };
  }
  return undefined;
}

describe('head and tail sizes', () => {
  test('keep 64 KiB of head and 16 KiB of tail', () => {
    expect(DUMP_HEAD_BYTES).toBe(65536);
    expect(DUMP_TAIL_BYTES).toBe(16384);
  });

  test('the real excerpts fit in them', () => {
    expect(Buffer.byteLength(fixture('mysql-9.7-head.sql'))).toBeLessThan(DUMP_HEAD_BYTES);
    expect(Buffer.byteLength(fixture('mariadb-10.11-tail.sql'))).toBeLessThan(DUMP_TAIL_BYTES);
  });
});

describe('parsing real dumps', () => {
  test('reads a mysqldump 9.7 head: versions, source coordinates, two-line GTID_PURGED', () => {
    expect(parseDumpHead(fixture('mysql-9.7-head.sql'), 'mysql')).toEqual({
      toolVersion: '9.7.4',
      serverVersion: '9.7.4-2',
      coordinates: { file: 'binlog.000001', position: 5938 },
      gtidSet: '75279929-e5da-11f1-974f-3cedefe7b7e0:1-18,aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:1-5:8-9',
    });
  });

  test('reads a mariadb-dump 10.11 head: versions and coordinates, past the sandbox-mode line', () => {
    expect(parseDumpHead(fixture('mariadb-10.11-head.sql'), 'mariadb')).toEqual({
      toolVersion: '10.11.18-MariaDB',
      serverVersion: '10.11.18-MariaDB-0+deb12u1-log',
      coordinates: { file: 'mysql-bin.000001', position: 5530 },
    });
  });

  test('reads the GTID position mariadb-dump 10.11 defers to the tail', () => {
    expect(parseDumpTail(fixture('mariadb-10.11-tail.sql'), 'mariadb')).toEqual({ gtidSet: '1-1-1,0-1-18' });
  });

  test('reads a mariadb-dump 11.8 head: the dashed tool version and the whole server version, spaces included', () => {
    expect(parseDumpHead(fixture('mariadb-11.8-head.sql'), 'mariadb')).toEqual({
      toolVersion: '11.8.9-MariaDB',
      serverVersion: '11.8.9-MariaDB-0+deb13u1 from Debian-log',
      coordinates: { file: 'mysql-bin.000001', position: 3002 },
    });
  });

  test('reads the GTID position mariadb-dump 11.8 defers to the tail, whose trailer pads the hour with a space', () => {
    const tail = fixture('mariadb-11.8-tail.sql');
    expect(parseDumpTail(tail, 'mariadb')).toEqual({ gtidSet: '1-1-4,0-1-9' });
    expect(tail).toContain('-- Dump completed on 2026-12-05  7:50:10');
    expect(() => checkDumpTrailer(tail)).not.toThrow();
    expect(thrown(() => checkDumpTrailer(tail.slice(0, tail.indexOf('-- Dump completed'))))?.type).toBe('DumpTruncated');
  });

  test('finds no GTID in a MySQL tail', () => {
    expect(parseDumpTail(fixture('mysql-9.7-tail.sql'), 'mysql')).toEqual({});
  });

  test('parseDump combines head and tail for MariaDB', () => {
    expect(parseDump(fixture('mariadb-10.11-head.sql'), fixture('mariadb-10.11-tail.sql'), 'mariadb')).toEqual({
      toolVersion: '10.11.18-MariaDB',
      serverVersion: '10.11.18-MariaDB-0+deb12u1-log',
      coordinates: { file: 'mysql-bin.000001', position: 5530 },
      gtidSet: '1-1-1,0-1-18',
    });
  });

  test('parseDump prefers a GTID printed in the head', () => {
    const head = "-- SET GLOBAL gtid_slave_pos='0-1-5';\n";
    const tail = "-- SET GLOBAL gtid_slave_pos='0-1-9';\n-- Dump completed\n";
    expect(parseDump(head, tail, 'mariadb').gtidSet).toBe('0-1-5');
  });
});

describe('parseDumpHead on printed forms', () => {
  test('reads an uncommented CHANGE MASTER (--master-data=1)', () => {
    const head = "CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234;\n";
    expect(parseDumpHead(head, 'mariadb').coordinates).toEqual({ file: 'mysql-bin.000003', position: 1234 });
  });

  test('reads a commented CHANGE REPLICATION SOURCE', () => {
    const head = "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;\n";
    expect(parseDumpHead(head, 'mysql').coordinates).toEqual({ file: 'binlog.000002', position: 157 });
  });

  test('reads a MariaDB CHANGE MASTER naming the default connection', () => {
    const head = "-- CHANGE MASTER '' TO MASTER_LOG_FILE='master-bin.000001', MASTER_LOG_POS=329;\n";
    expect(parseDumpHead(head, 'mariadb').coordinates).toEqual({ file: 'master-bin.000001', position: 329 });
  });

  test('joins a multi-line MySQL GTID_PURGED set', () => {
    const head =
      "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n" +
      "4c2a8f0e-71ca-11e1-9e33-c80aa9429562:1-3';\n";
    expect(parseDumpHead(head, 'mysql').gtidSet).toBe(
      '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4c2a8f0e-71ca-11e1-9e33-c80aa9429562:1-3',
    );
  });

  test('reads the MySQL 5.7 and COMMENTED GTID_PURGED forms', () => {
    expect(parseDumpHead("SET @@GLOBAL.GTID_PURGED='aaa:1-2';\n", 'mysql').gtidSet).toBe('aaa:1-2');
    // COMMENTED, as mysqldump 9.7 prints it: the '+' inside the quotes is not part of the set.
    const commented =
      "/* SET @@GLOBAL.GTID_PURGED='+75279929-e5da-11f1-974f-3cedefe7b7e0:1-21,\n" +
      "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:1-5:8-9';*/\n";
    expect(parseDumpHead(commented, 'mysql').gtidSet).toBe(
      '75279929-e5da-11f1-974f-3cedefe7b7e0:1-21,aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa:1-5:8-9',
    );
  });

  test('reads the gtid_slave_pos comment older mariadb-dump printed in the head', () => {
    const head = "-- GTID to start replication from\n--\n\n-- SET GLOBAL gtid_slave_pos='0-1-5,1-2-7';\n";
    expect(parseDumpHead(head, 'mariadb').gtidSet).toBe('0-1-5,1-2-7');
  });

  test('reads the GTID of the flavor asked for only', () => {
    const head = "-- SET GLOBAL gtid_slave_pos='0-1-5';\n";
    expect(parseDumpHead(head, 'mysql').gtidSet).toBeUndefined();
  });

  test('leaves an empty GTID set out', () => {
    expect(parseDumpHead("-- SET GLOBAL gtid_slave_pos='';\n", 'mariadb').gtidSet).toBeUndefined();
  });

  test('reads the MariaDB 11 tool line without "Distrib"', () => {
    const head = '-- MariaDB dump 10.19-11.4.5-MariaDB, for debian-linux-gnu (x86_64)\n--\n-- Server version\t11.4.5-MariaDB-ubu2404\n';
    expect(parseDumpHead(head, 'mariadb')).toEqual({ toolVersion: '11.4.5-MariaDB', serverVersion: '11.4.5-MariaDB-ubu2404' });
  });

  test('ignores look-alike text after the preamble', () => {
    const head =
      '-- MySQL dump 10.13  Distrib 9.7.4, for Linux (x86_64)\n' +
      '--\n-- Current Database: `ops`\n--\n\n' +
      "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='evil.000001', SOURCE_LOG_POS=4;\n";
    expect(parseDumpHead(head, 'mysql')).toEqual({ toolVersion: '9.7.4' });
  });

  test('returns nothing for a dump without comments', () => {
    expect(parseDumpHead('/*!40101 SET NAMES utf8mb4 */;\n', 'mysql')).toEqual({});
  });

  test('accepts CRLF line ends', () => {
    const head = "-- Server version\t9.7.4\r\n-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;\r\n";
    expect(parseDumpHead(head, 'mysql')).toEqual({ serverVersion: '9.7.4', coordinates: { file: 'binlog.000002', position: 157 } });
  });
});

describe('checkDumpTrailer', () => {
  test('accepts real MySQL and MariaDB tails', () => {
    expect(() => checkDumpTrailer(fixture('mysql-9.7-tail.sql'))).not.toThrow();
    expect(() => checkDumpTrailer(fixture('mariadb-10.11-tail.sql'))).not.toThrow();
  });

  test('throws DumpTruncated for the tail of a real mysqldump killed mid-table', () => {
    expect(thrown(() => checkDumpTrailer(fixture('mysql-9.7-killed-tail.sql')))?.type).toBe('DumpTruncated');
  });

  test('accepts the dated and the --skip-dump-date forms, with trailing blank lines', () => {
    expect(() => checkDumpTrailer('...\n-- Dump completed on 2026-11-21 18:30:05\n')).not.toThrow();
    expect(() => checkDumpTrailer('...\n-- Dump completed\n\n')).not.toThrow();
    expect(() => checkDumpTrailer('...\r\n-- Dump completed on 2026-11-21  8:30:05\r\n')).not.toThrow();
  });

  test('throws DumpTruncated for a dump cut in the middle of its data', () => {
    const err = thrown(() => checkDumpTrailer("INSERT INTO `log` VALUES (6259041,'a'),(6259042,'"));
    expect(err?.type).toBe('DumpTruncated');
    expect(err?.message).toContain('stopped before writing every table');
    expect(err?.message).toContain('take a new backup');
  });

  test('throws DumpTruncated when the trailer is not the last line', () => {
    expect(thrown(() => checkDumpTrailer('-- Dump completed on 2026-11-21 18:30:05\nINSERT INTO t VALUES (1);\n'))?.type).toBe(
      'DumpTruncated',
    );
  });

  test('throws DumpTruncated for an empty tail', () => {
    expect(thrown(() => checkDumpTrailer(''))?.type).toBe('DumpTruncated');
  });

  test('throws DumpTruncated for a real tail with its last line removed', () => {
    const cut = fixture('mysql-9.7-tail.sql').trimEnd().split('\n').slice(0, -1).join('\n');
    expect(thrown(() => checkDumpTrailer(cut))?.type).toBe('DumpTruncated');
  });
});

describe('keepDumpTail', () => {
  const feed = (text: string, sizes: number[], max: number): string => {
    let kept: Buffer = Buffer.alloc(0);
    let at = 0;
    for (const size of sizes) {
      kept = keepDumpTail(kept, Buffer.from(text.slice(at, at + size)), max);
      at += size;
    }
    return kept.toString();
  };

  test('keeps everything while the stream is shorter than the tail', () => {
    expect(feed('abcdef', [2, 3, 1], 10)).toBe('abcdef');
  });

  test('keeps the last bytes across small chunks, one large chunk, and a chunk of exactly the tail size', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz';
    expect(feed(text, [3, 4, 5, 6, 8], 10)).toBe('qrstuvwxyz');
    expect(feed(text, [2, 24], 10)).toBe('qrstuvwxyz');
    expect(feed(text, [16, 10], 10)).toBe('qrstuvwxyz');
  });

  test('copies what it keeps of a large chunk instead of slicing it', () => {
    const big = Buffer.alloc(1024 * 1024, 'x');
    expect(keepDumpTail(Buffer.alloc(0), big, 16).buffer.byteLength).toBeLessThan(big.length);
  });

  test('defaults to DUMP_TAIL_BYTES', () => {
    expect(keepDumpTail(Buffer.alloc(10), Buffer.alloc(DUMP_TAIL_BYTES)).length).toBe(DUMP_TAIL_BYTES);
  });
});

describe('incompleteDumpError', () => {
  test('is undefined for complete MySQL and MariaDB tails', () => {
    expect(incompleteDumpError('/b/dump.sql.gz', fixture('mysql-9.7-tail.sql'))).toBeUndefined();
    expect(incompleteDumpError('/b/dump.sql.gz', fixture('mariadb-10.11-tail.sql'))).toBeUndefined();
  });

  test('is a DumpTruncated naming the file, the missing trailer and a new backup for a dump cut mid-INSERT', () => {
    const err = incompleteDumpError('/b/dump.sql.gz', fixture('mysql-9.7-killed-tail.sql'));
    expect(err?.type).toBe('DumpTruncated');
    expect(err?.retryable).toBe(false);
    expect(err?.message).toContain('/b/dump.sql.gz is incomplete');
    expect(err?.message).toContain('-- Dump completed');
    expect(err?.message).toContain('the backup must be taken again');
    expect(err?.details).toMatchObject({ dumpFile: '/b/dump.sql.gz', lastLine: expect.stringContaining("'),(69546,'") });
    expect((err?.cause as { type?: string }).type).toBe('DumpTruncated');
  });
});

describe('mysqldumpArgs', () => {
  const base = { optionFile: '/run/rd/client.cnf', databases: ['shop', 'hr'] };

  test('builds the MySQL argument list', () => {
    expect(mysqldumpArgs({ ...base, flavor: 'mysql', socket: '/sock/mysqld.sock', gtid: true })).toEqual([
      '--defaults-extra-file=/run/rd/client.cnf',
      '--protocol=SOCKET',
      '--socket=/sock/mysqld.sock',
      '--single-transaction',
      '--quick',
      '--source-data=2',
      '--set-gtid-purged=ON',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      '--no-tablespaces',
      '--max-allowed-packet=1G',
      '--databases',
      'shop',
      'hr',
    ]);
  });

  test('builds the MariaDB argument list with --gtid', () => {
    expect(mysqldumpArgs({ ...base, flavor: 'mariadb', host: 'db1', port: 3307, gtid: true })).toEqual([
      '--defaults-extra-file=/run/rd/client.cnf',
      '--protocol=TCP',
      '--host=db1',
      '--port=3307',
      '--single-transaction',
      '--quick',
      '--master-data=2',
      '--gtid',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      '--no-tablespaces',
      '--max-allowed-packet=1G',
      '--databases',
      'shop',
      'hr',
    ]);
  });

  test('turns GTID_PURGED off for a MySQL source without GTIDs', () => {
    const args = mysqldumpArgs({ ...base, flavor: 'mysql', gtid: false });
    expect(args).toContain('--set-gtid-purged=OFF');
    expect(args).not.toContain('--set-gtid-purged=ON');
  });

  test('leaves --gtid out for MariaDB without GTIDs', () => {
    expect(mysqldumpArgs({ ...base, flavor: 'mariadb', gtid: false })).not.toContain('--gtid');
  });

  test('puts the option file first and no credentials anywhere', () => {
    const args = mysqldumpArgs({ ...base, flavor: 'mysql', gtid: false });
    expect(args[0]).toBe('--defaults-extra-file=/run/rd/client.cnf');
    expect(args.some((a) => /^--(user|password)|^-p/.test(a))).toBe(false);
  });

  test("rejects 'all' and names USER_DATABASES_SQL", () => {
    const err = thrown(() => mysqldumpArgs({ ...base, databases: 'all', flavor: 'mysql', gtid: false }));
    expect(err?.type).toBe('BadConfig');
    expect(err?.message).toContain('USER_DATABASES_SQL');
  });

  test('rejects system schemas, empty lists and option-like names', () => {
    for (const databases of [['mysql'], ['shop', 'Performance_Schema'], [], ['--all-databases']]) {
      expect(thrown(() => mysqldumpArgs({ ...base, databases, flavor: 'mariadb', gtid: false }))?.type).toBe('BadConfig');
    }
  });

  test('rejects a socket and a host together', () => {
    expect(
      thrown(() => mysqldumpArgs({ ...base, flavor: 'mysql', gtid: false, socket: '/s', host: 'h' }))?.type,
    ).toBe('BadConfig');
  });

  test('USER_DATABASES_SQL excludes the four system schemas', () => {
    expect(USER_DATABASES_SQL).toContain(
      "NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')",
    );
  });
});

describe('optionFileContents', () => {
  test('writes a [client] group with quoted values', () => {
    expect(optionFileContents({ user: 'drill', password: 'pw', socket: '/sock/mysqld.sock', port: 3306 })).toBe(
      '[client]\nuser="drill"\npassword="pw"\nsocket="/sock/mysqld.sock"\nport=3306\n',
    );
  });

  test('escapes backslash and double quote and keeps # ; and spaces literal', () => {
    expect(quoteOptionValue(' a"b\\c#d;e ')).toBe('" a\\"b\\\\c#d;e "');
  });

  test('escapes line breaks and tabs so the value stays on one line', () => {
    expect(quoteOptionValue('a\nb\rc\td')).toBe('"a\\nb\\rc\\td"');
  });

  test('rejects a NUL in a value and a port out of range', () => {
    expect(thrown(() => quoteOptionValue('a\u0000b'))?.type).toBe('BadConfig');
    expect(thrown(() => optionFileContents({ user: 'u', password: 'p', port: 70000 }))?.type).toBe('BadConfig');
  });
});
