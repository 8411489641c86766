/** The artifact store's pure parts: its key layout, what counts as published, references, multipart plans, and its configuration. */
import { parseConfigText } from '../../config/load';
import { MiB, StoreKeys, formatS3Ref, multipartPlan, parseS3Ref, publishedFolders, unpublishedFolders } from '../../domain/artifacts/store-layout';
import { configProblems } from './expect-error';

describe('store layout', () => {
  test('keys put a source\'s backups, reports and status under its own safe name', () => {
    expect(StoreKeys.manifest('orders', 'drill-1')).toBe('orders/backups/drill-1/manifest.json');
    expect(StoreKeys.report('orders', 'pitr:2026/1')).toBe('orders/reports/pitr_2026_1/');
    expect(StoreKeys.lastOutcome('orders')).toBe('orders/last-outcome.json');
  });

  test('a folder is published only once its manifest exists; partial and pruning folders never are', () => {
    const keys = ['a/dump.sql.gz', 'a/manifest.json', 'b/dump.sql.gz', '.partial-c/dump.sql.gz', '.partial-c/manifest.json', '.pruning-d', 'e/sub/manifest.json', 'loose.json'];
    expect(publishedFolders(keys, 'manifest.json')).toEqual(['a']);
    expect(unpublishedFolders(keys, 'manifest.json')).toEqual(['b', 'e']);
  });

  test('an s3 reference reads back as bucket and key; anything else is not one', () => {
    expect(parseS3Ref(formatS3Ref({ bucket: 'rd', key: 'p/orders/backups/x/dump.sql.gz' }))).toEqual({ bucket: 'rd', key: 'p/orders/backups/x/dump.sql.gz' });
    expect(parseS3Ref('/home/rd/artifacts/orders/backups/x/dump.sql.gz')).toBeUndefined();
  });
});

describe('multipart plans', () => {
  test('below the threshold an artifact goes in one request', () => {
    expect(multipartPlan(10 * MiB, 64 * MiB, 16 * MiB)).toEqual([]);
  });

  test('above it, parts of the given size cover every byte once, the last one shorter', () => {
    const parts = multipartPlan(100 * MiB + 1, 64 * MiB, 16 * MiB);
    expect(parts).toHaveLength(7);
    expect(parts[0]).toEqual({ start: 0, end: 16 * MiB - 1 });
    expect(parts.at(-1)).toEqual({ start: 96 * MiB, end: 100 * MiB });
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.start).toBe(parts[i - 1]!.end + 1);
  });

  test('parts grow so that no artifact needs more than 10 000, and never fall under S3\'s 5 MiB', () => {
    expect(multipartPlan(1024 * 1024 * MiB, 64 * MiB, 16 * MiB).length).toBeLessThanOrEqual(10_000);
    expect(multipartPlan(20 * MiB, 1, 1)[0]).toEqual({ start: 0, end: 5 * MiB - 1 });
  });
});

describe('store configuration', () => {
  const config = (store: string) => `store:\n${store}sources:\n  orders:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n`;

  test('an S3 store names its bucket, prefix, server and key references', () => {
    const parsed = parseConfigText(config('  location: s3://rd-artifacts/prod/\n  s3: { endpoint: "http://127.0.0.1:9768", accessKeyIdRef: { file: /etc/rd/key }, secretAccessKeyRef: { env: RD_S3_SECRET } }\n'));
    expect(parsed.store).toEqual({ location: 's3://rd-artifacts/prod/', s3: { endpoint: 'http://127.0.0.1:9768', accessKeyIdRef: { file: '/etc/rd/key' }, secretAccessKeyRef: { env: 'RD_S3_SECRET' } } });
  });

  test('a bad store is refused before anything starts, saying what to write', () => {
    expect(configProblems(config('  location: s3://rd-artifacts/*.gz\n'))).toContain('store.location');
    expect(configProblems(config('  location: artifacts\n'))).toContain("a relative path; write the folder's absolute path");
    expect(configProblems(config('  location: s3://rd-artifacts/\n  s3: { accessKeyIdRef: { file: /k } }\n'))).toContain('secretAccessKeyRef is missing');
    expect(configProblems(config('  location: s3://rd/\n'))).toContain('is not a bucket name');
    expect(configProblems(config('  location: s3://key:secret@rd-artifacts/\n'))).toContain('store.location');
  });
});
