/** The configuration file: one schema, readable errors, and what the CLI derives from it. */
import path from 'node:path';
import { durationSeconds } from '../../config/file-schema';
import { drillRequestFor, loadConfig, parseConfigText, retentionPolicies, splitNamedBackup, teamBackupChoice } from '../../config/load';
import { parseDrillRequest } from '../../config/schema';
import { missingPrivileges } from '../../cli/doctor';
import { cronIntervalSeconds } from '../../domain/cron';
import { configProblems } from './expect-error';


const minimal = (extra = '') => `sources:\n  orders:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n${extra}`;

test('the example configuration file in the repository is valid', () => {
  const config = loadConfig(path.resolve(__dirname, '../../restore-drill.example.yaml'));
  expect(Object.keys(config.sources)).toEqual(['sample-mariadb', 'sample-mysql']);
  expect(config.sources['sample-mariadb']!.schedule).toMatchObject({ cron: '30 2 * * *', jitter: 600, catchupWindow: 21600 });
});

test('durations are read with their unit and refused without one', () => {
  expect([durationSeconds('90s'), durationSeconds('15m'), durationSeconds('4h'), durationSeconds('2d'), durationSeconds('1w'), durationSeconds('250ms')]).toEqual([90, 900, 14400, 172800, 604800, 0.25]);
  expect(durationSeconds('soon')).toBeUndefined();
  expect(durationSeconds('15')).toBeUndefined();
});

test('defaults fill what a minimal source leaves out', () => {
  const s = parseConfigText(minimal()).sources.orders!;
  expect(s).toMatchObject({ flavor: 'auto', sandboxTtl: 14400, backup: { method: 'logical' }, retention: { keepBackups: 7, keepReports: 90 }, checks: { assertions: [] } });
  expect(s.schedule).toBeUndefined();
});

test('an unknown key is named with its path and the key it was probably meant to be', () => {
  expect(configProblems(minimal('    rtoTraget: 15m\n'))).toContain('sources.orders.rtoTraget: unknown key — remove it or fix its spelling (did you mean rtoTarget?)');
});

test('every bad key of a file is reported at once', () => {
  const message = configProblems(minimal('    flavor: postgres\n    schedule: { cron: "daily", jitter: 5 minutes }\n'));
  expect(message).toContain('has 3 problems');
  expect(message).toContain('sources.orders.flavor: expected one of "auto", "mysql", "mariadb", got "postgres"');
  expect(message).toContain('sources.orders.schedule.cron: expected a cron expression with five fields');
  expect(message).toContain('sources.orders.schedule.jitter: expected a duration such as 90s');
});

test('a YAML syntax error is reported with its line', () => {
  expect(configProblems('sources:\n  orders:\n    user: [unclosed\n')).toMatch(/not valid YAML:\n {2}line \d+, column \d+/);
});

test('a configured source becomes a valid drill request, with auto flavor left to detection', () => {
  const config = parseConfigText(minimal('    rtoTarget: 15m\n    checks:\n      assertions:\n        - { name: rows, sql: "SELECT 1", expect: 1 }\n'));
  const request = parseDrillRequest(drillRequestFor(config, 'orders', { keepSandbox: true, sandboxTtlSeconds: 600 }));
  expect(request.source).toEqual({ name: 'orders', connection: { socket: '/run/mysqld/mysqld.sock' }, user: 'drill_reader' });
  expect(request).toMatchObject({ keepSandbox: true, sandboxTtlSeconds: 600, rtoTargetSeconds: 900, target: { kind: 'checkpoint' }, assertions: [{ name: 'rows' }] });
});

test('sandboxBufferPoolMb is absent by default (sized from the backup) and, set, reaches the drill request; a tiny one is refused', () => {
  expect(parseDrillRequest(drillRequestFor(parseConfigText(minimal()), 'orders')).sandboxBufferPoolMb).toBeUndefined();
  expect(parseDrillRequest(drillRequestFor(parseConfigText(minimal('    sandboxBufferPoolMb: 4096\n')), 'orders')).sandboxBufferPoolMb).toBe(4096);
  expect(configProblems(minimal('    sandboxBufferPoolMb: 16\n'))).toMatch(/sandboxBufferPoolMb/);
});

