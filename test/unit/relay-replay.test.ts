import { applierWorkers, replayWorkersProblem, sandboxCores } from '../../domain/replay/parallel-apply';
import { applierProgress, applierStatements, readApplierStatus, relayLinkScript, relayReplayLayout } from '../../domain/replay/relay-log';
import type { ApplierStatus } from '../../domain/replay/relay-log';
import { errorType } from './expect-error';

const files = ['mysql-bin.000007', 'mysql-bin.000008', 'mysql-bin.000009'];
const whole = [{ from: { file: 'mysql-bin.000007', position: 1200 }, to: { file: 'mysql-bin.000009', position: 880 } }];

function status(over: Partial<ApplierStatus>): ApplierStatus {
  return { host: 'relay-replay.invalid', sqlRunning: true, relayFile: 'relay-bin.000001', relayPosition: 4, sqlErrno: 0, sqlError: '', ...over };
}

describe('relay-log replay layout', () => {
  test('archived files become relay logs numbered from 1 in replay order', () => {
    expect(relayReplayLayout(files, whole).links).toEqual([
      { binlog: 'mysql-bin.000007', relay: 'relay-bin.000001' },
      { binlog: 'mysql-bin.000008', relay: 'relay-bin.000002' },
      { binlog: 'mysql-bin.000009', relay: 'relay-bin.000003' },
    ]);
  });

  test('start and stop keep their byte positions in the relay log their binlog is linked as', () => {
    expect(relayReplayLayout(files, whole).runs).toEqual([
      { start: { relayFile: 'relay-bin.000001', position: 1200, binlogFile: 'mysql-bin.000007' }, until: { relayFile: 'relay-bin.000003', position: 880, binlogFile: 'mysql-bin.000009' } },
    ]);
  });

  test('each segment around a skipped transaction is its own applier run', () => {
    const segments = [
      { from: { file: 'mysql-bin.000007', position: 1200 }, to: { file: 'mysql-bin.000008', position: 500 } },
      { from: { file: 'mysql-bin.000008', position: 900 }, to: { file: 'mysql-bin.000009', position: 880 } },
    ];
    expect(relayReplayLayout(files, segments).runs.map((r) => [r.start.relayFile, r.start.position, r.until.relayFile, r.until.position])).toEqual([
      ['relay-bin.000001', 1200, 'relay-bin.000002', 500],
      ['relay-bin.000002', 900, 'relay-bin.000003', 880],
    ]);
  });

  test('a stop outside the planned files is refused as a bad target', () => {
    expect(errorType(() => relayReplayLayout(files, [{ from: whole[0].from, to: { file: 'mysql-bin.000010', position: 4 } }]))).toBe('BadTarget');
  });

  test('the link script indexes every relay log, in order, and links the read-only archive files', () => {
    const script = relayLinkScript(relayReplayLayout(files, whole), '/binlogs');
    expect(script).toContain("ln -s '/binlogs/mysql-bin.000008' 'relay-bin.000002'");
    expect(script).toContain("printf '%s\\n' './relay-bin.000001' './relay-bin.000002' './relay-bin.000003' > relay-bin.index");
  });
});

