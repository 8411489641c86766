/**
 * A team's own backups, made by the real dump tools with the command lines teams use, checked
 * by `restore-drill verify` and listed by `restore-drill backups`, from a folder and from the
 * S3 server deploy/s3.sh runs. The seed failures are refused with their type: two jobs writing
 * one .sql.gz (seed 000), a dumper killed mid-stream whose gzip is still valid (seed 001), a file
 * still being written while it is read.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillRequestInput } from '../../config/schema';
import { CONTAINER_SOCKET_DIR, FLAVOR_TOOLS } from '../../domain/flavors';
import type { Flavor } from '../../domain/types';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { KEY_FILE, S3_ENDPOINT, SECRET_FILE, removeBucket, s3Admin } from './s3-bucket';
import { cli } from './team-cli';
import { ensureWorkerBuild } from './worker-process';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';

const run = Date.now().toString(36);

/** `<dump tool> args` in the source's container, piped through a compressor on the host into `file` (what a cron line does). */
function dumpTo(source: LiveSource, args: string[], file: string, compress: string[] | undefined, opts: { append?: boolean } = {}): { done: Promise<void>; killDumper(): Promise<void> } {
  const tool = FLAVOR_TOOLS[source.flavor].dump;
  const dumper = spawn('docker', ['exec', source.containerName, tool, '-uroot', `--socket=${CONTAINER_SOCKET_DIR}/mysqld.sock`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(file, { flags: opts.append ? 'a' : 'w' });
  const compressor = compress ? spawn(compress[0]!, compress.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] }) : undefined;
  if (compressor) {
    dumper.stdout.pipe(compressor.stdin);
    compressor.stdout.pipe(out);
  } else dumper.stdout.pipe(out);
  const done = new Promise<void>((resolve) => out.on('close', () => resolve()));
  return {
    done,
    // What the OOM killer does to the dumper: the pipe closes, the compressor finishes a valid stream.
    killDumper: async () => {
      await new Promise((r) => execFile('docker', ['exec', source.containerName, 'pkill', '-9', '-f', tool], () => r(undefined)));
    },
  };
}

const dumpArgs = (flavor: Flavor): string[] =>
  flavor === 'mysql'
    ? ['--single-transaction', '--source-data=2', '--routines', '--triggers', '--events', '--hex-blob', '--databases', 'university']
    : ['--single-transaction', '--master-data=2', '--routines', '--triggers', '--events', '--hex-blob', '--databases', 'university'];

