import { describeCredentialRef, formatBackupLocation, matchesFileName, parseBackupLocation } from '../../domain/artifacts/locations';
import type { S3LocationOptions } from '../../domain/artifacts/locations';

/** The message of the BadConfig a parse throws; fails the test when it does not throw one. */
function problemWith(location: string, options?: S3LocationOptions): string {
  try {
    parseBackupLocation(location, options);
  } catch (e) {
    expect((e as { type?: string }).type).toBe('BadConfig');
    return (e as Error).message;
  }
  throw new Error(`'${location}' parsed without error`);
}

const keys = { accessKeyIdRef: { file: '/etc/rd/s3-key' }, secretAccessKeyRef: { env: 'S3_SECRET' } };

describe('parseBackupLocation: local folders', () => {
  test('a folder with a trailing slash is every file in it', () => {
    expect(parseBackupLocation('/backups/orders/')).toEqual({ kind: 'local', folder: '/backups/orders' });
  });

  test('a folder without the trailing slash is the same location', () => {
    expect(parseBackupLocation('/backups/orders')).toEqual({ kind: 'local', folder: '/backups/orders' });
  });

  test('a last segment with * or ? is a file-name pattern in its folder', () => {
    expect(parseBackupLocation('/backups/orders/*.sql.gz')).toEqual({ kind: 'local', folder: '/backups/orders', pattern: '*.sql.gz' });
    expect(parseBackupLocation('/b/dump-?.sql')).toEqual({ kind: 'local', folder: '/b', pattern: 'dump-?.sql' });
  });

  test('repeated slashes count as one', () => {
    expect(parseBackupLocation('//backups///orders//')).toEqual({ kind: 'local', folder: '/backups/orders' });
  });

  test('the root folder', () => {
    expect(parseBackupLocation('/*.sql')).toEqual({ kind: 'local', folder: '/', pattern: '*.sql' });
  });

  test('a relative path is refused, asking for the absolute path on the worker host', () => {
    expect(problemWith('backups/orders/')).toMatch(/relative path.*absolute path on the worker host/);
    expect(problemWith('./backups')).toMatch(/relative path/);
    expect(problemWith('~/backups')).toMatch(/relative path/);
  });

  test('. and .. segments are refused', () => {
    expect(problemWith('/backups/../etc/')).toMatch(/'\.' and '\.\.' are not allowed/);
  });

  test('a pattern in a folder name is refused: patterns match file names only', () => {
    expect(problemWith('/backups/*/dump.sql')).toMatch(/'\*' is a pattern in a folder name/);
  });

  test('S3 options on a local folder are refused, naming them', () => {
    expect(problemWith('/backups/', { endpoint: 'http://127.0.0.1:9768' })).toMatch(/endpoint apply to s3:\/\/ locations only/);
  });

  test('an empty location or one with stray spaces is refused', () => {
    expect(problemWith('')).toMatch(/empty/);
    expect(problemWith(' /backups/')).toMatch(/spaces/);
  });
});

