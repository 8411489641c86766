/**
 * Physical backups through the whole drill, on real components: mariabackup (MariaDB 10.11)
 * and the clone plugin (MySQL 9.7) against a source under a live write load, restored by
 * mounting the extracted (and prepared) datadir as the sandbox's own, then binlog replay
 * and the same checks as a logical restore.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import Docker from 'dockerode';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { withSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import { SandboxLabels, toolContainerName } from '../../domain/naming';
import { UNIVERSITY_TABLES } from '../../sample/university-schema';
import { progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { ALL_SERVERS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { addBulkPages, groundTruth, startLiveSource } from './sources';
import type { LiveSource } from './sources';


describe.each(ALL_SERVERS)('physical drill on $name', (server) => {
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
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
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

  if (server.flavor === 'mariadb') {
    // Incremental chains: mariabackup's, so MariaDB only, on 10.11 and 11.8 (each release's mariabackup writes its own checkpoints). The full backup is the first test's.
    let chainManifest: string;
    let chain: string[];

    const markRows = async (era: string, rows: number) => {
      await source.admin('CREATE DATABASE IF NOT EXISTS chains');
      await source.admin('CREATE TABLE IF NOT EXISTS chains.marks (id INT AUTO_INCREMENT PRIMARY KEY, era VARCHAR(20) NOT NULL, at DATETIME(6) NOT NULL)');
      for (let i = 0; i < rows; i++) await source.admin('INSERT INTO chains.marks (era, at) VALUES (?, NOW(6))', [era]);
    };
    const incrementalDrill = async (id: string, assertions: { name: string; sql: string; expect: number }[]) => {
      const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId(id), request: { source: source.spec, backup: { method: 'physical', kind: 'incremental' }, assertions } });
      return { drillId: handle.workflowId, ...(await awaitDrill(handle)) };
    };
    const manifestOf = async (artifactPath: string) => JSON.parse(await readFile(path.join(path.dirname(artifactPath), 'manifest.json'), 'utf8'));
    const sha256Of = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

    test('two increments taken with writes between are drilled through their chain, and the last one holds its own rows', async () => {
      expect(physicalManifest).toBeDefined();
      await markRows('before-inc1', 5);
      const first = await incrementalDrill('chain-1', []);
      expect(first.failure).toBeUndefined();
      const inc1 = await manifestOf(first.report!.backup.artifactPath);
      const full = JSON.parse(await readFile(physicalManifest, 'utf8'));
      expect(inc1.chain).toEqual({ baseId: full.backupId, members: [{ backupId: full.backupId, fromLsn: '0', toLsn: full.lsn.to }, { backupId: inc1.backupId, fromLsn: full.lsn.to, toLsn: inc1.lsn.to }] });
      expect(inc1.lsn.backupType).toBe('incremental');

      // Enough changed pages that applying the second increment is a stage of its own (the next tests kill it).
      await addBulkPages(source, 60);
      await markRows('before-inc2', 7);
      const second = await incrementalDrill('chain-2', [
        { name: 'rows written before the first increment', sql: "SELECT COUNT(*) FROM chains.marks WHERE era = 'before-inc1'", expect: 5 },
        { name: 'rows written before the second increment', sql: "SELECT COUNT(*) FROM chains.marks WHERE era = 'before-inc2'", expect: 7 },
      ]);
      expect(second.failure).toBeUndefined();
      expect(second.report!.outcome).toBe('passed');
      const inc2 = await manifestOf(second.report!.backup.artifactPath);
      chain = [full.backupId, inc1.backupId, inc2.backupId];
      expect(second.report!.backup.chain).toEqual(chain);
      expect(inc2.chain.members.map((m: { backupId: string }) => m.backupId)).toEqual(chain);
      expect(inc2.chain.members[2].fromLsn).toBe(inc1.lsn.to);
      // Its coordinates are the last increment's: nothing written since, so nothing to replay.
      expect(second.report!.backup.coordinates).toEqual(inc2.coordinates);
      expect(second.report!.backup.coordinates).not.toEqual(inc1.coordinates);
      for (const target of ['chains.marks', 'bulk.pages']) expect(second.report!.checks).toContainEqual(expect.objectContaining({ kind: 'checksum', target, passed: true }));
      expect(second.report!.checks.filter((c) => c.kind === 'assertion')).toEqual([expect.objectContaining({ passed: true }), expect.objectContaining({ passed: true })]);
      chainManifest = path.join(path.dirname(second.report!.backup.artifactPath), 'manifest.json');
      expect(await h.leftovers(second.drillId)).toEqual([]);
    });

    test('a chain with an increment removed is refused before any prepare, naming the increment', async () => {
      expect(chainManifest).toBeDefined();
      const backups = path.dirname(path.dirname(chainManifest));
      await rename(path.join(backups, chain[1]!), path.join(backups, `.aside-${chain[1]}`));
      try {
        const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('chain-gap'), request: { source: source.spec, backup: { manifest: chainManifest } } });
        const { report, failure } = await awaitDrill(handle);
        expect(failure?.type).toBe('BrokenBackupChain');
        expect(failure?.message).toContain(`increment 1 of 2 ${chain[1]} is missing`);
        expect(report!.phases.map((p) => p.phase)).not.toContain('restore');
        expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
        expect(await h.leftovers(handle.workflowId)).toEqual([]);
      } finally {
        await rename(path.join(backups, `.aside-${chain[1]}`), path.join(backups, chain[1]!));
      }
    });

    test('a prepare killed half way is restored again from the untouched published chain, and the drill passes', async () => {
      expect(chainManifest).toBeDefined();
      const backups = path.dirname(path.dirname(chainManifest));
      const artifacts = chain.map((id) => path.join(backups, id, 'backup.mbstream.gz'));
      const before = await Promise.all(artifacts.map(sha256Of));
      const workflowId = h.uniqueId('chain-kill');
      const stage = toolContainerName(workflowId, 'prepare-inc-2');
      const docker = new Docker();
      const events = (await docker.getEvents({ filters: JSON.stringify({ type: ['container'], event: ['start'], label: [`${SandboxLabels.run}=${workflowId}`] }) })) as unknown as NodeJS.ReadableStream & { destroy(): void };
      const killed: string[] = [];
      let pending = '';
      events.on('error', () => undefined);
      events.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines.filter((l) => l.trim())) {
          const name = String((JSON.parse(line) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name);
          // Only the first start: the retry's stage must run to the end.
          if (name === stage && killed.length === 0) {
            killed.push(name);
            void docker.getContainer(name).kill().catch((err: Error) => killed.push(`kill failed: ${err.message}`));
          }
        }
      });
      try {
        const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId, request: { source: source.spec, backup: { manifest: chainManifest } } });
        const { report, failure } = await awaitDrill(handle);
        expect(killed).toEqual([stage]);
        expect(failure).toBeUndefined();
        expect(report!.outcome).toBe('passed');
        expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
        expect(await Promise.all(artifacts.map(sha256Of))).toEqual(before);
        expect(await h.leftovers(workflowId)).toEqual([]);
      } finally {
        events.destroy();
      }
    });
  }

  test('the source is untouched: its accounts are as before and nothing of a backup is left beside it', async () => {
    expect(await accounts()).toEqual(accountsBefore);
    const dir = path.join(h.home, 'sources', source.spec.name);
    if (flavor === 'mysql') expect(await readdir(path.join(dir, 'clones'))).toEqual([]);
    else expect((await readdir(path.join(dir, 'data'))).filter((f) => /xtrabackup|mariabackup|backup-my/.test(f))).toEqual([]);
    const [alive] = await source.admin<{ n: number }>('SELECT COUNT(*) AS n FROM university.students');
    expect(Number(alive!.n)).toBeGreaterThan(0);
  });
});
