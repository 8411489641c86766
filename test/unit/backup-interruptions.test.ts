import { backupToolFailure, findBackupInterruption } from '../../domain/backups/interruptions';
import { isRetryableType } from '../../domain/errors';

// Lines as the tools print them (format strings of mariadb-dump 10.11, mysqldump 9.7 and
// mariabackup 10.11; the first ones captured from test/integration/bad-days.test.ts).
const MARIADB_KILLED = 'mariadb-dump: Error 2013: Lost connection to server during query when dumping table `pages` at row: 3174\n';
const MYSQL_KILLED = 'mysqldump: Error 2013: Lost connection to MySQL server during query when dumping table `pages` at row: 2203\n';
const MARIADB_TRUNCATED = 'mariadb-dump: Error 1412: Table definition has changed, please retry transaction when dumping table `recent` at row: 0\n';
const MYSQL_TRUNCATED = 'mysqldump: Error 1412: Table definition has changed, please retry transaction when dumping table `recent` at row: 0\n';
const GONE_AWAY = "mysqldump: Couldn't execute 'SHOW CREATE TABLE `courses`': MySQL server has gone away (2006)\n";
const MARIADB_GONE_AWAY = "mariadb-dump: Couldn't execute 'show create table `courses`': Server has gone away (2006)\n";
const LOCK_WAIT = "mysqldump: Couldn't execute 'FLUSH TABLES WITH READ LOCK': Lock wait timeout exceeded; try restarting transaction (1205)\n";
const DROPPED = "mysqldump: Couldn't execute 'show create table `grades`': Table 'university.grades' doesn't exist (1146)\n";
const MARIABACKUP_LOST = [
  '[00] 2026-12-04 19:02:11 Connecting to server host: localhost, user: reader, password: set, port: not set, socket: /source/mysqld.sock',
  '[00] 2026-12-04 19:02:11 >> log scanned up to (2013)',
  '[00] 2026-12-04 19:02:12 Error: failed to execute query BACKUP STAGE BLOCK_COMMIT: Lost connection to server during query',
].join('\n');
const MARIABACKUP_LOCK = '[00] 2026-12-04 19:02:12 Error: failed to execute query BACKUP STAGE BLOCK_DDL: Lock wait timeout exceeded; try restarting transaction\n[00] 2026-12-04 19:02:12 Error on BACKUP STAGE BLOCK_DDL query execution\n';
const MARIABACKUP_DDL = '[00] 2026-12-04 19:02:12 DDL operation detected in the late phase of backup while executing ALTER TABLE on `shop`.`orders`. Backup is inconsistent. Remove --no-lock option to fix.\n';
const MARIABACKUP_CONNECT = '[00] 2026-12-04 19:02:11 Failed to connect to MariaDB server: Can\'t connect to local server through socket \'/source/mysqld.sock\' (111).\n';

describe('findBackupInterruption', () => {
  test.each([
    ['mariadb-dump killed', MARIADB_KILLED, 'SourceConnectionLost', 2013, 'pages', 3174],
    ['mysqldump killed', MYSQL_KILLED, 'SourceConnectionLost', 2013, 'pages', 2203],
    ['mariadb-dump after TRUNCATE', MARIADB_TRUNCATED, 'DdlDuringBackup', 1412, 'recent', 0],
    ['mysqldump after TRUNCATE', MYSQL_TRUNCATED, 'DdlDuringBackup', 1412, 'recent', 0],
    ['mysqldump server gone away', GONE_AWAY, 'SourceConnectionLost', 2006, 'courses', undefined],
    ['mariadb-dump server gone away', MARIADB_GONE_AWAY, 'SourceConnectionLost', 2006, 'courses', undefined],
    ['mysqldump lock wait', LOCK_WAIT, 'LockWaitTimeout', 1205, undefined, undefined],
    ['mysqldump table dropped', DROPPED, 'DdlDuringBackup', 1146, 'university.grades', undefined],
    ['mariabackup lost connection', MARIABACKUP_LOST, 'SourceConnectionLost', undefined, undefined, undefined],
    ['mariabackup lock wait', MARIABACKUP_LOCK, 'LockWaitTimeout', undefined, undefined, undefined],
    ['mariabackup DDL', MARIABACKUP_DDL, 'DdlDuringBackup', undefined, 'shop.orders', undefined],
    ['mariabackup cannot connect', MARIABACKUP_CONNECT, 'SourceConnectionLost', undefined, undefined, undefined],
  ])('%s', (_name, text, type, code, table, row) => {
    const found = findBackupInterruption(text);
    expect(found?.type).toBe(type);
    expect(found?.code).toBe(code);
    expect(found?.table).toBe(table);
    expect(found?.row).toBe(row);
  });

  test('an LSN in parentheses is not an error number', () => {
    expect(findBackupInterruption('[00] 2026-12-04 19:02:11 >> log scanned up to (2013)\n[00] completed OK!')).toBeUndefined();
  });

  test('the first error is the cause: a lock wait that made a proxy drop the session is a lock wait', () => {
    expect(findBackupInterruption(`${LOCK_WAIT}mysqldump: Error 2013: Lost connection to MySQL server during query\n`)?.type).toBe('LockWaitTimeout');
  });

  test('other failures are not interruptions', () => {
    expect(findBackupInterruption("mysqldump: Got error: 1045: Access denied for user 'reader'@'localhost' (using password: YES) when trying to connect\n")).toBeUndefined();
    expect(findBackupInterruption('')).toBeUndefined();
  });
});

describe('backupToolFailure', () => {
  const otherwise = 'mariadb-dump of source shop exited with 2: …';

  test('an interruption is retryable, names the table and row, and says what to look at', () => {
    const err = backupToolFailure({ tool: 'mariadb-dump', source: 'shop', output: MARIADB_KILLED, exitCode: 2, otherwise });
    expect(err.type).toBe('SourceConnectionLost');
    expect(isRetryableType(err.type)).toBe(true);
    expect(err.message).toContain('mariadb-dump of source shop lost its connection to the source while copying table pages at row 3174');
    expect(err.message).toMatch(/error log/);
    expect(err.details).toEqual({ tool: 'mariadb-dump', exitCode: 2, code: 2013, table: 'pages', row: 3174 });
  });

  test('DDL names the table it hit and says to move the DDL', () => {
    const err = backupToolFailure({ tool: 'mysqldump', source: 'shop', output: MYSQL_TRUNCATED, exitCode: 2, otherwise });
    expect(err.type).toBe('DdlDuringBackup');
    expect(err.message).toContain('was broken by DDL on table recent at row 0');
    expect(err.message).toMatch(/schedule DDL outside the drill window/);
  });

  test('anything else is ToolFailed with the tool output, not retried', () => {
    const err = backupToolFailure({ tool: 'mysqldump', source: 'shop', output: '', exitCode: 137, otherwise });
    expect(err.type).toBe('ToolFailed');
    expect(err.message).toBe(otherwise);
    expect(isRetryableType(err.type)).toBe(false);
  });
});