describe('applier statements', () => {
  test('MariaDB starts only the SQL thread, until the stop as a relay log position', () => {
    expect(applierStatements('mariadb').start({ relayFile: 'relay-bin.000003', position: 880 })).toBe("START SLAVE SQL_THREAD UNTIL RELAY_LOG_FILE='relay-bin.000003', RELAY_LOG_POS=880");
  });

  test('MariaDB runs a single applier thread without GTID positioning, naming the binlog file the relay point is', () => {
    const first = applierStatements('mariadb').position({ relayFile: 'relay-bin.000001', position: 1200, binlogFile: 'mysql-bin.000007' }, true);
    expect(first).toContain('SET GLOBAL slave_parallel_threads = 0');
    expect(first.join('\n')).not.toMatch(/slave_parallel_mode/);
    expect(first[first.length - 1]).toBe(
      "CHANGE MASTER TO MASTER_HOST='relay-replay.invalid', MASTER_USE_GTID=no, MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=1200, RELAY_LOG_FILE='relay-bin.000001', RELAY_LOG_POS=1200",
    );
  });

  test('the layout gives every relay point the binlog file it is a link to', () => {
    const layout = relayReplayLayout(files, whole);
    for (const run of layout.runs) {
      for (const p of [run.start, run.until]) expect(layout.links.find((l) => l.relay === p.relayFile)?.binlog).toBe(p.binlogFile);
    }
  });

  test('MySQL uses the replica statements and positions without auto-positioning', () => {
    const sql = applierStatements('mysql');
    expect(sql.position({ relayFile: 'relay-bin.000001', position: 1200 }, true)).toContain(
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='relay-replay.invalid', SOURCE_AUTO_POSITION=0, RELAY_LOG_FILE='relay-bin.000001', RELAY_LOG_POS=1200",
    );
    expect(sql.start({ relayFile: 'relay-bin.000002', position: 9 })).toBe("START REPLICA SQL_THREAD UNTIL RELAY_LOG_FILE='relay-bin.000002', RELAY_LOG_POS=9");
  });

  test('MariaDB handed workers runs optimistic parallel replication with that many threads', () => {
    const first = applierStatements('mariadb', 2).position({ relayFile: 'relay-bin.000001', position: 1200, binlogFile: 'mysql-bin.000007' }, true);
    expect(first).toEqual(expect.arrayContaining(['SET GLOBAL slave_parallel_threads = 2', "SET GLOBAL slave_parallel_mode = 'optimistic'"]));
    expect(first.indexOf('SET GLOBAL slave_parallel_threads = 2')).toBeLessThan(first.findIndex((x) => x.startsWith('CHANGE MASTER')));
  });

  test('MySQL sets its worker count every time (the server default is 4) and preserves commit order with workers', () => {
    expect(applierStatements('mysql').position({ relayFile: 'relay-bin.000001', position: 4 }, true)).toContain('SET GLOBAL replica_parallel_workers = 0');
    const parallel = applierStatements('mysql', 4).position({ relayFile: 'relay-bin.000001', position: 4 }, true);
    expect(parallel).toEqual(expect.arrayContaining(['SET GLOBAL replica_parallel_workers = 4', 'SET GLOBAL replica_preserve_commit_order = ON']));
  });

  test('MariaDB waits in the server for the stop transaction\'s GTID, bounded; MySQL polls its status', () => {
    expect(applierStatements('mariadb').waitForGtid('0-1-60009')).toBe("SELECT MASTER_GTID_WAIT('0-1-60009', 0.5) AS waited");
    expect(applierStatements('mariadb').waitForGtid("0-1-9'; DROP TABLE t")).toBeUndefined();
    expect(applierStatements('mysql').waitForGtid('3e11fa47-71ca-11e1-9e33-c80aa9429562:23')).toBeUndefined();
  });

  test('a later segment only moves the applier, without naming a source host again', () => {
    expect(applierStatements('mariadb').position({ relayFile: 'relay-bin.000002', position: 900, binlogFile: 'mysql-bin.000008' }, false)).toEqual([
      "CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000008', MASTER_LOG_POS=900, RELAY_LOG_FILE='relay-bin.000002', RELAY_LOG_POS=900",
    ]);
    expect(applierStatements('mysql').position({ relayFile: 'relay-bin.000002', position: 900, binlogFile: 'mysql-bin.000008' }, false)).toEqual([
      "CHANGE REPLICATION SOURCE TO RELAY_LOG_FILE='relay-bin.000002', RELAY_LOG_POS=900",
    ]);
  });
});

