/**
 * Backup and binlog retention enforced by the janitor, on real components (Temporal dev
 * server, Docker, MariaDB 10.11): three backups of a live source with binlog archiving and
 * rotations between them; the janitor keeps two, removes the oldest backup and exactly the
 * archived binlogs before the second one, and the archive stays self-consistent: a PITR after
 * the second backup still passes, one before it is refused up front naming the new window.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createActivities } from '../../activities';
import type { PublishedBackup, SourceFacts } from '../../activities';
import { archivedNames, readArchiveIndex } from '../../activities/artifacts/catalog';
import { binlogArchiveDir, sourceArtifactDir } from '../../adapters/local-layout';
import { REPORT_JSON, readReports, reportDir } from '../../adapters/report-files';
import { withSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import { compareBinlogNames } from '../../domain/binlog/files';
import { janitorWorkflow, progressQuery, releaseSignal, sourceLockWorkflow, sourceLockWorkflowId } from '../../workflows';
import type { DrillProgress, JanitorResult } from '../../workflows';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backup and binlog retention on mariadb', () => {
  let h: Harness;
  let source: LiveSource;
  let facts: SourceFacts;
  let acts: ReturnType<typeof createActivities>;
  const backups: PublishedBackup[] = [];
  /** Archived files before the janitor ran. */
  let archivedBefore: string[];
  /** A time between the first and the second backup: inside the part of the archive retention removes. */
  let betweenFirstAndSecond: string;
  /** A time between the second and the third backup, with a write on each side. */
  let afterSecond: string;
  let sweep: JanitorResult;

  const backupsDir = () => path.join(sourceArtifactDir(h.paths, source.spec.name), 'backups');
  const archiveDir = () => binlogArchiveDir(h.paths, source.spec.name);
  const mark = (note: string) => source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('retention-test', 'mark', 'retention', ?)", [note]);
  const rotate = () => source.admin('FLUSH BINARY LOGS');
  const archive = () => acts.archiveBinlogs({ drillId: h.uniqueId('archive'), source: source.spec, facts });
  // Retention only: other suites sharing this Docker engine own the leftovers the full sweep would judge.
  const runJanitor = (keepBackups: number, keepReports?: number) =>
    h.client.workflow.execute(janitorWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('janitor'),
      args: [{ retention: [{ source: source.spec.name, keepBackups, ...(keepReports !== undefined ? { keepReports } : {}) }], sweepLeftovers: false }],
    });

  async function writeFor(ms: number): Promise<void> {
    source.writer.start();
    await sleep(ms);
    await source.writer.stop();
  }

  beforeAll(async () => {
    h = await startHarness('retention');
    source = await startLiveSource(h.runtime, testServer('mariadb'), h.home, `it-retention-${process.pid}`);
    acts = createActivities({ runtime: h.runtime, paths: h.paths });
    facts = await acts.inspectSource(source.spec);

    // Backup 1, mid-file under a live writer, then archiving and two rotations.
    await writeFor(800);
    source.writer.start();
    backups.push(await acts.takeLogicalBackup({ drillId: h.uniqueId('b1'), source: source.spec, facts }));
    await source.writer.stop();
    await archive();
    await mark('after backup 1');
    await sleep(1100);
    betweenFirstAndSecond = new Date().toISOString();
    await sleep(1100);
    await writeFor(500);
    await rotate();
    await writeFor(500);
    await archive();
    // Backup 2 right after a rotation: its own file holds no transaction before its start, so
    // only the bound from its finish time keeps an earlier target from passing as reached.
    await rotate();
    backups.push(await acts.takeLogicalBackup({ drillId: h.uniqueId('b2'), source: source.spec, facts }));
    await writeFor(500);
    await mark('before the point after backup 2');
    await sleep(1100);
    afterSecond = new Date().toISOString();
    await sleep(1100);
    await mark('after the point after backup 2');
    await archive();
    await rotate();
    await writeFor(500);
    backups.push(await acts.takeLogicalBackup({ drillId: h.uniqueId('b3'), source: source.spec, facts }));
    await writeFor(300);
    await archive();
    archivedBefore = await archivedNames(archiveDir());
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('the set-up spreads the backups over several binlog files', () => {
    const [b1, b2, b3] = backups.map((b) => b.manifest.coordinates!.file);
    expect(compareBinlogNames(b1!, b2!)).toBeLessThan(-1); // at least one whole file between them
    expect(compareBinlogNames(b2!, b3!)).toBeLessThan(0);
    expect(archivedBefore[0]).toBe(b1);
  });

  test('while a drill of the source holds its lock, the janitor leaves its backups and binlogs alone', async () => {
    const lock = await h.client.workflow.start(sourceLockWorkflow, {
      taskQueue: h.taskQueue,
      workflowId: sourceLockWorkflowId(source.spec.name),
      args: [{ source: source.spec.name, drillId: 'retention-test-holder', runId: 'n/a' }],
    });
    try {
      const result = await runJanitor(1);
      expect(result.retention).toEqual([expect.objectContaining({ source: source.spec.name, removedBackups: [], removedBinlogs: [], skipped: expect.stringContaining('is running') })]);
      expect((await readdir(backupsDir())).filter((n) => !n.startsWith('.')).sort()).toEqual(backups.map((b) => path.basename(b.backupDir)).sort());
      expect(await archivedNames(archiveDir())).toEqual(archivedBefore);
    } finally {
      await lock.terminate('test done');
    }
  });

  test('keepBackups 2 removes the oldest backup folder and exactly the archived binlogs before the second backup; keepReports 2 keeps the two newest reports', async () => {
    // Three drills' reports, a day apart (only what the report store reads: id, source, start).
    for (const day of [1, 2, 3]) {
      const drillId = `retention-report-${day}`;
      await mkdir(reportDir(h.paths, source.spec.name, drillId), { recursive: true });
      await writeFile(path.join(reportDir(h.paths, source.spec.name, drillId), REPORT_JSON), JSON.stringify({ drillId, source: source.spec.name, startedAt: `2026-11-0${day}T02:30:00Z` }));
    }
    const reportsBefore = await readReports(h.paths, source.spec.name, 1000);
    expect(reportsBefore.map((r) => r.drillId)).toEqual(['retention-report-3', 'retention-report-2', 'retention-report-1']);
    sweep = await runJanitor(2, 2);
    expect(sweep.retention![0]!.removedReports).toBe(reportsBefore.length - 2);
    expect((await readReports(h.paths, source.spec.name, 1000)).map((r) => r.drillId)).toEqual(reportsBefore.slice(0, 2).map((r) => r.drillId));
    const second = backups[1]!.manifest.coordinates!.file;
    const expectedGone = archivedBefore.filter((f) => compareBinlogNames(f, second) < 0);
    expect(expectedGone.length).toBeGreaterThanOrEqual(2);

    const [report] = sweep.retention!;
    expect(report!.skipped).toBeUndefined();
    expect(report!.removedBackups.map((b) => b.backupId)).toEqual([backups[0]!.manifest.backupId]);
    expect(report!.keptBackups.map((b) => b.backupId)).toEqual([backups[2]!.manifest.backupId, backups[1]!.manifest.backupId]);
    expect(report!.removedBinlogs).toEqual(expectedGone);
    expect(report!.binlogsKeptFrom).toBe(second);

    expect((await readdir(backupsDir())).sort()).toEqual([path.basename(backups[1]!.backupDir), path.basename(backups[2]!.backupDir)].sort());
    expect(await archivedNames(archiveDir())).toEqual(archivedBefore.filter((f) => !expectedGone.includes(f)));
  });

  test('after the sweep the archive index lists exactly the files present, each with its sha256, and the window starts at the second backup', async () => {
    expect(sweep).toBeDefined();
    const present = await archivedNames(archiveDir());
    const index = await readArchiveIndex(h.paths, source.spec.name);
    expect(index.files.map((f) => f.file)).toEqual(present);
    for (const f of index.files) expect(createHash('sha256').update(await readFile(path.join(archiveDir(), f.file))).digest('hex')).toBe(f.sha256);
    expect((await readdir(archiveDir())).filter((n) => n.startsWith('.'))).toEqual([]); // no temp index left

    const window = await acts.describeArchive({ source: source.spec, flavor: 'mariadb' });
    expect(window.gaps).toEqual([]);
    expect(window.from?.backupId).toBe(backups[1]!.manifest.backupId);
  });

  test('a PITR to a point after the second backup still restores from it and reaches exactly that point', async () => {
    expect(sweep).toBeDefined();
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('pitr-after'), request: { source: source.spec, target: { kind: 'time', at: afterSecond }, keepSandbox: true, sandboxTtlSeconds: 600 } });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 720 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await sleep(250);
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    if (progress?.status !== 'kept') {
      const { failure } = await awaitDrill(handle);
      throw new Error(`the PITR did not keep a sandbox: ${failure?.type}: ${failure?.message}`);
    }
    const marks = await withSession({ socket: progress.sandbox!.socketPath }, { user: 'root' }, (s) =>
      s.query<{ note: string }>("SELECT note FROM university.audit_log WHERE actor = 'retention-test' ORDER BY id"),
    );
    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(marks.map((m) => m.note)).toEqual(['after backup 1', 'before the point after backup 2']);
    expect(report!.recovery!.baseBackup).toMatchObject({ manifestPath: backups[1]!.manifestPath, chosen: 'newest-before-target' });
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a PITR to a point before the second backup is refused before any sandbox, naming the new window', async () => {
    expect(sweep).toBeDefined();
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('pitr-before'), request: { source: source.spec, target: { kind: 'time', at: betweenFirstAndSecond } } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('BadTarget');
    expect(failure?.message).toContain('is not after the backup');
    expect(failure?.message).toContain(`recoverable window: backup ${backups[1]!.manifest.backupId} (${backups[1]!.manifest.coordinates!.file}:${backups[1]!.manifest.coordinates!.position}`);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });
});
