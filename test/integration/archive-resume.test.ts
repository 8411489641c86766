/**
 * Archiving runs that resume at the archive's newest file, on real components (Docker,
 * MariaDB 10.11, the engine's activities in Temporal's activity context):
 * - an attempt whose heartbeat timed out can still be running when its retry starts; the two
 *   must not share a staging folder or a tool container, or the old attempt's cleanup removes
 *   the retry's copy while the tool writes into it (the tool exits 0, nothing is copied);
 * - when the source purged the archive's newest file, the run falls back to the file the
 *   backup needs or, purged too, the oldest file the source still has: the archive is complete
 *   from there, and a PITR to a time the hole could hide is refused with BinlogGap naming the
 *   missing file.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import Docker from 'dockerode';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import type { PublishedBackup, SourceFacts } from '../../activities';
import { archivedNames, readArchiveIndex } from '../../activities/artifacts/catalog';
import { binlogArchiveDir } from '../../adapters/local-layout';
import { awaitDrill, startDrill } from '../../client/drills';
import { binlogName, binlogIndex, binlogBase } from '../../domain/binlog/files';
import { SandboxLabels } from '../../domain/naming';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('archiving that resumes at the archive newest file, on mariadb', () => {
  let h: Harness;
  let source: LiveSource;
  let facts: SourceFacts;
  let acts: ReturnType<typeof createActivities>;

  const archiveDir = () => binlogArchiveDir(h.paths, source.spec.name);
  const currentFile = async () => (await source.admin<{ File: string }>('SHOW MASTER STATUS'))[0]!.File;
  const mark = (note: string) => source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('archive-test', 'mark', 'archive', ?)", [note]);

  /** Polls until `probe` returns a value (containers appear asynchronously). */
  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  /** The archive lists exactly the files present, each with the sha256 of its bytes. */
  async function expectIndexMatchesArchive(): Promise<string[]> {
    const present = await archivedNames(archiveDir());
    const index = await readArchiveIndex(h.paths, source.spec.name);
    expect(index.files.map((f) => f.file)).toEqual(present);
    for (const f of index.files) expect(createHash('sha256').update(await readFile(path.join(archiveDir(), f.file))).digest('hex')).toBe(f.sha256);
    return present;
  }

  beforeAll(async () => {
    h = await startHarness('archive-resume');
    source = await startLiveSource(h.runtime, testServer('mariadb'), h.home, `it-archres-${process.pid}`);
    acts = createActivities({ runtime: h.runtime, paths: h.paths });
    facts = await acts.inspectSource(source.spec);
  });

  afterAll(async () => {
    try {
      if (source) await new Docker().getContainer(source.containerName).unpause().catch(() => undefined);
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('a retry that overlaps its still-running earlier attempt archives completely: the old attempt cannot remove the retry\'s copy', async () => {
    const backup = await acts.takeLogicalBackup({ drillId: h.uniqueId('b0'), source: source.spec, facts });
    await mark('before the overlapping attempts');
    const drillId = h.uniqueId('overlap');
    const request = { drillId, source: source.spec, facts, fromFile: backup.manifest.coordinates!.file };
    const toolsOf = async () => (await h.runtime.listByLabel({ [SandboxLabels.run]: drillId })).filter((c) => c.running);
    const docker = new Docker();
    // A paused source holds each attempt's binlog tool in its handshake: the overlap is certain, not a matter of timing.
    await docker.getContainer(source.containerName).pause();
    let first: Promise<unknown>;
    let retry: Promise<unknown>;
    try {
      first = new MockActivityEnvironment({ attempt: 1 }).run(acts.archiveBinlogs, request).then(
        (v) => ({ ok: v }),
        (e: Error) => ({ failed: e.message }),
      );
      const firstTool = (await until('the first attempt\'s tool container', async () => ((await toolsOf()).length === 1 ? await toolsOf() : undefined)))[0]!;
      retry = new MockActivityEnvironment({ attempt: 2 }).run(acts.archiveBinlogs, request);
      await until('the retry\'s own tool container', async () => ((await toolsOf()).some((c) => c.id !== firstTool.id) ? true : undefined));
    } finally {
      await docker.getContainer(source.containerName).unpause();
    }
    const archived = (await retry!) as { file: string }[];
    await first!;
    expect(archived.map((f) => f.file)).toContain(await currentFile());
    const present = await expectIndexMatchesArchive();
    expect(present[0]).toBe(backup.manifest.coordinates!.file);
    expect((await readdir(archiveDir())).filter((n) => n.startsWith('.staging'))).toEqual([]);
    expect(await h.leftovers(drillId)).toEqual([]);
  });

  describe('when the source purged the archive\'s newest file', () => {
    let older: PublishedBackup;
    let newer: PublishedBackup;
    let hole: string[];
    let partial: string;
    /** After the transactions only the purged files held, before the newer backup and the next archived transaction. */
    let insideHole: string;

    beforeAll(async () => {
      // The archive ends at a copy of the then-active file; the source then rotates twice, a new backup starts two files later, and the older files are purged.
      older = await acts.takeLogicalBackup({ drillId: h.uniqueId('older'), source: source.spec, facts });
      await acts.archiveBinlogs({ drillId: h.uniqueId('archive'), source: source.spec, facts, fromFile: older.manifest.coordinates!.file });
      partial = (await archivedNames(archiveDir())).pop()!;
      await mark('only in the purged tail');
      await source.admin('FLUSH BINARY LOGS');
      await mark('only in the purged file');
      // MariaDB records whole seconds: keep a clear second on each side of the target.
      await sleep(1100);
      insideHole = new Date().toISOString();
      await sleep(1100);
      await source.admin('FLUSH BINARY LOGS');
      newer = await acts.takeLogicalBackup({ drillId: h.uniqueId('newer'), source: source.spec, facts });
      await sleep(1100);
      await mark('after the newer backup');
      const needed = newer.manifest.coordinates!.file;
      await source.admin(`PURGE BINARY LOGS TO '${needed}'`);
      hole = [];
      for (let i = binlogIndex(partial) + 1; i < binlogIndex(needed); i++) hole.push(binlogName(binlogBase(partial), i, partial));
    });

    test('an archiving run falls back to the oldest file the source still has, and the archive is complete and indexed from there', async () => {
      // As the scheduled archiver runs it: the oldest backup needs a purged file, so it starts at the oldest one left (the newer backup's).
      const archived = await acts.archiveBinlogs({ drillId: h.uniqueId('archive'), source: source.spec, facts });
      expect(archived[0]!.file).toBe(newer.manifest.coordinates!.file);
      expect(archived.map((f) => f.file)).toContain(await currentFile());
      const present = await expectIndexMatchesArchive();
      expect(present).toEqual(expect.arrayContaining([partial, ...archived.map((f) => f.file)]));
      for (const f of hole) expect(present).not.toContain(f);
      const window = await acts.describeArchive({ source: source.spec, flavor: 'mariadb' });
      expect(window.from?.backupId).toBe(newer.manifest.backupId);
      expect(window.gaps).toContainEqual(expect.objectContaining({ kind: 'file', missing: hole }));
    });

    test('a PITR to a time inside the purged files is refused with BinlogGap naming the first missing file, before any sandbox', async () => {
      // The archive's last transaction before that time is in the partial copy; the ones just before it are gone with the purged files.
      const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('pitr-gap'), request: { source: source.spec, target: { kind: 'time', at: insideHole } } });
      const { report, failure } = await awaitDrill(handle);
      expect(failure?.type).toBe('BinlogGap');
      expect(failure?.message).toContain(hole[0]);
      expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
    });
  });
});
