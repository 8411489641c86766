/**
 * The artifact store on S3, on real components: a worker whose store is a prefix in a bucket of
 * the rclone S3 server (deploy/s3.sh, credentials by reference), Temporal, Docker and a live
 * MariaDB 10.11 source. A drill publishes its backup, report and last outcome as objects and
 * passes; an upload without its manifest is ignored; a changed object is caught by its sha256;
 * retention removes the older backup; an artifact above the multipart threshold goes up in parts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createActivities } from '../../activities';
import type { PublishedBackup, SourceFacts } from '../../activities';
import { listPublishedBackups } from '../../activities/artifacts/catalog';
import { openArtifactStore } from '../../adapters/artifact-store';
import type { ArtifactStoreConfig } from '../../adapters/artifact-store';
import { readReports } from '../../adapters/report-files';
import { awaitDrill, startDrill } from '../../client/drills';
import { drillTimeline } from '../../bench/history';
import { janitorWorkflow } from '../../workflows';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const home = process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill');
const credentialsDir = path.join(home, 's3-credentials');
const keyRef = { file: path.join(credentialsDir, 'access-key-id') };
const secretRef = { file: path.join(credentialsDir, 'secret-access-key') };
const endpoint = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
const bucket = `rd-store-test-${Date.now().toString(36)}`;
const PREFIX = 'engine/';
const storeConfig = (over: Partial<ArtifactStoreConfig> = {}): ArtifactStoreConfig => ({
  location: `s3://${bucket}/${PREFIX}`,
  s3: { endpoint, accessKeyIdRef: keyRef, secretAccessKeyRef: secretRef },
  ...over,
});
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('artifact store on S3 (mariadb)', () => {
  let admin: S3Client;
  let h: Harness;
  let source: LiveSource;
  let facts: SourceFacts;
  let acts: ReturnType<typeof createActivities>;
  let drilledBackup: PublishedBackup;
  let laterBackup: PublishedBackup;

  const keysUnder = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  };
  const object = async (key: string): Promise<Buffer> => Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const backupsPrefix = () => `${PREFIX}${source.spec.name}/backups/`;

  beforeAll(async () => {
    if (!existsSync(secretRef.file)) throw new Error(`no S3 credentials in ${credentialsDir}: run deploy/s3.sh start`);
    admin = new S3Client({
      endpoint, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: await readFile(keyRef.file, 'utf8'), secretAccessKey: await readFile(secretRef.file, 'utf8') },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
      throw new Error(`the S3 server at ${endpoint} refused CreateBucket (${err.name}: ${err.message}): run deploy/s3.sh start`);
    });
    h = await startHarness('store', { store: storeConfig() });
    source = await startLiveSource(h.runtime, testServer('mariadb'), h.home, `it-store-${process.pid}`);
    acts = createActivities({ runtime: h.runtime, paths: h.paths });
    facts = await acts.inspectSource(source.spec);
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
    if (!admin) return;
    try {
      for (const key of await keysUnder('')) await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    } finally {
      admin.destroy();
    }
  });

  test('a drill with the store on S3 passes; its backup, report and last outcome are objects, and no result names a host path', async () => {
    source.writer.start();
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('drill'), request: { source: source.spec } });
    const { report, failure } = await awaitDrill(handle);
    await source.writer.stop();
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');

    const backupId = report!.backup.artifactPath.split('/').at(-2)!;
    const backupKeys = await keysUnder(backupsPrefix());
    // Published: the dump and its manifest; the upload's temporary prefix is gone.
    expect(backupKeys).toEqual([`${backupsPrefix()}${backupId}/dump.sql.gz`, `${backupsPrefix()}${backupId}/manifest.json`]);
    const manifest = JSON.parse((await object(`${backupsPrefix()}${backupId}/manifest.json`)).toString());
    const dump = await object(`${backupsPrefix()}${backupId}/dump.sql.gz`);
    expect({ bytes: dump.length, sha256: sha256(dump) }).toEqual({ bytes: manifest.bytes, sha256: manifest.sha256 });
    expect(report!.backup.artifactPath).toBe(`s3://${bucket}/${backupsPrefix()}${backupId}/dump.sql.gz`);

    // The backup's activities passed references to the store, never a path on the worker's disk.
    const timeline = drillTimeline(await handle.fetchHistory());
    const published = timeline.spans.find((s) => s.activity === 'takeLogicalBackup' && s.outcome === 'completed')!.result as PublishedBackup;
    expect([published.manifestPath, published.backupDir, published.dumpPath].every((p) => p.startsWith(`s3://${bucket}/`))).toBe(true);

    expect(await keysUnder(`${PREFIX}${source.spec.name}/reports/`)).toEqual([
      `${PREFIX}${source.spec.name}/reports/${handle.workflowId}/report.json`,
      `${PREFIX}${source.spec.name}/reports/${handle.workflowId}/report.md`,
    ]);
    expect(JSON.parse((await object(`${PREFIX}${source.spec.name}/last-outcome.json`)).toString())).toMatchObject({ outcome: 'passed', drillId: handle.workflowId });
    expect((await readReports(h.paths, source.spec.name)).map((r) => r.drillId)).toEqual([handle.workflowId]);
    // Nothing of the backup stayed on the worker's disk: the drill's work folder (its staged copy) is gone.
    expect(await readdir(path.join(h.paths.artifactRoot, source.spec.name, 'backups')).catch(() => [])).toEqual([]);
    expect(await readdir(h.paths.workRoot).catch(() => [])).not.toContain(handle.workflowId);
    drilledBackup = (await listPublishedBackups(h.paths, source.spec.name)).map((c) => ({ manifestPath: c.manifestPath }) as PublishedBackup)[0]!;
    expect(drilledBackup.manifestPath).toBe(`s3://${bucket}/${backupsPrefix()}${backupId}/manifest.json`);
  });

  test('the binlog archive is in S3 with its index; a PITR on a host without a local copy pulls it and reaches the position', async () => {
    const binlogs = `${PREFIX}${source.spec.name}/binlogs/`;
    const index = JSON.parse((await object(`${binlogs}index.json`)).toString()) as { files: { file: string; bytes: number; sha256: string }[] };
    expect(index.files.length).toBeGreaterThan(0);
    for (const f of index.files) {
      const body = await object(`${binlogs}${f.file}`);
      expect([f.file, body.length, sha256(body)]).toEqual([f.file, f.bytes, f.sha256]);
    }
    // Another host: nothing of the archive on its disk. The plan and the replay pull it from S3.
    await rm(path.join(h.paths.artifactRoot, source.spec.name, 'binlogs'), { recursive: true, force: true });
    const [status] = await source.admin<{ File: string; Position: number }>('SHOW MASTER STATUS');
    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('pitr'),
      request: { source: source.spec, backup: { manifest: drilledBackup.manifestPath }, target: { kind: 'position', file: status!.File, position: Number(status!.Position) } },
    });
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.recoveryPoint!.coordinates).toEqual({ file: status!.File, position: Number(status!.Position) });
    const pulled = await readdir(path.join(h.paths.artifactRoot, source.spec.name, 'binlogs'));
    expect(pulled).toEqual(expect.arrayContaining(index.files.map((f) => f.file)));
  });

  test('objects without a manifest are not a backup: not listed, not verified, not removed by retention', async () => {
    laterBackup = await acts.takeLogicalBackup({ drillId: h.uniqueId('later'), source: source.spec, facts });
    const dump = await object(`${backupsPrefix()}${laterBackup.dumpPath.split('/').at(-2)}/dump.sql.gz`);
    // An upload that stopped before its manifest, and one still under its temporary prefix.
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${backupsPrefix()}unfinished/dump.sql.gz`, Body: dump }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: `${backupsPrefix()}.partial-uploading/dump.sql.gz`, Body: dump }));
    const listed = (await listPublishedBackups(h.paths, source.spec.name)).map((c) => c.manifestPath.split('/').at(-2));
    expect(listed.sort()).toEqual([drilledBackup.manifestPath.split('/').at(-2), laterBackup.manifestPath.split('/').at(-2)].sort());
    await expect(acts.verifyBackup({ manifestPath: `s3://${bucket}/${backupsPrefix()}unfinished/manifest.json` })).rejects.toMatchObject({ type: 'BadConfig', message: expect.stringContaining('never published') });
  });

  test('retention on S3 removes the older backup and keeps the newest, an unpublished upload reported for a human', async () => {
    const [result] = await h.client.workflow.execute(janitorWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('janitor'),
      args: [{ retention: [{ source: source.spec.name, keepBackups: 1 }], sweepLeftovers: false }],
    }).then((r) => r.retention ?? []);
    const older = drilledBackup.manifestPath.split('/').at(-2)!;
    const newer = laterBackup.manifestPath.split('/').at(-2)!;
    expect(result!.removedBackups.map((b) => b.folder)).toEqual([older]);
    expect(result!.reported).toEqual([expect.objectContaining({ folder: 'unfinished' })]);
    const keys = await keysUnder(backupsPrefix());
    expect(keys.filter((k) => k.includes(`/${older}/`) || k.includes('.pruning-'))).toEqual([]);
    expect(keys).toEqual(expect.arrayContaining([`${backupsPrefix()}${newer}/manifest.json`, `${backupsPrefix()}unfinished/dump.sql.gz`]));
  });

  test('a backup whose object changed after publication is refused by its sha256 when it is staged', async () => {
    const key = `${backupsPrefix()}${laterBackup.dumpPath.split('/').at(-2)}/dump.sql.gz`;
    const dump = await object(key);
    const changed = Buffer.from(dump);
    changed[changed.length - 20] = changed[changed.length - 20]! ^ 0xff;
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: changed }));
    const err = await acts.verifyBackup({ manifestPath: laterBackup.manifestPath }).then(() => undefined, (e: unknown) => e as { type: string; message: string });
    expect(err).toMatchObject({ type: 'ArtifactCorrupt', message: expect.stringContaining(`s3://${bucket}/${key}`) });
    expect(err!.message).toContain('changed after publication');
  });

  test('an artifact above the multipart threshold goes up in parts and comes back byte for byte', async () => {
    const store = await openArtifactStore(h.paths.artifactRoot, storeConfig({ multipartThresholdMb: 5, partMb: 5 }));
    try {
      const file = path.join(h.home, 'large.bin');
      const body = randomBytes(11 * 1024 * 1024 + 7);
      await writeFile(file, body);
      const put = await store.putFile('multipart/large.bin', file);
      expect(put).toEqual({ bytes: body.length, sha256: sha256(body) });
      const head = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}multipart/` }));
      expect(head.Contents?.[0]?.Size).toBe(body.length);
      const got = await store.getFile('multipart/large.bin', path.join(h.home, 'large.back'));
      expect(got).toEqual(put);
      expect(sha256(await readFile(path.join(h.home, 'large.back')))).toBe(put.sha256);
    } finally {
      store.close();
    }
  });

  test('a store whose bucket does not exist is refused with a message naming it', async () => {
    const store = await openArtifactStore(h.paths.artifactRoot, { ...storeConfig(), location: 's3://rd-no-such-bucket/engine/' });
    try {
      await expect(store.check()).rejects.toMatchObject({ type: 'BadConfig', message: expect.stringContaining("bucket 'rd-no-such-bucket' does not exist") });
    } finally {
      store.close();
    }
  });
});
