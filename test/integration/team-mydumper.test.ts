/**
 * A team's mydumper directories, made by Debian's mydumper 0.10 on the host (deploy/up.sh
 * installs it) against the live source's socket, as a cron job would: verified, listed, drilled
 * from a folder and from the S3 server, rolled forward to a binlog position, and refused before
 * any sandbox while mydumper is still writing (metadata.partial) or after it died.
 *
 * mydumper 0.10 dumps MySQL 9.7 but records no binlog position there (SHOW MASTER STATUS is
 * gone since MySQL 8.4): MySQL directories are drilled as taken; MariaDB ones roll forward.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillRequestInput } from '../../config/schema';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { KEY_FILE, S3_ENDPOINT, SECRET_FILE, removeBucket, s3Admin } from './s3-bucket';
import { cli } from './team-cli';
import { ensureWorkerBuild } from './worker-process';

const run = Date.now().toString(36);

/** What a team's cron line runs: mydumper on the host, through the server's socket. */
async function mydumper(source: LiveSource, out: string, extra: string[] = []): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true }); // mydumper makes the last level only
  const args = ['--socket', source.socketPath, '--user', 'root', '--database', 'university', '--outputdir', out, '--triggers', '--events', '--routines', '--verbose', '1', ...extra];
  return new Promise((resolve, reject) => execFile('mydumper', args, (err, _stdout, stderr) => (err ? reject(new Error(`mydumper failed: ${stderr}`)) : resolve())));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(BOTH_FLAVORS)("a team's mydumper directories of $name", (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let dir: string;
  let team: string;
  let s3: S3Client;
  const bucket = `rd-mydumper-${flavor}-${run}`;
  const s3Options = { endpoint: S3_ENDPOINT, accessKeyIdRef: { file: KEY_FILE }, secretAccessKeyRef: { file: SECRET_FILE } };

  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness(`mydumper-${server.id}`);
    dir = await mkdtemp(path.join(os.tmpdir(), `rd-mydumper-${flavor}-`));
    team = path.join(dir, 'nightly');
    source = await startLiveSource(h.runtime, server, dir, `it-mydumper-${server.id}-${process.pid}`);
    source.writer.start();
    await mydumper(source, path.join(team, 'university-1'));
    await sleep(1100);
    await mydumper(source, path.join(team, 'university-2'), ['--compress']);
    s3 = await s3Admin();
  });
  afterAll(async () => {
    try {
      s3?.destroy();
      await source?.destroy();
    } finally {
      await h?.close();
      await removeBucket(bucket).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  const drillOf = async (team: NonNullable<NonNullable<DrillRequestInput['backup']>['team']>, id: string, extra: Partial<DrillRequestInput> = {}) => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId(id), request: { source: { ...source.spec, databases: ['university'] }, backup: { team }, ...extra } });
    return { drillId: handle.workflowId, ...(await awaitDrill(handle)) };
  };

  test('a plain and a compressed (-c) directory pass verify, with the coordinates mydumper recorded', async () => {
    for (const [name, compression] of [['university-1', undefined], ['university-2', 'gzip']] as const) {
      const r = await cli(['verify', path.join(team, name)]);
      expect(r.json.failure).toBeUndefined();
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ ok: true, format: { kind: 'mydumper', container: 'directory', ...(compression ? { memberCompression: compression } : {}) }, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const coordinates = r.json.coordinates as { found: boolean; reason?: string };
      if (flavor === 'mariadb') expect(coordinates).toMatchObject({ found: true, point: { coordinates: { file: expect.stringMatching(/-bin\.\d{6}$/) } } });
      else expect(coordinates.reason).toMatch(/MySQL 8\.4\+/);
    }
  });

  test('the folder lists each directory as one backup, newest first, with its detected format', async () => {
    const config = path.join(dir, 'local.yaml');
    await writeFile(config, ['sources:', '  shop:', `    connection: { socket: ${source.socketPath} }`, '    user: root', '    teamBackups:', `      location: ${team}/`].join('\n') + '\n');
    const listed = await cli(['-c', config, 'backups', 'shop']);
    expect(listed.code).toBe(0);
    const backups = listed.json.backups as { key: string; kind: string; format?: string; bytes: number }[];
    expect(backups.map((b) => [b.key, b.kind])).toEqual([['university-2/', 'directory'], ['university-1/', 'directory']]);
    expect(backups[0]!.format).toMatch(/^mydumper directory, gzip files, databases \(university\)/);
    expect(backups[1]!.format).toMatch(/^mydumper directory, databases \(university\)/);
    expect(backups[1]!.bytes).toBeGreaterThan(backups[0]!.bytes);
  });

  test('metadata.partial: a dump still running is ArtifactInFlight; one idle for hours died, and its drill is refused before any sandbox', async () => {
    const cut = path.join(dir, 'cut', 'university-cut');
    await mydumper(source, cut);
    await rename(path.join(cut, 'metadata'), path.join(cut, 'metadata.partial'));
    const running = await cli(['verify', cut]);
    expect(running.code).toBe(1);
    expect(running.json.failure?.type).toBe('ArtifactInFlight');
    const hoursAgo = new Date(Date.now() - 3 * 3600_000);
    for (const f of await readdir(cut)) await utimes(path.join(cut, f), hoursAgo, hoursAgo);
    const { drillId, failure } = await drillOf({ location: path.dirname(cut), pick: 'latest' }, 'mydumper-cut');
    expect(failure?.type).toBe('DumpTruncated');
    expect(failure?.message).toMatch(/metadata\.partial/);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('the newest directory of the folder is drilled: loaded in parallel, rows counted per table, checked', async () => {
    const { report, failure } = await drillOf({ location: team, pick: 'latest' }, 'mydumper-local');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.artifactPath).toBe(`${team}/university-2/`);
    expect(report?.checks.every((c) => c.passed)).toBe(true);
    if (flavor === 'mariadb') {
      // Rolled forward from mydumper's position to a checkpoint, compared table by table.
      expect(report?.checks.filter((c) => c.kind === 'checksum').length).toBeGreaterThan(3);
      expect(report?.recoveryPoint?.coordinates).not.toEqual(report?.backup.coordinates);
    } else {
      expect(report?.backup.notRolledForward).toMatch(/MySQL 8\.4\+/);
      expect(report?.checks.filter((c) => c.kind === 'row-count').length).toBeGreaterThan(3);
    }
  });

  test('a directory uploaded to a bucket is drilled from S3, each file streamed where it is', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const local = path.join(team, 'university-1');
    for (const f of await readdir(local)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `mydumper/university-1/${f}`, Body: await readFile(path.join(local, f)) }));
    const verified = await cli(['verify', `s3://${bucket}/mydumper/university-1/`, '--endpoint', S3_ENDPOINT, '--access-key-id-ref', `file:${KEY_FILE}`, '--secret-access-key-ref', `file:${SECRET_FILE}`]);
    expect(verified.json.failure).toBeUndefined();
    const { report, failure } = await drillOf({ location: `s3://${bucket}/mydumper/`, s3: s3Options, pick: 'latest' }, 'mydumper-s3');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.artifactPath).toMatch(new RegExp(`^s3://${bucket}/mydumper/university-1/`));
  });

  test(flavor === 'mariadb' ? 'a PITR rolls a mydumper directory forward to an exact binlog position' : 'a PITR from a directory without coordinates is refused before any sandbox', async () => {
    await sleep(1500);
    const [at] = await source.admin<{ File: string; Position: number }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    await sleep(1500);
    const target = { kind: 'position' as const, file: at!.File, position: Number(at!.Position) };
    const { drillId, report, failure } = await drillOf({ location: team, pick: 'latest' }, 'mydumper-pitr', { target });
    if (flavor === 'mariadb') {
      expect(failure).toBeUndefined();
      expect(report?.outcome).toBe('passed');
      expect(report?.recoveryPoint?.coordinates).toEqual({ file: at!.File, position: Number(at!.Position) });
      expect(report?.recovery?.baseBackup.chosen).toBe('given');
    } else {
      expect(failure?.type).toBe('BadTarget');
      expect(await h.leftovers(drillId)).toEqual([]);
    }
  });
});
