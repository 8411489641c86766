/**
 * The object-store port on real storage: the S3 adapter against the rclone S3 server that
 * deploy/s3.sh runs on 127.0.0.1 (credentials read from the files it generated, by reference),
 * and the local-folder adapter on a temporary folder. Objects are arranged with the SDK itself.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openObjectStore } from '../../adapters/object-store';
import type { ObjectStore, ObjectStoreOptions } from '../../adapters/object-store';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import type { S3LocationOptions } from '../../domain/artifacts/locations';

const home = process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill');
const credentialsDir = path.join(home, 's3-credentials');
const keyRef = { file: path.join(credentialsDir, 'access-key-id') };
const secretRef = { file: path.join(credentialsDir, 'secret-access-key') };
const endpoint = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
const bucket = `rd-s3-test-${Date.now().toString(36)}`;
const MiB = 1024 * 1024;

const s3Options = (over: Partial<S3LocationOptions> = {}): S3LocationOptions => ({ endpoint, accessKeyIdRef: keyRef, secretAccessKeyRef: secretRef, ...over });
const s3Store = (location: string, over: Partial<S3LocationOptions> = {}, options?: ObjectStoreOptions): Promise<ObjectStore> =>
  openObjectStore(parseBackupLocation(location, s3Options(over)), options);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The DrillError a promise rejects with (fails the test when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<{ type: string; message: string; details: unknown }> {
  const err = await promise.then(() => undefined, (e: unknown) => e as { type: string; message: string; details: unknown });
  if (err === undefined) throw new Error('expected a failure');
  return err;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('S3 object store on the rclone server', () => {
  let admin: S3Client;
  let secret: string;
  const stores: ObjectStore[] = [];
  const track = async (store: Promise<ObjectStore>) => {
    const s = await store;
    stores.push(s);
    return s;
  };
  /** Key -> content, in the order they were put (oldest first). */
  const daily: Array<[string, Buffer]> = [
    ['daily/orders-2026-11-18.sql.gz', Buffer.from('eighteenth')],
    ['daily/orders-2026-11-19.sql.gz', Buffer.from('nineteenth, a little longer')],
    ['daily/orders-2026-11-20.sql.gz', Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz')],
    ['daily/orders-2026-11-20.log', Buffer.from('not a backup')],
  ];

  beforeAll(async () => {
    if (!existsSync(secretRef.file)) throw new Error(`no S3 credentials in ${credentialsDir}: run deploy/s3.sh start`);
    secret = await readFile(secretRef.file, 'utf8');
    admin = new S3Client({
      endpoint, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: await readFile(keyRef.file, 'utf8'), secretAccessKey: secret },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
      throw new Error(`the S3 server at ${endpoint} refused CreateBucket (${err.name}: ${err.message}): run deploy/s3.sh start`);
    });
    // rclone keeps an object's modification time from the mtime metadata (seconds since the epoch).
    const base = Date.parse('2026-11-18T03:00:00Z') / 1000;
    for (const [i, [key, body]] of daily.entries()) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: { mtime: String(base + i * 86400) } }));
    }
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'daily/archive/orders-2026-10-01.sql.gz', Body: Buffer.from('older, in a sub-folder') }));
  });

  afterAll(async () => {
    for (const s of stores) s.close();
    if (!admin) return;
    try {
      const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const o of listed.Contents ?? []) await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
      await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    } finally {
      admin.destroy();
    }
  });

  test('lists a prefix newest first, with size, time and ETag, a sub-folder as one directory entry', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`));
    const listed = await store.list();
    expect(listed.map((o) => o.key)).toEqual(['archive/', 'orders-2026-11-20.log', 'orders-2026-11-20.sql.gz', 'orders-2026-11-19.sql.gz', 'orders-2026-11-18.sql.gz']);
    const newestDump = listed.find((o) => o.key === 'orders-2026-11-20.sql.gz')!;
    expect(newestDump).toEqual({ key: 'orders-2026-11-20.sql.gz', kind: 'file', size: 36, modified: new Date('2026-11-20T03:00:00Z'), etag: md5(daily[2]![1]) });
    expect(listed[0]).toMatchObject({ kind: 'directory', size: 'older, in a sub-folder'.length });
  });

  test('listFiles lists every file under a directory, keys relative to the location', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`));
    expect(await store.listFiles('archive/')).toEqual([expect.objectContaining({ key: 'archive/orders-2026-10-01.sql.gz', kind: 'file', size: 22 })]);
    expect((await readAll(await store.openRead('archive/orders-2026-10-01.sql.gz'))).toString()).toBe('older, in a sub-folder');
    expect(await store.listFiles('nothing/')).toEqual([]);
  });

  test('a pattern in the location keeps only matching names', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/*.sql.gz`));
    expect((await store.list()).map((o) => o.key)).toEqual(['orders-2026-11-20.sql.gz', 'orders-2026-11-19.sql.gz', 'orders-2026-11-18.sql.gz']);
    expect((await store.list('orders-2026-11-1')).map((o) => o.key)).toEqual(['orders-2026-11-19.sql.gz', 'orders-2026-11-18.sql.gz']);
  });

  test('pages through a listing longer than one response', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`, {}, { pageSize: 1 }));
    expect(await store.list()).toHaveLength(5);
  });

  test('a prefix with no objects lists as empty, not as an error', async () => {
    const store = await track(s3Store(`s3://${bucket}/nothing-here/`));
    expect(await store.list()).toEqual([]);
  });

  test('head describes an object, and says undefined for a missing one', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`));
    expect(await store.head('orders-2026-11-19.sql.gz')).toMatchObject({ size: daily[1]![1].length, etag: md5(daily[1]![1]) });
    expect(await store.head('orders-1999-01-01.sql.gz')).toBeUndefined();
  });

  test('reads a byte range, both ends inclusive, and from an offset to the end', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`));
    expect((await readAll(await store.openRead('orders-2026-11-20.sql.gz', { start: 10, end: 19 }))).toString()).toBe('abcdefghij');
    expect((await readAll(await store.openRead('orders-2026-11-20.sql.gz', { start: 30 }))).toString()).toBe('uvwxyz');
    expect((await readAll(await store.openRead('orders-2026-11-20.sql.gz'))).toString()).toBe(daily[2]![1].toString());
    expect(await readAll(await store.openRead('orders-2026-11-20.sql.gz', { start: 36 }))).toHaveLength(0);
  });

  test('streams a 20 MiB object in chunks, byte for byte', async () => {
    const big = Buffer.alloc(20 * MiB);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'big/base.xb', Body: big }));
    const store = await track(s3Store(`s3://${bucket}/big/`));
    expect(await store.list()).toEqual([expect.objectContaining({ key: 'base.xb', size: 20 * MiB, etag: md5(big) })]);
    const hash = createHash('md5');
    let chunks = 0;
    let largest = 0;
    for await (const chunk of await store.openRead('base.xb')) {
      hash.update(chunk as Buffer);
      chunks++;
      largest = Math.max(largest, (chunk as Buffer).length);
    }
    expect(hash.digest('hex')).toBe(md5(big));
    expect(chunks).toBeGreaterThan(10);
    expect(largest).toBeLessThanOrEqual(2 * MiB);
  });

  test('a wrong secret is refused naming the reference, never the secret', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rd-s3-secret-'));
    const wrongRef = { file: path.join(dir, 'wrong-secret') };
    await writeFile(wrongRef.file, 'not-the-secret-0123456789', { mode: 0o600 });
    const store = await track(s3Store(`s3://${bucket}/daily/`, { secretAccessKeyRef: wrongRef }, { maxAttempts: 1 }));
    const err = await failureOf(store.list());
    expect(err.type).toBe('BadConfig');
    expect(err.message).toContain(`the secret access key in file ${wrongRef.file}`);
    expect(err.message).toContain('SignatureDoesNotMatch');
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toMatch(/not-the-secret|${secret}/);
    await rm(dir, { recursive: true });
  });

  test('an unknown access key id is refused naming its reference', async () => {
    process.env.RD_S3_TEST_WRONG_KEY = 'AKIDNOTKNOWNHERE0000';
    const store = await track(s3Store(`s3://${bucket}/daily/`, { accessKeyIdRef: { env: 'RD_S3_TEST_WRONG_KEY' } }, { maxAttempts: 1 }));
    const err = await failureOf(store.list());
    expect(err.type).toBe('BadConfig');
    expect(err.message).toMatch(/environment variable RD_S3_TEST_WRONG_KEY/);
    expect(err.message).not.toContain(secret);
  });

  test('a bucket that does not exist is named as such', async () => {
    const store = await track(s3Store('s3://no-such-bucket-here/daily/'));
    const err = await failureOf(store.list());
    expect(err.type).toBe('BadConfig');
    expect(err.message).toMatch(/bucket 'no-such-bucket-here' does not exist on http:\/\/127\.0\.0\.1:\d+; check the bucket/);
  });

  test('an object deleted after listing fails its read as in flight (retryable)', async () => {
    const store = await track(s3Store(`s3://${bucket}/daily/`));
    const err = await failureOf(store.openRead('orders-1999-01-01.sql.gz'));
    expect(err.type).toBe('ArtifactInFlight');
    expect(err.message).toContain(`reading s3://${bucket}/daily/orders-1999-01-01.sql.gz`);
  });

  test('an endpoint where nothing answers is a transient failure naming it', async () => {
    const port = await closedPort();
    const store = await track(s3Store(`s3://${bucket}/daily/`, { endpoint: `http://127.0.0.1:${port}` }, { maxAttempts: 1 }));
    const err = await failureOf(store.list());
    expect(err.type).toBe('Transient');
    expect(err.message).toContain(`http://127.0.0.1:${port} does not answer (ECONNREFUSED)`);
  });

  test('a missing credential file is a configuration error naming the file', async () => {
    const err = await failureOf(s3Store(`s3://${bucket}/daily/`, { secretAccessKeyRef: { file: '/nonexistent/s3-secret' } }));
    expect(err.type).toBe('BadConfig');
    expect(err.message).toMatch(/cannot read secret file \/nonexistent\/s3-secret \(ENOENT\)/);
  });
});

describe('local folder object store', () => {
  let dir: string;
  const day = (d: number) => new Date(Date.UTC(2026, 10, d, 3));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rd-local-store-'));
    const files: Array<[string, string, number]> = [
      ['orders-18.sql.gz', 'eighteenth', 18], ['orders-20.sql.gz', '0123456789abcdef', 20],
      ['orders-19.sql.gz', 'nineteenth', 19], ['notes.txt', 'not a backup', 21],
    ];
    for (const [name, body, d] of files) {
      await writeFile(path.join(dir, name), body);
      await utimes(path.join(dir, name), day(d), day(d));
    }
    await mkdir(path.join(dir, 'archive'));
    await writeFile(path.join(dir, 'archive', 'orders-01.sql.gz'), 'in a sub-folder');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const local = (location: string) => openObjectStore(parseBackupLocation(location));

  test('lists matching files newest first by modification time, a sub-folder as one directory entry', async () => {
    const store = await local(`${dir}/*.sql.gz`);
    const listed = await store.list();
    expect(listed.map((o) => o.key)).toEqual(['orders-20.sql.gz', 'orders-19.sql.gz', 'orders-18.sql.gz']);
    expect(listed[0]).toMatchObject({ kind: 'file', size: 16, modified: day(20) });
    const all = await local(`${dir}/`).then((s) => s.list());
    expect(all.map((o) => o.key)).toEqual(['archive/', 'notes.txt', 'orders-20.sql.gz', 'orders-19.sql.gz', 'orders-18.sql.gz']);
    expect(all[0]).toMatchObject({ kind: 'directory', size: 'in a sub-folder'.length });
  });

  test('listFiles lists a sub-folder recursively, and its files read by their relative keys', async () => {
    await mkdir(path.join(dir, 'archive', 'deeper'));
    await writeFile(path.join(dir, 'archive', 'deeper', 'x.sql'), 'x');
    const store = await local(`${dir}/`);
    expect((await store.listFiles('archive/')).map((f) => f.key)).toEqual(['archive/deeper/x.sql', 'archive/orders-01.sql.gz']);
    expect((await readAll(await store.openRead('archive/deeper/x.sql'))).toString()).toBe('x');
    expect(await failureOf(store.listFiles('archive'))).toMatchObject({ type: 'BadConfig' });
    await rm(path.join(dir, 'archive', 'deeper'), { recursive: true });
  });

  test('ranged and whole reads', async () => {
    const store = await local(`${dir}/`);
    expect((await readAll(await store.openRead('orders-20.sql.gz', { start: 10, end: 12 }))).toString()).toBe('abc');
    expect((await readAll(await store.openRead('orders-20.sql.gz', { start: 14 }))).toString()).toBe('ef');
    expect((await readAll(await store.openRead('orders-20.sql.gz'))).toString()).toBe('0123456789abcdef');
    expect(await readAll(await store.openRead('orders-20.sql.gz', { start: 16 }))).toHaveLength(0);
  });

  test('an empty file reads as no bytes', async () => {
    await writeFile(path.join(dir, 'empty.sql'), '');
    const store = await local(`${dir}/`);
    expect(await readAll(await store.openRead('empty.sql'))).toHaveLength(0);
    await rm(path.join(dir, 'empty.sql'));
  });

  test('a file that shrinks while it is read ends in an error, not a short clean end', async () => {
    const name = 'growing.sql';
    await writeFile(path.join(dir, name), Buffer.alloc(8 * MiB, 1));
    const store = await local(`${dir}/`);
    const stream = await store.openRead(name);
    await truncate(path.join(dir, name), MiB);
    const err = await failureOf(readAll(stream));
    expect(err.type).toBe('Transient');
    expect(err.message).toMatch(/the read ended after \d+ of 8388608 bytes/);
    await rm(path.join(dir, name));
  });

  test('the ETag changes when the file does', async () => {
    const store = await local(`${dir}/`);
    const before = (await store.head('notes.txt'))!.etag;
    await writeFile(path.join(dir, 'notes.txt'), 'not a backup, edited');
    expect((await store.head('notes.txt'))!.etag).not.toBe(before);
    expect(await store.head('missing.sql')).toBeUndefined();
  });

  test('a missing folder and a file given as a folder are configuration errors saying what to write', async () => {
    expect(await failureOf(local(`${dir}/no-such-folder/`).then((s) => s.list()))).toMatchObject({ type: 'BadConfig', message: expect.stringMatching(/no-such-folder on the worker host does not exist/) });
    expect(await failureOf(local(`${dir}/orders-20.sql.gz`).then((s) => s.list()))).toMatchObject({ type: 'BadConfig', message: expect.stringMatching(/is a file; a location names a folder/) });
  });

  test('a key that leaves the folder is refused', async () => {
    const store = await local(`${dir}/`);
    expect(await failureOf(store.openRead('../etc/passwd'))).toMatchObject({ type: 'BadConfig' });
  });
});