describe('applier progress', () => {
  const until = { relayFile: 'relay-bin.000003', position: 880 };

  test('reading MySQL status columns and MariaDB status columns gives the same fields', () => {
    const mysql = readApplierStatus({ Source_Host: 'h', Replica_SQL_Running: 'Yes', Relay_Log_File: 'relay-bin.000002', Relay_Log_Pos: '77', Last_SQL_Errno: 0, Last_SQL_Error: '' });
    const mariadb = readApplierStatus({ Master_Host: 'h', Slave_SQL_Running: 'Yes', Relay_Log_File: 'relay-bin.000002', Relay_Log_Pos: 77, Last_SQL_Errno: '0', Last_SQL_Error: '' });
    expect(mysql).toEqual(mariadb);
    expect(mysql).toMatchObject({ sqlRunning: true, relayPosition: 77 });
  });

  test('an applier short of the stop is still applying', () => {
    expect(applierProgress(status({ relayFile: 'relay-bin.000003', relayPosition: 879 }), until)).toEqual({ state: 'applying', relayFile: 'relay-bin.000003', position: 879 });
  });

  test('an applier at the stop position of the stop file has reached it', () => {
    expect(applierProgress(status({ sqlRunning: false, relayFile: 'relay-bin.000003', relayPosition: 880 }), until).state).toBe('reached');
  });

  test('an applier waiting in a relay log after the stop file has reached a stop at the end of the last file', () => {
    expect(applierProgress(status({ relayFile: 'relay-bin.000004', relayPosition: 4 }), until).state).toBe('reached');
  });

  test('an SQL error is a failure carrying the server error', () => {
    expect(applierProgress(status({ sqlRunning: false, sqlErrno: 1062, sqlError: "Duplicate entry '5'" }), until)).toEqual({ state: 'failed', errno: 1062, message: "Duplicate entry '5'" });
  });

  test('a thread stopped short of the stop without an error is stopped, not reached', () => {
    expect(applierProgress(status({ sqlRunning: false, relayFile: 'relay-bin.000002', relayPosition: 5000 }), until).state).toBe('stopped');
  });
});

describe('applier workers', () => {
  test('MySQL: one worker per core, at most 4', () => {
    expect(applierWorkers({ flavor: 'mysql', cores: 2 })).toBe(2);
    expect(applierWorkers({ flavor: 'mysql', cores: 16 })).toBe(4);
  });

  test('MySQL on one core: no extra workers', () => {
    expect(applierWorkers({ flavor: 'mysql', cores: 1 })).toBe(0);
  });

  test('MySQL: a requested count wins, 0 included', () => {
    expect(applierWorkers({ flavor: 'mysql', cores: 8, requested: 0 })).toBe(0);
    expect(applierWorkers({ flavor: 'mysql', cores: 2, requested: 4 })).toBe(4);
  });

  test('MariaDB: one SQL thread unless asked, whatever the cores', () => {
    expect(applierWorkers({ flavor: 'mariadb', cores: 16 })).toBe(0);
    expect(applierWorkers({ flavor: 'mariadb', cores: 16, requested: 0 })).toBe(0);
  });

  test('MariaDB: a requested count is used', () => {
    expect(applierWorkers({ flavor: 'mariadb', cores: 2, requested: 2 })).toBe(2);
  });

  test('the early check names what is wrong with a request and passes what can run', () => {
    expect(replayWorkersProblem(2)).toBeUndefined();
    expect(replayWorkersProblem(0)).toBeUndefined();
    expect(replayWorkersProblem(undefined)).toBeUndefined();
    expect(replayWorkersProblem(8)).toBeUndefined();
    expect(replayWorkersProblem(9)).toMatch(/whole number from 0 to 8, not 9/);
    expect(replayWorkersProblem(1.5)).toMatch(/whole number from 0 to 8, not 1.5/);
  });

  test('a count out of range is a configuration error', () => {
    expect(() => applierWorkers({ flavor: 'mysql', cores: 2, requested: 99 })).toThrow(/replayWorkers must be a whole number from 0 to 8/);
  });

  test("a sandbox's CPU limit caps the host's cores, rounded down, at least one", () => {
    expect(sandboxCores(8, 2.5)).toBe(2);
    expect(sandboxCores(2)).toBe(2);
    expect(sandboxCores(4, 0.5)).toBe(1);
  });
});