test('sandbox and tool container limits are absent by default and, set with sizes, reach the drill request in MiB; a bad size is refused', () => {
  const plain = parseDrillRequest(drillRequestFor(parseConfigText(minimal()), 'orders'));
  expect([plain.sandbox, plain.source.tools]).toEqual([undefined, undefined]);
  const limited = parseDrillRequest(drillRequestFor(parseConfigText(minimal('    sandbox: { memory: 1.5g, cpus: 2, maxMemory: 4096 }\n    tools: { memory: 512m, cpus: 0.5 }\n')), 'orders'));
  expect(limited.sandbox).toEqual({ memoryMb: 1536, cpus: 2, maxMemoryMb: 4096 });
  expect(limited.source.tools).toEqual({ memoryMb: 512, cpus: 0.5 });
  expect(configProblems(minimal('    sandbox: { memory: lots }\n'))).toMatch(/sources\.orders\.sandbox\.memory: expected a memory size/);
  expect(configProblems(minimal('    sandbox: { memory: 16m }\n'))).toMatch(/at least 64m/);
  expect(configProblems(minimal('    tools: { memroy: 1g }\n'))).toMatch(/did you mean memory/);
});

test('checks.checksum defaults to rows and, set to server, reaches the drill request; anything else is refused', () => {
  expect(parseDrillRequest(drillRequestFor(parseConfigText(minimal()), 'orders')).checksum).toBe('rows');
  const server = parseConfigText(minimal('    checks:\n      checksum: server\n'));
  expect(parseDrillRequest(drillRequestFor(server, 'orders')).checksum).toBe('server');
  expect(configProblems(minimal('    checks:\n      checksum: fast\n'))).toMatch(/checksum/);
});

test('checks.missingDefiners defaults to create and, set to fail, reaches the drill request; anything else is refused', () => {
  expect(parseDrillRequest(drillRequestFor(parseConfigText(minimal()), 'orders')).missingDefiners).toBe('create');
  const fail = parseConfigText(minimal('    checks:\n      missingDefiners: fail\n'));
  expect(parseDrillRequest(drillRequestFor(fail, 'orders')).missingDefiners).toBe('fail');
  expect(configProblems(minimal('    checks:\n      missingDefiners: ignore\n'))).toMatch(/missingDefiners/);
});

test('an unknown source name lists the configured ones', () => {
  expect(() => drillRequestFor(parseConfigText(minimal()), 'ordres')).toThrow(/no source "ordres".*it has: orders/);
});

describe('the schedule interval doctor compares binlog retention with: the longest gap between two runs of the cron', () => {
  // A Saturday, so a weekday cron's weekend falls inside the horizon from the first run.
  const from = new Date('2026-11-21T12:00:00Z');
  test('nightly, hourly, weekly and a shorthand', () => {
    expect(cronIntervalSeconds('30 2 * * *', { from })).toBe(86400);
    expect(cronIntervalSeconds('0 * * * *', { from })).toBe(3600);
    expect(cronIntervalSeconds('0 3 * * 0', { from })).toBe(7 * 86400);
    expect(cronIntervalSeconds('@weekly', { from })).toBe(7 * 86400);
  });

  test('a step in the hour field is that many hours, not one: 0 */6 * * * is 6 h', () => {
    expect(cronIntervalSeconds('0 */6 * * *', { from })).toBe(6 * 3600);
    expect(cronIntervalSeconds('15 0,12 * * *', { from })).toBe(12 * 3600);
  });

  test('a weekday-only cron has a three-day gap over the weekend', () => {
    expect(cronIntervalSeconds('30 2 * * 1-5', { from })).toBe(3 * 86400);
  });

  test('uneven runs count by their longest gap, and a DST change in the zone by its 25 h night', () => {
    expect(cronIntervalSeconds('0 1,2 * * *', { from })).toBe(23 * 3600);
    expect(cronIntervalSeconds('30 2 1 * *', { from })).toBe(31 * 86400);
    // Europe/Berlin leaves summer time on the last Sunday of October: 2027-10-31.
    expect(cronIntervalSeconds('0 4 * * *', { from, timezone: 'Europe/Berlin' })).toBe(25 * 3600);
  });

  test('a cron the library cannot read is refused by the configuration schema', () => {
    expect(configProblems(minimal('    schedule: { cron: "0 */6 * *" }\n'))).toMatch(/five fields/);
    expect(configProblems(minimal('    schedule: { cron: "61 2 * * *" }\n'))).toMatch(/schedule/);
    expect(parseConfigText(minimal('    schedule: { cron: "0 */6 * * *" }\n')).sources.orders!.schedule?.cron).toBe('0 */6 * * *');
  });
});