describe.each(BOTH_FLAVORS)('a team\'s own backups of $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let dir: string;
  let bucket: string;
  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness(`team-${server.id}`);
    dir = await mkdtemp(path.join(os.tmpdir(), `rd-team-${flavor}-`));
    source = await startLiveSource(h.runtime, server, dir, `it-team-${server.id}-${process.pid}`);
    source.writer.start();
  });
  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
      if (bucket) await removeBucket(bucket).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a cron dump with --source-data through gzip passes verify, with the binlog coordinates it can roll forward from', async () => {
    const file = path.join(dir, 'university.sql.gz');
    await dumpTo(source, dumpArgs(flavor), file, ['gzip']).done;
    const r = await cli(['verify', file]);
    expect(r.json.failure).toBeUndefined();
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, format: { kind: 'logical-dump', compression: 'gzip', flavor, scope: { kind: 'databases' } }, coordinates: { found: true } });
    const c = r.json.coordinates as { point: { coordinates: { file: string; position: number } } };
    expect(c.point.coordinates.file).toMatch(/-bin\.\d{6}$/);
    expect(c.point.coordinates.position).toBeGreaterThan(4);
  });

  test('an --all-databases dump through zstd passes, and says it cannot be rolled forward without --source-data', async () => {
    const file = path.join(dir, 'all.sql.zst');
    await dumpTo(source, ['--all-databases', '--single-transaction'], file, ['zstd', '-q']).done;
    const r = await cli(['verify', file]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ format: { compression: 'zstd', scope: { kind: 'all-databases' } }, coordinates: { found: false } });
    expect((r.json.coordinates as { reason: string }).reason).toMatch(/--source-data/);
  });

  test('a one-database dump through xz passes', async () => {
    const file = path.join(dir, 'one.sql.xz');
    await dumpTo(source, ['--single-transaction', 'university'], file, ['xz', '-1']).done;
    const r = await cli(['verify', file]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ format: { compression: 'xz', scope: { kind: 'one-database' } } });
  });

  test('seed 001: a dumper killed mid-stream leaves a valid gzip without its trailer, refused as DumpTruncated', async () => {
    const file = path.join(dir, 'killed.sql.gz');
    await source.admin('CREATE DATABASE IF NOT EXISTS bulk');
    await source.admin('CREATE TABLE IF NOT EXISTS bulk.pages (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)');
    await source.admin(`INSERT IGNORE INTO bulk.pages SELECT seq, REPEAT(SHA2(seq, 512), 40) FROM (SELECT a.n * 100 + b.n AS seq FROM (${digits(100)}) a, (${digits(100)}) b) t`);
    const dump = dumpTo(source, ['--single-transaction', '--databases', 'university', 'bulk'], file, ['gzip']);
    await waitForBytes(file, 1);
    await dump.killDumper();
    await dump.done;
    const gzipOk = await new Promise<boolean>((resolve) => execFile('gzip', ['-t', file], (err) => resolve(!err)));
    expect(gzipOk).toBe(true);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.json.failure?.type).toBe('DumpTruncated');
  });

  test('seed 000: two backup jobs writing one .sql.gz at once are refused as ArtifactCorrupt', async () => {
    const file = path.join(dir, 'twice.sql.gz');
    const first = dumpTo(source, ['--single-transaction', '--databases', 'university', 'bulk'], file, ['gzip']);
    await waitForBytes(file, 1);
    const second = dumpTo(source, ['--single-transaction', '--databases', 'university'], file, ['gzip']);
    await Promise.all([first.done, second.done]);
    const r = await cli(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.json.failure?.type).toBe('ArtifactCorrupt');
  });

  test('a file still being written while it is verified is ArtifactInFlight, never called corrupt', async () => {
    const file = path.join(dir, 'growing.sql');
    await dumpTo(source, ['--single-transaction', '--databases', 'university', 'bulk'], file, undefined).done;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await appendFile(file, '-- still writing\n');
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const r = await cli(['verify', file]);
    writing = false;
    await writer;
    expect(r.code).toBe(1);
    expect(r.json.failure?.type).toBe('ArtifactInFlight');
  });

  test('bad input is named: a missing file, and a file that is no backup', async () => {
    const missing = await cli(['verify', path.join(dir, 'nope.sql.gz')]);
    expect(missing.code).toBe(1);
    expect(missing.json.failure).toMatchObject({ type: 'BadConfig', message: expect.stringContaining('nope.sql.gz') });
    const notes = path.join(dir, 'notes.txt');
    await writeFile(notes, 'remember to take backups\n');
    const unknown = await cli(['verify', notes]);
    expect(unknown.code).toBe(1);
    expect(unknown.json.failure).toMatchObject({ type: 'UnknownBackupFormat', message: expect.stringContaining('remember to take') });
  });

  test('a bucket of backups is listed newest first with formats, verified from S3, and wrong credentials are named', async () => {
    bucket = `rd-team-${flavor}-${run}`;
    const s3 = await s3Admin();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'nightly/a-old.sql.gz', Body: await readFile(path.join(dir, 'university.sql.gz')) }));
      await new Promise((r) => setTimeout(r, 1100));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'nightly/b-killed.sql.gz', Body: await readFile(path.join(dir, 'killed.sql.gz')) }));
      const config = path.join(dir, `s3-${flavor}.yaml`);
      await writeFile(
        config,
        [
          'sources:',
          '  shop:',
          `    connection: { socket: ${source.socketPath} }`,
          '    user: root',
          '    teamBackups:',
          `      location: s3://${bucket}/nightly/`,
          `      s3: { endpoint: "${S3_ENDPOINT}", accessKeyIdRef: { file: ${KEY_FILE} }, secretAccessKeyRef: { file: ${SECRET_FILE} } }`,
        ].join('\n') + '\n',
      );
      const listed = await cli(['-c', config, 'backups', 'shop']);
      expect(listed.code).toBe(0);
      const backups = listed.json.backups as { key: string; format?: string }[];
      expect(backups.map((b) => b.key)).toEqual(['b-killed.sql.gz', 'a-old.sql.gz']);
      expect(backups[1]!.format).toMatch(flavor === 'mysql' ? /^mysqldump dump, gzip/ : /^mariadb-dump dump, gzip/);

      const good = await cli(['-c', config, 'verify', `s3://${bucket}/nightly/a-old.sql.gz`]);
      expect(good.code).toBe(0);
      expect(good.json).toMatchObject({ ok: true, coordinates: { found: true } });
      // A passing verify says nothing on stderr: no SDK notice about Node releases either.
      expect(good.stderr).toBe('');
      const killed = await cli(['-c', config, 'verify', `s3://${bucket}/nightly/b-killed.sql.gz`]);
      expect(killed.json.failure?.type).toBe('DumpTruncated');

      const wrongSecret = path.join(dir, 'wrong-secret');
      await writeFile(wrongSecret, 'not-the-secret\n', { mode: 0o600 });
      const denied = await cli(['verify', `s3://${bucket}/nightly/a-old.sql.gz`, '--endpoint', S3_ENDPOINT, '--access-key-id-ref', `file:${KEY_FILE}`, '--secret-access-key-ref', `file:${wrongSecret}`]);
      expect(denied.code).toBe(1);
      expect(denied.json.failure?.message).toContain(wrongSecret);
      expect(denied.json.failure?.message).not.toContain('not-the-secret');
    } finally {
      s3.destroy();
    }
  });

  const drillOf = async (team: NonNullable<NonNullable<DrillRequestInput['backup']>['team']>, id: string, extra: Partial<DrillRequestInput> = {}) => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId(id), request: { source: { ...source.spec, databases: ['university'] }, backup: { team }, ...extra } });
    return { drillId: handle.workflowId, ...(await awaitDrill(handle)) };
  };

  test("the newest dump of a team's folder is drilled: door checks, restore, roll forward to a checkpoint, matched table by table", async () => {
    const team = path.join(dir, 'nightly');
    await execFileAsync('mkdir', ['-p', team]);
    await dumpTo(source, dumpArgs(flavor), path.join(team, 'university-1.sql.gz'), ['gzip']).done;
    await new Promise((r) => setTimeout(r, 1100));
    await dumpTo(source, dumpArgs(flavor), path.join(team, 'university-2.sql.zst'), ['zstd', '-q']).done;
    const { report, failure } = await drillOf({ location: `${team}/university-*`, pick: 'latest' }, 'team-local');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.artifactPath).toBe(path.join(team, 'university-2.sql.zst'));
    expect(report?.checks.filter((c) => c.kind === 'checksum').length).toBeGreaterThan(3);
    expect(report?.checks.every((c) => c.passed)).toBe(true);
    // Rolled forward: the writer kept committing after the dump, and the checkpoint is past it.
    expect(report?.recoveryPoint?.coordinates).not.toEqual(report?.backup.coordinates);
  });

  test('a PITR rolls a team dump forward to an exact binlog position', async () => {
    const team = path.join(dir, 'nightly');
    const status = flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
    // Some writes after the newest dump, then the position to stop at, then more writes past it.
    await new Promise((r) => setTimeout(r, 1500));
    const [at] = await source.admin<{ File: string; Position: number }>(status);
    await new Promise((r) => setTimeout(r, 1500));
    const { report, failure } = await drillOf({ location: `${team}/university-*`, pick: 'latest' }, 'team-pitr', { target: { kind: 'position', file: at!.File, position: Number(at!.Position) } });
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.recoveryPoint?.coordinates).toEqual({ file: at!.File, position: Number(at!.Position) });
    expect(report?.recovery?.baseBackup.chosen).toBe('given');
  });

  test('a plain cron dump of one database, without --source-data, is drilled as it was taken and the report says why', async () => {
    const team = path.join(dir, 'plain');
    await execFileAsync('mkdir', ['-p', team]);
    await dumpTo(source, ['--single-transaction', '--routines', '--events', 'university'], path.join(team, 'university.sql.gz'), ['gzip']).done;
    const { report, failure } = await drillOf({ location: team, pick: 'latest' }, 'team-plain', { assertions: [{ name: 'students restored', sql: 'SELECT COUNT(*) FROM university.students', expect: 'nonzero' }] });
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.notRolledForward).toMatch(/--source-data/);
    expect(report?.recoveryPoint).toBeUndefined();
    expect(report?.checks.filter((c) => c.kind === 'check-table').length).toBeGreaterThan(3);
    expect(report?.checks.find((c) => c.kind === 'assertion')).toMatchObject({ passed: true });
  });

  test('a cron dump taken without --routines fails its drill: a view calling a stored function does not restore', async () => {
    const team = path.join(dir, 'no-routines');
    await execFileAsync('mkdir', ['-p', team]);
    await dumpTo(source, ['--single-transaction', 'university'], path.join(team, 'university.sql.gz'), ['gzip']).done;
    const { drillId, failure } = await drillOf({ location: team, pick: 'latest' }, 'team-no-routines');
    expect(failure?.type).toBe('ToolFailed');
    expect(failure?.message).toMatch(/FUNCTION university\.credits_earned does not exist/);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('a dump without coordinates asked for a point in time is refused before any sandbox exists', async () => {
    const { drillId, failure } = await drillOf({ location: path.join(dir, 'plain'), pick: 'latest' }, 'team-plain-pitr', { target: { kind: 'latest' } });
    expect(failure?.type).toBe('BadTarget');
    expect(failure?.message).toMatch(/--source-data/);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('an --all-databases dump is drilled without loading its mysql schema over the sandbox\'s own', async () => {
    const team = path.join(dir, 'all');
    await execFileAsync('mkdir', ['-p', team]);
    const coordinates = flavor === 'mysql' ? '--source-data=2' : '--master-data=2';
    await dumpTo(source, ['--all-databases', '--single-transaction', coordinates, '--routines', '--events'], path.join(team, 'all.sql.xz'), ['xz', '-1']).done;
    const { report, failure } = await drillOf({ location: team, pick: 'latest' }, 'team-all');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    const restore = report?.phases.find((p) => p.phase === 'restore');
    expect(restore).toBeDefined();
  });

  test('a dump in a bucket is drilled from S3, streamed where it is', async () => {
    const { report, failure } = await drillOf(
      { location: `s3://${bucket}/nightly/`, s3: { endpoint: S3_ENDPOINT, accessKeyIdRef: { file: KEY_FILE }, secretAccessKeyRef: { file: SECRET_FILE } }, pick: { key: 'a-old.sql.gz' } },
      'team-s3',
    );
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.artifactPath).toMatch(new RegExp(`^s3://${bucket}/nightly/a-old\\.sql\\.gz`));
  });

  test('a dump much smaller than the last one adopted is refused as BackupTooSmall, both sizes named', async () => {
    const team = path.join(dir, 'nightly');
    await new Promise((r) => setTimeout(r, 1100));
    // A job that dumped the schema only: complete, with its trailer and coordinates, and nearly empty.
    await dumpTo(source, [...dumpArgs(flavor), '--no-data'], path.join(team, 'university-3.sql.gz'), ['gzip']).done;
    const { drillId, failure } = await drillOf({ location: `${team}/university-*`, pick: 'latest' }, 'team-small');
    expect(failure?.type).toBe('BackupTooSmall');
    expect(failure?.message).toMatch(/university-3\.sql\.gz .*KiB.*university-2\.sql\.zst.*KiB/);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('a dump killed mid-stream is refused before any sandbox exists', async () => {
    const team = path.join(dir, 'killed');
    await execFileAsync('mkdir', ['-p', team]);
    await execFileAsync('cp', [path.join(dir, 'killed.sql.gz'), path.join(team, 'university.sql.gz')]);
    const { drillId, failure } = await drillOf({ location: team, pick: 'latest' }, 'team-cut');
    expect(failure?.type).toBe('DumpTruncated');
    expect(await h.leftovers(drillId)).toEqual([]);
  });
});

function execFileAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(cmd, args, (err) => (err ? reject(err) : resolve())));
}

function digits(n: number): string {
  return Array.from({ length: n }, (_, k) => `SELECT ${k} AS n`).join(' UNION ALL ');
}

async function waitForBytes(file: string, bytes: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const size = await stat(file).then((s) => s.size, () => 0);
    if (size >= bytes) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never reached ${bytes} bytes`);
}