describe('parseBackupLocation: S3', () => {
  test('bucket and prefix, with AWS defaults when no endpoint is given', () => {
    expect(parseBackupLocation('s3://team-backups/orders/daily/')).toEqual({
      kind: 's3', bucket: 'team-backups', prefix: 'orders/daily/', region: 'us-east-1', forcePathStyle: false,
    });
  });

  test('a prefix without the trailing slash is still a folder', () => {
    expect(parseBackupLocation('s3://team-backups/orders')).toMatchObject({ prefix: 'orders/' });
  });

  test('a bucket alone is its top level', () => {
    expect(parseBackupLocation('s3://team-backups')).toMatchObject({ bucket: 'team-backups', prefix: '' });
    expect(parseBackupLocation('s3://team-backups/')).toMatchObject({ bucket: 'team-backups', prefix: '' });
  });

  test('a pattern in the last segment', () => {
    expect(parseBackupLocation('s3://team-backups/orders/*.sql.zst')).toMatchObject({ prefix: 'orders/', pattern: '*.sql.zst' });
  });

  test('an endpoint means path-style by default; region, path style and references as given', () => {
    expect(parseBackupLocation('s3://b12/x/', { endpoint: 'http://127.0.0.1:9768/', ...keys })).toEqual({
      kind: 's3', bucket: 'b12', prefix: 'x/', endpoint: 'http://127.0.0.1:9768', region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: keys.accessKeyIdRef, secretAccessKey: keys.secretAccessKeyRef },
    });
    expect(parseBackupLocation('s3://b12/', { endpoint: 'https://s3.example.test', region: 'eu-west-3', forcePathStyle: false }))
      .toMatchObject({ region: 'eu-west-3', forcePathStyle: false });
  });

  test('no bucket', () => {
    expect(problemWith('s3:///orders/')).toMatch(/no bucket; write s3:\/\/bucket\/prefix\//);
    expect(problemWith('s3://')).toMatch(/no bucket/);
  });

  test('one slash after s3: is refused', () => {
    expect(problemWith('s3:/bucket/orders/')).toMatch(/two slashes/);
  });

  test('an http:// address is refused, pointing at s3:// and the endpoint option', () => {
    expect(problemWith('http://127.0.0.1:9768/bucket/orders/')).toMatch(/written s3:\/\/bucket\/prefix\/.*endpoint option/);
  });

  test('other schemes are refused by name', () => {
    expect(problemWith('gs://bucket/orders/')).toMatch(/gs:\/\/ is not supported/);
  });

  test('a server address in place of the bucket is refused', () => {
    expect(problemWith('s3://127.0.0.1:9768/orders/')).toMatch(/looks like a server address; put it in the endpoint option/);
  });

  test('credentials in the location are refused without echoing them as a bucket name', () => {
    const message = problemWith('s3://KEY:SECRET@bucket/orders/');
    expect(message).toMatch(/credentials never go into a location/);
  });

  test('invalid bucket names are refused with the rule', () => {
    expect(problemWith('s3://ab/')).toMatch(/not a bucket name \(3-63/);
    expect(problemWith('s3://-bucket/')).toMatch(/not a bucket name/);
  });

  test('an endpoint with a path or without http(s) is refused', () => {
    expect(problemWith('s3://bucket/', { endpoint: '127.0.0.1:9768' })).toMatch(/endpoint '127.0.0.1:9768' is not http\(s\):\/\/host\[:port\]/);
    expect(problemWith('s3://bucket/', { endpoint: 'http://127.0.0.1:9768/bucket' })).toMatch(/no path/);
  });

  test('one credential reference without the other is refused, naming the missing one', () => {
    expect(problemWith('s3://bucket/', { accessKeyIdRef: keys.accessKeyIdRef })).toMatch(/secretAccessKeyRef is missing/);
    expect(problemWith('s3://bucket/', { secretAccessKeyRef: keys.secretAccessKeyRef })).toMatch(/accessKeyIdRef is missing/);
  });
});

describe('matchesFileName', () => {
  test.each([
    ['*.sql.gz', 'orders-2026-11-20.sql.gz', true],
    ['*.sql.gz', 'orders.sql', false],
    ['*.sql.gz', '.sql.gz', true],
    ['dump-?.sql', 'dump-1.sql', true],
    ['dump-?.sql', 'dump-12.sql', false],
    ['*', 'anything', true],
    ['*', '', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['*2026*', 'orders-2026-11.sql', true],
    ['exact.sql', 'exact.sql', true],
    ['exact.sql', 'Exact.sql', false],
    ['[ab].sql', '[ab].sql', true],
    ['*.sql', 'sub/dump.sql', false],
    ['?', '/', false],
  ])('%s against %s: %s', (pattern, name, expected) => {
    expect(matchesFileName(pattern, name)).toBe(expected);
  });

  test('a pathological pattern stays fast', () => {
    const started = Date.now();
    expect(matchesFileName(`${'*a'.repeat(30)}b`, 'a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('formatting for messages', () => {
  test('locations read as written', () => {
    expect(formatBackupLocation(parseBackupLocation('/backups/orders/*.sql.gz'))).toBe('/backups/orders/*.sql.gz');
    expect(formatBackupLocation(parseBackupLocation('/*.sql'))).toBe('/*.sql');
    expect(formatBackupLocation(parseBackupLocation('s3://bucket/a/b', { endpoint: 'http://127.0.0.1:9768' }))).toBe('s3://bucket/a/b/ at http://127.0.0.1:9768');
  });

  test('a credential reference is named by where it is, never by what it holds', () => {
    expect(describeCredentialRef({ file: '/etc/rd/s3-key' })).toBe('file /etc/rd/s3-key');
    expect(describeCredentialRef({ env: 'S3_SECRET' })).toBe('environment variable S3_SECRET');
  });
});