test('doctor names the privileges a source user lacks', () => {
  expect(missingPrivileges('mysql', ["GRANT SELECT, RELOAD, LOCK TABLES ON *.* TO `r`@`localhost`"])).toEqual(['EXECUTE', 'SHOW VIEW', 'TRIGGER', 'EVENT', 'PROCESS', 'REPLICATION SLAVE', 'REPLICATION CLIENT']);
  expect(missingPrivileges('mariadb', ["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`"])).toEqual([]);
  // Physical backups on MySQL also need BACKUP_ADMIN (the clone plugin); MariaDB's mariabackup needs nothing more.
  expect(missingPrivileges('mysql', ["GRANT SELECT, EXECUTE, RELOAD, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `r`@`localhost`"], true)).toEqual(['BACKUP_ADMIN']);
  expect(missingPrivileges('mariadb', ["GRANT SELECT, EXECUTE, RELOAD, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT, PROCESS, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `r`@`localhost`"], true)).toEqual([]);
});

test('a source configured for physical backups asks for them in its drill request, with where to find its files', () => {
  const config = parseConfigText(minimal('    backup:\n      method: physical\n      physical: { cloneDir: { server: /var/lib/mysql-clones, worker: /srv/mysql-clones } }\n'));
  const request = parseDrillRequest(drillRequestFor(config, 'orders'));
  expect(request.backup).toEqual({ method: 'physical' });
  expect(request.source.physical).toEqual({ cloneDir: { server: '/var/lib/mysql-clones', worker: '/srv/mysql-clones' }, prepareMemoryMb: 1024 });
  expect(parseDrillRequest(drillRequestFor(config, 'orders', { backupManifest: '/b/manifest.json' })).backup).toEqual({ manifest: '/b/manifest.json', method: 'physical' });
});

test('a source without a backup method keeps logical drills and a request without a backup key', () => {
  expect(parseDrillRequest(drillRequestFor(parseConfigText(minimal()), 'orders')).backup).toBeUndefined();
});

test('retention becomes one policy per source for the janitor: counts and ages only, defaults filled', () => {
  const config = parseConfigText(`${minimal('    retention: { keepBackups: 3, keepBackupsFor: 14d, keepReports: 30 }\n')}  billing:\n    connection: { socket: /run/b.sock }\n    user: r\n    passwordRef: { env: B_PW }\n`);
  expect(retentionPolicies(config)).toEqual([
    { source: 'orders', keepBackups: 3, keepNewerThanSeconds: 14 * 86400, keepReports: 30 },
    { source: 'billing', keepBackups: 7, keepReports: 90 },
  ]);
});

test('bad retention values are named with their fix', () => {
  const message = configProblems(minimal('    retention: { keepBackups: 0, keepBackupsFor: forever, keepBakups: 2 }\n'));
  expect(message).toContain('sources.orders.retention.keepBackups: expected a whole number of backups, at least 1 (the newest backup is never removed), got 0');
  expect(message).toContain('sources.orders.retention.keepBackupsFor: expected a duration such as 90s, 15m, 4h or 2d');
  expect(message).toContain('sources.orders.retention.keepBakups: unknown key — remove it or fix its spelling (did you mean keepBackups?)');
  expect(configProblems(minimal('    retention: { keepBackups: 2.5 }\n'))).toContain('sources.orders.retention.keepBackups: expected a whole number of backups');
});

test('incremental physical backups reach the drill request, and need method physical', () => {
  const config = parseConfigText(minimal('    backup: { method: physical, kind: incremental, maxIncrements: 3, physical: { container: db } }\n'));
  expect(parseDrillRequest(drillRequestFor(config, 'orders', {})).backup).toMatchObject({ method: 'physical', kind: 'incremental', maxIncrements: 3 });
  expect(configProblems(minimal('    backup: { kind: incremental }\n'))).toContain('sources.orders.backup.kind: expected method: physical with kind: incremental');
  expect(configProblems(minimal('    backup: { method: physical, kind: incremental, maxIncrements: 0 }\n'))).toContain('sources.orders.backup.maxIncrements');
  expect(() => parseDrillRequest({ source: { name: 'orders', connection: { socket: '/s' }, user: 'u' }, backup: { method: 'logical', kind: 'incremental' } })).toThrow(/backup\.kind: kind: incremental needs method: physical/);
});

