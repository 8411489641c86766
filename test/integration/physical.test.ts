/**
 * Physical backups through the whole drill, on real components: mariabackup (MariaDB 10.11)
 * and the clone plugin (MySQL 9.7) against a source under a live write load, restored by
 * mounting the extracted (and prepared) datadir as the sandbox's own, then binlog replay
 * and the same checks as a logical restore.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import { UNIVERSITY_TABLES } from '../../sample/university-schema';
import { progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { groundTruth, startLiveSource } from './sources';
import type { LiveSource } from './sources';


describe.each(BOTH_FLAVORS)('physical drill on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let physicalManifest: string;
  let accountsBefore: unknown[];

  const accounts = () => source.admin(flavor === 'mariadb' ? 'SELECT User, Host, Priv FROM mysql.global_priv ORDER BY 1, 2' : 'SELECT User, Host, plugin, authentication_string FROM mysql.user ORDER BY 1, 2');

  beforeAll(async () => {
    h = await startHarness(`physical-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-phys-${server.id}-${process.pid}`, { physical: true });
    accountsBefore = await accounts();
  });

  afterAll(async () => {
    await source?.destroy();
    await h?.close();
  });

  test('a physical drill of a live source mounts the copied datadir, replays binlogs to a checkpoint and matches it table by table', async () => {
    source.writer.start();
    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('phys'),
      request: { source: source.spec, backup: { method: 'physical' }, assertions: [{ name: 'students enrolled', sql: 'SELECT COUNT(*) FROM university.students', expect: 'nonzero' }] },
    });
    const { report, failure } = await awaitDrill(handle);
    const stats = await source.writer.stop();

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(stats.transactions).toBeGreaterThan(20);
    expect(report!.recoveryPoint!.coordinates).not.toEqual(report!.backup.coordinates);
    for (const table of UNIVERSITY_TABLES) {
      expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'checksum', target: `university.${table}`, passed: true }));
      expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'check-table', passed: true, target: expect.stringContaining(table) }));
    }
    if (flavor === 'mysql') expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'gtid:executed', passed: true }));
    expect(report!.recovery!.proof).toMatchObject({ method: flavor === 'mysql' ? 'gtid_executed' : 'gtid_slave_pos', passed: true });
    expect(report!.phases.map((p) => p.phase)).toEqual(expect.arrayContaining(['backup', 'verify-artifact', 'restore', 'sandbox-start', 'replay', 'checks', 'cleanup']));
    physicalManifest = path.join(path.dirname(report!.backup.artifactPath), 'manifest.json');
    const manifest = JSON.parse(await readFile(physicalManifest, 'utf8'));
    expect(manifest).toMatchObject({
      kind: 'physical',
      archive: flavor === 'mariadb' ? 'mbstream' : 'tar',
      tool: { name: flavor === 'mariadb' ? 'mariabackup' : 'clone' },
      coordinates: report!.backup.coordinates,
      sha256: report!.backup.sha256,
    });
    expect(manifest.gtidSet).toBeTruthy();
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a physical backup restored to an exact binlog position equals the quiesced source, in a sandbox with its own server identity', async () => {
    expect(physicalManifest).toBeDefined();
    source.writer.start();
    await new Promise((r) => setTimeout(r, 1500));
    await source.writer.stop();
    const status = await source.admin<{ File: string; Position: number }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    const truth = await groundTruth((sql) => source.admin(sql), UNIVERSITY_TABLES);
    const [sourceIds] = await source.admin<{ g: string; u: string }>(flavor === 'mysql' ? 'SELECT @@GLOBAL.gtid_executed AS g, @@server_uuid AS u' : "SELECT '' AS g, '' AS u");

    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('phys-pitr'),
      request: { source: source.spec, backup: { manifest: physicalManifest }, target: { kind: 'position', file: status[0]!.File, position: Number(status[0]!.Position) }, keepSandbox: true, sandboxTtlSeconds: 600 },
    });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 360 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    expect(progress?.status).toBe('kept');
    const restored = await withSession({ socket: progress!.sandbox!.socketPath }, { user: 'root' }, async (s) => {
      const t = await groundTruth((sql) => s.query(sql), UNIVERSITY_TABLES);
      const [ids] = await s.query<{ g: string; u: string }>(flavor === 'mysql' ? 'SELECT @@GLOBAL.gtid_executed AS g, @@server_uuid AS u' : "SELECT '' AS g, '' AS u");
      return { truth: t, ids };
    });
    expect(restored.truth).toEqual(truth);
    expect(restored.ids.g.replace(/\s/g, '')).toEqual(sourceIds!.g.replace(/\s/g, ''));
    if (flavor === 'mysql') expect(restored.ids.u).not.toEqual(sourceIds!.u);

    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report!.recoveryPoint!.coordinates).toEqual({ file: status[0]!.File, position: Number(status[0]!.Position) });
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a physical artifact with one byte changed is refused before any sandbox starts', async () => {
    expect(physicalManifest).toBeDefined();
    const manifest = JSON.parse(await readFile(physicalManifest, 'utf8'));
    const copyDir = path.join(h.home, 'tampered-physical');
    await mkdir(copyDir, { recursive: true });
    await copyFile(physicalManifest, path.join(copyDir, 'manifest.json'));
    const bytes = await readFile(path.join(path.dirname(physicalManifest), manifest.file));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(path.join(copyDir, manifest.file), bytes);

    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('phys-flip'), request: { source: source.spec, backup: { manifest: path.join(copyDir, 'manifest.json') } } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('ArtifactCorrupt');
    expect(failure?.message).toMatch(/sha256/);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(report!.phases.map((p) => p.phase)).not.toContain('restore');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a physical artifact whose archive was cut short, then re-compressed and re-hashed, is refused as truncated before any sandbox starts', async () => {
    expect(physicalManifest).toBeDefined();
    const manifest = JSON.parse(await readFile(physicalManifest, 'utf8'));
    const raw = gunzipSync(await readFile(path.join(path.dirname(physicalManifest), manifest.file)));
    const cut = gzipSync(raw.subarray(0, Math.floor(raw.length * 0.6)));
    const copyDir = path.join(h.home, 'cut-physical');
    await mkdir(copyDir, { recursive: true });
    await writeFile(path.join(copyDir, manifest.file), cut);
    // The manifest agrees with the cut bytes: only the archive's own structure can tell.
    await writeFile(path.join(copyDir, 'manifest.json'), JSON.stringify({ ...manifest, bytes: cut.length, sha256: createHash('sha256').update(cut).digest('hex') }));

    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('phys-cut'), request: { source: source.spec, backup: { manifest: path.join(copyDir, 'manifest.json') } } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('DumpTruncated');
    expect(failure?.message).toMatch(flavor === 'mariadb' ? /not a complete mbstream/ : /not a complete tar archive/);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('the source is untouched: its accounts are as before and nothing of a backup is left beside it', async () => {
    expect(await accounts()).toEqual(accountsBefore);
    const dir = path.join(h.home, 'sources', source.spec.name);
    if (flavor === 'mysql') expect(await readdir(path.join(dir, 'clones'))).toEqual([]);
    else expect((await readdir(path.join(dir, 'data'))).filter((f) => /xtrabackup|mariabackup|backup-my/.test(f))).toEqual([]);
    const [alive] = await source.admin<{ n: number }>('SELECT COUNT(*) AS n FROM university.students');
    expect(Number(alive!.n)).toBeGreaterThan(0);
  });
});
