/**
 * A team's own mariabackup backups (MariaDB 10.11), made by the real mariabackup in the source's
 * container with the command lines teams use, checked by `restore-drill verify` and drilled end
 * to end from a folder and from the S3 server: the xbstream streamed from where it is into the
 * tool container, extracted and prepared there, rolled forward with the engine's binlog archive.
 * Seed 000 reproduced: two jobs writing one .tar.gz at once, refused before any sandbox exists.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillRequestInput } from '../../config/schema';
import { CONTAINER_SOCKET_DIR } from '../../domain/flavors';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { KEY_FILE, S3_ENDPOINT, SECRET_FILE, removeBucket, s3Admin } from './s3-bucket';
import { cli } from './team-cli';
import { ensureWorkerBuild } from './worker-process';

const MARIABACKUP = `mariabackup --user=root --socket=${CONTAINER_SOCKET_DIR}/mysqld.sock`;
const verify = (file: string) => cli(['verify', file]);

/** A shell line run on the host (docker exec into the source's container, pipes, redirections): what a cron job runs. */
function sh(line: string): { done: Promise<void> } {
  const child = spawn('bash', ['-o', 'pipefail', '-c', line], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2000)));
  return { done: new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${line} exited ${code}: ${stderr}`))))) };
}

describe("a team's own mariabackup backups of MariaDB", () => {
  let h: Harness;
  let source: LiveSource;
  let dir: string;
  let inSource: (cmd: string) => string;

  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness('team-mariabackup');
    dir = await mkdtemp(path.join(os.tmpdir(), 'rd-team-mb-'));
    source = await startLiveSource(h.runtime, testServer('mariadb'), dir, `it-team-mb-${process.pid}`);
    inSource = (cmd) => `docker exec ${source.containerName} bash -o pipefail -c '${cmd.replace(/'/g, `'\\''`)}'`;
    source.writer.start();
    // A prepared backup directory in the source's container, for the tar.gz and directory forms.
    await sh(inSource(`rm -rf /tmp/bk && ${MARIABACKUP} --backup --target-dir=/tmp/bk 2>/dev/null && mariabackup --prepare --target-dir=/tmp/bk 2>/dev/null`)).done;
  });
  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  const drillOf = async (team: NonNullable<NonNullable<DrillRequestInput['backup']>['team']>, id: string, extra: Partial<DrillRequestInput> = {}) => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId(id), request: { source: { ...source.spec, databases: ['university'] }, backup: { team }, ...extra } });
    return { drillId: handle.workflowId, ...(await awaitDrill(handle)) };
  };

  test('`mariabackup --backup --stream=xbstream | gzip` passes verify with its binlog position, and is drilled from a folder, rolled forward to a checkpoint', async () => {
    const team = path.join(dir, 'xb-gz');
    await mkdir(team);
    await sh(`${inSource(`${MARIABACKUP} --backup --stream=xbstream --target-dir=/tmp/xb 2>/dev/null`)} | gzip > ${team}/full.xb.gz`).done;
    const v = await verify(path.join(team, 'full.xb.gz'));
    expect(v.json.failure).toBeUndefined();
    expect(v.json).toMatchObject({ ok: true, format: { kind: 'mariabackup', container: 'xbstream', compression: 'gzip', physical: { prepared: false } }, coordinates: { found: true }, physical: { databases: expect.arrayContaining(['university']) } });

    const { report, failure, drillId } = await drillOf({ location: team, pick: 'latest' }, 'mb-xbgz');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.backup.artifactPath).toBe(path.join(team, 'full.xb.gz'));
    expect(report?.recoveryPoint?.coordinates).not.toEqual(report?.backup.coordinates);
    expect(report?.checks.filter((c) => c.kind === 'checksum').length).toBeGreaterThan(3);
    expect(report?.checks.every((c) => c.passed)).toBe(true);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('a plain xbstream in a bucket is drilled from the S3 server, streamed from where it is', async () => {
    const file = path.join(dir, 'full.xbstream');
    await sh(`${inSource(`${MARIABACKUP} --backup --stream=xbstream --target-dir=/tmp/xb 2>/dev/null`)} > ${file}`).done;
    const v = await verify(file);
    expect(v.json).toMatchObject({ ok: true, format: { kind: 'mariabackup', container: 'xbstream', compression: 'none' } });
    const bucket = `rd-team-mb-${Date.now().toString(36)}`;
    const s3 = await s3Admin();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'nightly/full.xbstream', Body: await readFile(file) }));
    } finally {
      s3.destroy();
    }
    try {
      const { report, failure } = await drillOf({ location: `s3://${bucket}/nightly/`, s3: { endpoint: S3_ENDPOINT, accessKeyIdRef: { file: KEY_FILE }, secretAccessKeyRef: { file: SECRET_FILE } }, pick: 'latest' }, 'mb-s3');
      expect(failure).toBeUndefined();
      expect(report?.outcome).toBe('passed');
      expect(report?.backup.artifactPath).toMatch(new RegExp(`^s3://${bucket}/nightly/full\\.xbstream`));
    } finally {
      await removeBucket(bucket);
    }
  });

  test('a tar.gz of a prepared backup directory passes verify as prepared, and a PITR rolls it forward to an exact binlog position', async () => {
    const team = path.join(dir, 'tar-gz');
    await mkdir(team);
    await sh(`${inSource('tar -cf - -C /tmp bk')} | gzip > ${team}/bk.tar.gz`).done;
    const v = await verify(path.join(team, 'bk.tar.gz'));
    expect(v.json.failure).toBeUndefined();
    expect(v.json).toMatchObject({ ok: true, format: { kind: 'mariabackup', container: 'tar', compression: 'gzip', physical: { prepared: true } }, coordinates: { found: true }, physical: { root: 'bk' } });

    await new Promise((r) => setTimeout(r, 1500));
    const [at] = await source.admin<{ File: string; Position: number }>('SHOW MASTER STATUS');
    await new Promise((r) => setTimeout(r, 1500));
    const { report, failure, drillId } = await drillOf({ location: team, pick: 'latest' }, 'mb-pitr', { target: { kind: 'position', file: at!.File, position: Number(at!.Position) } });
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.recoveryPoint?.coordinates).toEqual({ file: at!.File, position: Number(at!.Position) });
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('a backup directory, not prepared, passes verify and is drilled: copied file by file, prepared in the copy, the team\'s files untouched', async () => {
    const team = path.join(dir, 'directory');
    await mkdir(team);
    await sh(`${inSource(`rm -rf /tmp/raw && ${MARIABACKUP} --backup --target-dir=/tmp/raw 2>/dev/null && tar -cf - -C /tmp raw`)} | tar -xf - -C ${team}`).done;
    const checkpoints = await readFile(path.join(team, 'raw', 'xtrabackup_checkpoints'), 'utf8').catch(() => readFile(path.join(team, 'raw', 'mariadb_backup_checkpoints'), 'utf8'));
    const v = await verify(`${team}/raw/`);
    expect(v.json.failure).toBeUndefined();
    expect(v.json).toMatchObject({ ok: true, format: { kind: 'mariabackup', container: 'directory', physical: { prepared: false } }, coordinates: { found: true } });

    const { report, failure, drillId } = await drillOf({ location: team, pick: 'latest' }, 'mb-dir');
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    expect(report?.checks.every((c) => c.passed)).toBe(true);
    // Prepared in the drill's copy: the team's directory still says it was never prepared.
    expect(await readFile(path.join(team, 'raw', 'xtrabackup_checkpoints'), 'utf8').catch(() => readFile(path.join(team, 'raw', 'mariadb_backup_checkpoints'), 'utf8'))).toBe(checkpoints);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  test('seed 000: two backup jobs writing one .tar.gz at once are refused as ArtifactCorrupt before any sandbox exists', async () => {
    const team = path.join(dir, 'twice');
    await mkdir(team);
    const file = path.join(team, 'bk.tar.gz');
    // The first job's output is paced (64 KiB every 20 ms, as a backup of a busy server trickles out); the second starts
    // once the first has written, runs at full speed and finishes first: the first's later writes land inside its stream.
    const pace = `{ while :; do r=$(dd bs=64k count=1 iflag=fullblock 2>&1 >&3); case "$r" in "0+0 records in"*) break;; esac; sleep 0.02; done; } 3>&1`;
    const job = (flags: string, paced: boolean) => sh(`${inSource(`tar ${flags} -cf - -C /tmp bk | gzip${paced ? ` | ${pace}` : ''}`)} > ${file}`);
    const first = job('', true);
    await waitForBytes(file, 1);
    const second = job('--owner=nobody --group=nogroup', false);
    await Promise.all([first.done.catch(() => undefined), second.done.catch(() => undefined)]);
    const v = await verify(file);
    expect(v.code).toBe(1);
    expect(v.json.failure?.type).toBe('ArtifactCorrupt');
    const { report, failure, drillId } = await drillOf({ location: team, pick: 'latest' }, 'mb-twice');
    expect(failure?.type).toBe('ArtifactCorrupt');
    expect(report?.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await h.leftovers(drillId)).toEqual([]);
  });
});

async function waitForBytes(file: string, bytes: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const size = await stat(file).then((st) => st.size, () => 0);
    if (size >= bytes) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never reached ${bytes} bytes`);
}