test('backup attempts and their first delay reach the drill request', () => {
  const config = parseConfigText(minimal('    backup: { attempts: 5, retryDelay: 2m }\n'));
  expect(drillRequestFor(config, 'orders', {}).backup).toEqual({ method: 'logical', attempts: 5, retryDelaySeconds: 120 });
  expect(configProblems(minimal('    backup: { attempts: 0 }\n'))).toContain('sources.orders.backup.attempts');
});

describe('teamBackups', () => {
  test('a folder pattern is taken with its defaults, and drills of the source use it', () => {
    const config = parseConfigText(minimal('    teamBackups:\n      location: /backups/orders/*.sql.gz\n'));
    expect(config.sources.orders!.teamBackups).toEqual({ location: '/backups/orders/*.sql.gz', pick: 'latest', randomWithinDays: 7, minSizeRatio: 0.5 });
    expect(teamBackupChoice('orders', config.sources.orders!, undefined)).toMatchObject({ location: '/backups/orders/*.sql.gz', pick: 'latest' });
    expect(teamBackupChoice('orders', config.sources.orders!, 'own')).toBeUndefined();
    expect(teamBackupChoice('orders', config.sources.orders!, 'random')).toMatchObject({ pick: 'random', randomWithinDays: 7 });
  });

  test('one backup named by its URL is picked by key in its folder, with the S3 settings of the same bucket', () => {
    const config = parseConfigText(minimal('    teamBackups:\n      location: s3://bkp/orders/\n      s3: { endpoint: "http://127.0.0.1:9768", accessKeyIdRef: { env: K }, secretAccessKeyRef: { env: S } }\n'));
    expect(teamBackupChoice('orders', config.sources.orders!, 's3://bkp/orders/2026-12-01.sql.gz')).toEqual({
      location: 's3://bkp/orders/',
      s3: { endpoint: 'http://127.0.0.1:9768', accessKeyIdRef: { env: 'K' }, secretAccessKeyRef: { env: 'S' } },
      pick: { key: '2026-12-01.sql.gz' },
      randomWithinDays: 7,
      minSizeRatio: 0.5,
    });
  });

  test('a named backup in another bucket does not borrow the configured S3 settings, even when one bucket name starts the other', () => {
    const config = parseConfigText(minimal('    teamBackups:\n      location: s3://bkp/orders/\n      s3: { endpoint: "http://127.0.0.1:9768" }\n'));
    expect(teamBackupChoice('orders', config.sources.orders!, 's3://bkp-old/orders/x.sql.gz')).not.toHaveProperty('s3');
    expect(teamBackupChoice('orders', config.sources.orders!, 's3://BKP/archive/x.sql.gz')).toHaveProperty('s3');
  });

  test('a trailing slash names a directory backup, kept as a key ending in /', () => {
    expect(splitNamedBackup('/backups/orders/2026-12-04/')).toEqual({ location: '/backups/orders/', key: '2026-12-04/' });
    expect(splitNamedBackup('s3://bkp/orders/mydumper-1/')).toEqual({ location: 's3://bkp/orders/', key: 'mydumper-1/' });
    expect(splitNamedBackup('/backups/orders/x.sql.gz')).toEqual({ location: '/backups/orders/', key: 'x.sql.gz' });
    expect(() => splitNamedBackup('s3://bkp/')).toThrow(/not a bucket or the root folder/);
    expect(() => splitNamedBackup('/')).toThrow(/not a bucket or the root folder/);
  });

  test('a location that is not one is refused naming the fix', () => {
    expect(configProblems(minimal('    teamBackups:\n      location: http://minio:9000/bk/\n'))).toMatch(/sources\.orders\.teamBackups\.location: .*s3:\/\/bucket\/prefix\//);
  });

  test('latest without a location, and a relative path, are refused before any work', () => {
    const bare = parseConfigText(minimal()).sources.orders!;
    expect(() => teamBackupChoice('orders', bare, 'latest')).toThrow(/no teamBackups location/);
    expect(() => teamBackupChoice('orders', bare, 'backups/x.sql.gz')).toThrow(/absolute path or an s3:\/\/bucket\/key URL/);
  });
});
