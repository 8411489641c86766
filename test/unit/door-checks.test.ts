import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupFormat } from '../../domain/backups/format';
import {
  type ListedBackup,
  checkBackupSize,
  checkDumpComplete,
  checkMydumperComplete,
  checkNotInFlight,
  checkRestorable,
  pickBackup,
} from '../../domain/backups/door-checks';
import { isRetryableType } from '../../domain/errors';

const dumps = (name: string): string => readFileSync(join(__dirname, '..', 'fixtures', 'dumps', name), 'utf8');

function thrown(fn: () => unknown): { type?: string; message: string; retryable?: boolean } | undefined {
  try {
    fn();
  } catch (e) {
    return e as { type?: string; message: string; retryable?: boolean };
  }
  return undefined;
}

const GiB = 1024 ** 3;

describe('a backup still being written', () => {
  test('a size that changed while reading is ArtifactInFlight, retryable, and says it is not corrupt', () => {
    const err = thrown(() => checkNotInFlight('/backups/db1/nightly.sql.gz', { size: 1000, mtimeMs: 1 }, { size: 5000, mtimeMs: 2 }));
    expect(err?.type).toBe('ArtifactInFlight');
    expect(err?.retryable).toBe(true);
    expect(isRetryableType('ArtifactInFlight')).toBe(true);
    expect(err?.message).toBe(
      'file /backups/db1/nightly.sql.gz changed while it was read (size 1000 -> 5000): a backup still being written; retried later, not called corrupt',
    );
  });

  test('same size but a new modification time is in flight too', () => {
    expect(thrown(() => checkNotInFlight('f', { size: 10, mtimeMs: 0 }, { size: 10, mtimeMs: 1000 }))?.message).toContain(
      'modified time 1970-01-01T00:00:00.000Z -> 1970-01-01T00:00:01.000Z',
    );
  });

  test('an object whose etag changed is in flight', () => {
    expect(thrown(() => checkNotInFlight('s3://b/p/x', { size: 10, etag: '"a"' }, { size: 10, etag: '"b"' }))?.type).toBe('ArtifactInFlight');
  });

  test('an unchanged file passes', () => {
    expect(thrown(() => checkNotInFlight('f', { size: 10, mtimeMs: 5, etag: 'e' }, { size: 10, mtimeMs: 5, etag: 'e' }))).toBeUndefined();
  });
});

describe('a backup too small', () => {
  test('an empty file is BackupTooSmall with its own message', () => {
    const err = thrown(() => checkBackupSize('nightly.sql.gz', 0));
    expect(err?.type).toBe('BackupTooSmall');
    expect(err?.message).toContain('nightly.sql.gz is empty (0 bytes)');
  });

  test('under half the last good backup: both sizes in human units', () => {
    const err = thrown(() => checkBackupSize('tonight.sql.gz', 1.2 * GiB, { name: 'yesterday.sql.gz', size: 3.4 * GiB }));
    expect(err?.type).toBe('BackupTooSmall');
    expect(err?.message).toContain('tonight.sql.gz is 1.2 GiB, less than 50% of the last good backup of this source (yesterday.sql.gz, 3.4 GiB)');
  });

  test('the ratio is configurable', () => {
    expect(thrown(() => checkBackupSize('t', 60, { name: 'y', size: 100 }, 0.5))).toBeUndefined();
    expect(thrown(() => checkBackupSize('t', 60, { name: 'y', size: 100 }, 0.8))?.type).toBe('BackupTooSmall');
  });

  test('without a last good backup, any non-empty size passes', () => {
    expect(thrown(() => checkBackupSize('first.sql.gz', 1))).toBeUndefined();
  });
});

describe('an incomplete backup', () => {
  test('a dump without its trailer is DumpTruncated, named', () => {
    const err = thrown(() => checkDumpComplete('s3://b/p/db1.sql.gz', dumps('mysql-9.7-killed-tail.sql')));
    expect(err?.type).toBe('DumpTruncated');
    expect(err?.message).toContain('s3://b/p/db1.sql.gz');
  });

  test('a complete dump passes', () => {
    expect(thrown(() => checkDumpComplete('db1.sql', dumps('mysql-9.7-tail.sql')))).toBeUndefined();
  });

  test('mydumper still writing (metadata.partial) is in flight', () => {
    expect(thrown(() => checkMydumperComplete('/b/d', ['metadata.partial', 'shop-schema-create.sql']))?.type).toBe('ArtifactInFlight');
  });

  test('mydumper without metadata, or without its Finished line, is truncated', () => {
    expect(thrown(() => checkMydumperComplete('/b/d', ['shop-schema-create.sql']))?.type).toBe('DumpTruncated');
    expect(thrown(() => checkMydumperComplete('/b/d', ['metadata'], 'Started dump at: 2026-12-04 02:30:01\n'))?.type).toBe('DumpTruncated');
  });

  test('a finished mydumper directory passes', () => {
    expect(thrown(() => checkMydumperComplete('/b/d', ['metadata'], 'Started dump at: x\nFinished dump at: 2026-12-04 02:31:17\n'))).toBeUndefined();
  });
});

