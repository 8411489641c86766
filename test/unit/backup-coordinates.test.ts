import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  coordinatesFromDump,
  coordinatesFromMydumperMetadata,
  coordinatesFromPhysical,
  dumpCompletedAt,
} from '../../domain/backups/coordinates';

const text = (name: string): string => readFileSync(join(__dirname, '..', 'fixtures', 'foreign', name), 'utf8');
const dumps = (name: string): string => readFileSync(join(__dirname, '..', 'fixtures', 'dumps', name), 'utf8');

describe('logical dumps', () => {
  test('mysqldump --master-data=2: commented CHANGE MASTER and a two-line GTID_PURGED, flavor unknown', () => {
    const dump = text('mysqldump-8.0-all-databases.sql');
    expect(coordinatesFromDump(dump, dump)).toEqual({
      found: true,
      of: 'backed-up-server',
      times: { finishedAt: '2026-12-04 02:30:01' },
      point: {
        coordinates: { file: 'binlog.000042', position: 73421 },
        gtidSet: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5021,8d1c3a6e-5b1f-11ef-8a2b-0242ac110002:1-77',
      },
    });
  });

  test('mysqldump 9.7 --source-data=2: CHANGE REPLICATION SOURCE TO', () => {
    const r = coordinatesFromDump(dumps('mysql-9.7-head.sql'), dumps('mysql-9.7-tail.sql'), 'mysql');
    expect(r).toMatchObject({ found: true, point: { coordinates: { file: 'binlog.000001', position: 5938 } } });
  });

  test('an uncommented CHANGE MASTER (--master-data=1) is read the same', () => {
    const head = '-- MySQL dump 10.13  Distrib 8.0.40, for Linux (x86_64)\n\nCHANGE MASTER TO MASTER_LOG_FILE=\'mysql-bin.000007\', MASTER_LOG_POS=154;\n';
    expect(coordinatesFromDump(head)).toMatchObject({ found: true, point: { coordinates: { file: 'mysql-bin.000007', position: 154 } } });
  });

  test('mariadb-dump 10.11: the GTID position deferred to the tail', () => {
    const r = coordinatesFromDump(dumps('mariadb-10.11-head.sql'), dumps('mariadb-10.11-tail.sql'), 'mariadb');
    expect(r).toMatchObject({ found: true, point: { coordinates: { file: 'mysql-bin.000001', position: 5530 }, gtidSet: '1-1-1,0-1-18' } });
  });

  test('mariadb-dump 11.8: the GTID position deferred to the tail, and when the dump finished', () => {
    const r = coordinatesFromDump(dumps('mariadb-11.8-head.sql'), dumps('mariadb-11.8-tail.sql'), 'mariadb');
    expect(r).toMatchObject({ found: true, times: { finishedAt: '2026-12-05 07:50:10' }, point: { coordinates: { file: 'mysql-bin.000001', position: 3002 }, gtidSet: '1-1-4,0-1-9' } });
  });

  test('--dump-slave: the coordinates are those of the source of the replica dumped, host and port first', () => {
    const dump = text('mariadb-dump-10.11-dump-slave.sql');
    expect(coordinatesFromDump(dump, dump)).toEqual({
      found: true,
      of: 'its-source',
      times: { finishedAt: '2026-12-04 03:12:44' },
      point: { coordinates: { file: 'mysql-bin.000317', position: 8841 }, gtidSet: '0-2-48812' },
    });
  });

  test('MySQL 8.0.26+ --dump-replica comment is recognised', () => {
    const head = "--\n-- Position to start replication or point-in-time recovery from (the primary of this replica)\n--\n\n-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000003', SOURCE_LOG_POS=157;\n";
    expect(coordinatesFromDump(head, '', 'mysql')).toMatchObject({ found: true, of: 'its-source' });
  });

  test('a dump taken without --source-data cannot be rolled forward, and says why', () => {
    const dump = text('mysqldump-8.0-one-database.sql');
    const r = coordinatesFromDump(dump, dump);
    expect(r).toMatchObject({ found: false, times: { finishedAt: '2026-12-04 14:05:09' } });
    expect(r.found === false && r.reason).toMatch(/^taken without --source-data \/ --master-data: cannot be rolled forward/);
  });

  test('a GTID set without file and position is kept, but the dump is still not rolled forward', () => {
    const head = "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10';\n";
    const r = coordinatesFromDump(head, '', 'mysql');
    expect(r).toMatchObject({ found: false, gtidSet: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10' });
  });

  test('the completion time pads a one-digit hour', () => {
    expect(dumpCompletedAt('\n-- Dump completed on 2026-12-04  2:30:01\n')).toBe('2026-12-04 02:30:01');
    expect(dumpCompletedAt('-- Dump completed\n')).toBeUndefined();
  });
});

describe('mydumper metadata', () => {
  test('0.10: SHOW MASTER STATUS with start and finish times', () => {
    expect(coordinatesFromMydumperMetadata(text('mydumper-0.10/metadata'))).toEqual({
      found: true,
      of: 'backed-up-server',
      times: { startedAt: '2026-12-04 02:30:01', finishedAt: '2026-12-04 02:31:17' },
      point: { coordinates: { file: 'mysql-bin.000042', position: 73421 }, gtidSet: '0-1-9981' },
    });
  });

  test('0.10 on MySQL 8: a GTID set printed over two lines is joined', () => {
    const md = 'Started dump at: 2026-12-04 02:30:01\nSHOW MASTER STATUS:\n\tLog: binlog.000009\n\tPos: 2210\n\tGTID:3e11fa47-71ca-11e1-9e33-c80aa9429562:1-50,\n8d1c3a6e-5b1f-11ef-8a2b-0242ac110002:1-7\n\nFinished dump at: 2026-12-04 02:30:40\n';
    expect(coordinatesFromMydumperMetadata(md)).toMatchObject({
      point: { coordinates: { file: 'binlog.000009', position: 2210 }, gtidSet: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-50,8d1c3a6e-5b1f-11ef-8a2b-0242ac110002:1-7' },
    });
  });

  test('0.12+ INI layout: [master] File / Position / Executed_Gtid_Set', () => {
    const md = "# Started dump at: 2026-12-04 02:30:01\n[master]\n# Channel_Name = '' # It can be use to setup replication FOR CHANNEL\nFile = mysql-bin.000002\nPosition = 1234\nExecuted_Gtid_Set = 0-1-77\n\n# Finished dump at: 2026-12-04 02:30:09\n";
    expect(coordinatesFromMydumperMetadata(md)).toEqual({
      found: true,
      of: 'backed-up-server',
      times: { startedAt: '2026-12-04 02:30:01', finishedAt: '2026-12-04 02:30:09' },
      point: { coordinates: { file: 'mysql-bin.000002', position: 1234 }, gtidSet: '0-1-77' },
    });
  });

  test('only SHOW SLAVE STATUS (a replica without its own binlog): the source\'s coordinates, said so', () => {
    const md = 'Started dump at: 2026-12-04 02:30:01\nSHOW SLAVE STATUS:\n\tHost: 10.0.3.15\n\tLog: mysql-bin.000317\n\tPos: 8841\n\tGTID:\n\nFinished dump at: 2026-12-04 02:31:00\n';
    expect(coordinatesFromMydumperMetadata(md)).toMatchObject({ found: true, of: 'its-source', point: { coordinates: { file: 'mysql-bin.000317', position: 8841 } } });
  });

  test('no binlog on the server: no coordinates, and why', () => {
    const r = coordinatesFromMydumperMetadata('Started dump at: 2026-12-04 02:30:01\nFinished dump at: 2026-12-04 02:30:02\n');
    expect(r).toMatchObject({ found: false, reason: expect.stringContaining('log_bin') });
  });
});

describe('physical backups', () => {
  test('mariabackup 11.8: mariadb_backup_binlog_info with a GTID position of two domains, times from mariadb_backup_info', () => {
    const r = coordinatesFromPhysical({ binlogInfo: text('mariabackup-11.8/mariadb_backup_binlog_info'), info: text('mariabackup-11.8/mariadb_backup_info') });
    expect(r).toEqual({
      found: true,
      of: 'backed-up-server',
      times: { startedAt: '2026-12-05 08:07:38', finishedAt: '2026-12-05 08:07:39' },
      point: { coordinates: { file: 'mysql-bin.000001', position: 1001 }, gtidSet: '0-1-3,1-1-1' },
    });
    // Without the binlog_info file, the binlog_pos line of the info file says the same.
    expect(coordinatesFromPhysical({ info: text('mariabackup-11.8/mariadb_backup_info') })).toEqual(r);
  });

  test('mariabackup: xtrabackup_binlog_info, times from xtrabackup_info', () => {
    const r = coordinatesFromPhysical({ binlogInfo: text('mariabackup-10.11/xtrabackup_binlog_info'), info: text('mariabackup-10.11/xtrabackup_info') });
    expect(r).toEqual({
      found: true,
      of: 'backed-up-server',
      times: { startedAt: '2026-12-04 02:00:02', finishedAt: '2026-12-04 02:00:09' },
      point: { coordinates: { file: 'mysql-bin.000042', position: 73421 }, gtidSet: '0-1-9981' },
    });
  });

  test('XtraBackup 8.0: a MySQL GTID set', () => {
    const r = coordinatesFromPhysical({ binlogInfo: text('xtrabackup-8.0/xtrabackup_binlog_info') });
    expect(r).toMatchObject({ point: { coordinates: { file: 'binlog.000012', position: 157 }, gtidSet: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5021' } });
  });

  test('without the binlog info file, the binlog_pos line of the info file', () => {
    const r = coordinatesFromPhysical({ info: text('xtrabackup-8.0/xtrabackup_info') });
    expect(r).toMatchObject({ found: true, point: { coordinates: { file: 'binlog.000012', position: 157 } } });
  });

  test('a binlog info file without GTIDs', () => {
    expect(coordinatesFromPhysical({ binlogInfo: 'mysql-bin.000003\t4521\n' })).toMatchObject({ point: { coordinates: { file: 'mysql-bin.000003', position: 4521 } } });
  });

  test('neither: the server ran without log_bin', () => {
    expect(coordinatesFromPhysical({})).toMatchObject({ found: false, reason: expect.stringContaining('without log_bin') });
  });
});