describe('backups we recognise but do not restore', () => {
  const base: BackupFormat = { kind: 'mariabackup', compression: 'gzip', container: 'xbstream', tool: 'mariabackup', flavor: 'mariadb' };

  test('Percona XtraBackup needs an image with xtrabackup', () => {
    const err = thrown(() => checkRestorable('s3://b/p/full.xbstream', { ...base, kind: 'xtrabackup', tool: 'xtrabackup', toolVersion: '8.0.35-30', flavor: 'mysql' }));
    expect(err?.type).toBe('UnsupportedBackupFormat');
    expect(err?.message).toContain('Percona XtraBackup backup (xtrabackup 8.0.35-30): restoring it needs an image with xtrabackup');
  });

  test('an incremental physical backup is refused', () => {
    const err = thrown(() => checkRestorable('inc1', { ...base, physical: { backupType: 'incremental', prepared: false, incremental: true } }));
    expect(err?.type).toBe('UnsupportedBackupFormat');
    expect(err?.message).toContain('kind: incremental');
  });

  test('a full mariabackup passes; XtraBackup passes once the deployment can restore it', () => {
    expect(thrown(() => checkRestorable('full', base))).toBeUndefined();
    expect(thrown(() => checkRestorable('full', { ...base, kind: 'xtrabackup' }, ['xtrabackup']))).toBeUndefined();
  });
});

describe('which backup of a listing', () => {
  const day = 24 * 3600 * 1000;
  const now = Date.UTC(2026, 11, 4, 12);
  const list: ListedBackup[] = [
    { key: 'p/db1-2026-12-01.sql.gz', size: 100, modifiedMs: now - 3 * day },
    { key: 'p/db1-2026-12-04.sql.gz', size: 100, modifiedMs: now - 0.4 * day },
    { key: 'p/db1-2026-11-20.sql.gz', size: 100, modifiedMs: now - 14 * day },
    { key: 'p/db1-2026-12-03.sql.gz', size: 100, modifiedMs: now - 1.4 * day },
  ];

  test('latest by default', () => {
    expect(pickBackup('s3://b/p/', list).key).toBe('p/db1-2026-12-04.sql.gz');
  });

  test('oldest', () => {
    expect(pickBackup('s3://b/p/', list, { kind: 'oldest' }).key).toBe('p/db1-2026-11-20.sql.gz');
  });

  test('random within N days uses the injected number over the recent ones, newest first', () => {
    const pick = (random: number): string => pickBackup('s3://b/p/', list, { kind: 'random', withinDays: 7, nowMs: now, random }).key;
    expect(pick(0)).toBe('p/db1-2026-12-04.sql.gz');
    expect(pick(0.5)).toBe('p/db1-2026-12-03.sql.gz');
    expect(pick(0.99)).toBe('p/db1-2026-12-01.sql.gz');
  });

  test('random with nothing recent says when the newest is from', () => {
    const err = thrown(() => pickBackup('s3://b/p/', list, { kind: 'random', withinDays: 0.1, nowMs: now, random: 0 }));
    expect(err?.type).toBe('BadConfig');
    expect(err?.message).toContain('no backup under s3://b/p/ in the last 0.1 days: the newest, p/db1-2026-12-04.sql.gz');
  });

  test('a named one, by key or by its last path part', () => {
    expect(pickBackup('s3://b/p/', list, { kind: 'named', key: 'p/db1-2026-12-01.sql.gz' }).key).toBe('p/db1-2026-12-01.sql.gz');
    expect(pickBackup('s3://b/p/', list, { kind: 'named', key: 'db1-2026-12-01.sql.gz' }).key).toBe('p/db1-2026-12-01.sql.gz');
  });

  test('a named one that is absent: clear error naming the newest present', () => {
    const err = thrown(() => pickBackup('s3://b/p/', list, { kind: 'named', key: 'db1-2025.sql.gz' }));
    expect(err?.type).toBe('BadConfig');
    expect(err?.message).toContain('no backup db1-2025.sql.gz under s3://b/p/; the newest there: p/db1-2026-12-04.sql.gz');
  });

  test('an empty listing: check the prefix', () => {
    expect(thrown(() => pickBackup('s3://b/p/', []))?.message).toBe('no backups under s3://b/p/ — check the prefix');
  });

  test('equal times pick by key, so the same listing always gives the same backup', () => {
    const tie: ListedBackup[] = [
      { key: 'b', size: 1, modifiedMs: 5 },
      { key: 'a', size: 1, modifiedMs: 5 },
    ];
    expect(pickBackup('/d', tie).key).toBe('a');
  });
});
