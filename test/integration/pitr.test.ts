/**
 * Point-in-time recovery end to end on real components (Temporal dev server, Docker,
 * MariaDB 10.11 and MySQL 9.7): the accidents of seed 004, recovered by an incident PITR
 * (no backup named: the engine picks the newest published one before the target), each
 * checked in the kept sandbox by the test's own queries, never by the engine's checks.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../activities';
import { binlogArchiveDir } from '../../adapters/local-layout';
import type { SourceFacts } from '../../activities/types';
import { withSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillRequestInput } from '../../config/schema';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import type { DrillReport } from '../../domain/report/report';
import { universitySchema } from '../../sample/university-schema';
import { binlogArchiverWorkflow, progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress, drillWorkflow } from '../../workflows';
import { ALL_SERVERS } from './servers';
import { startHarness } from './harness';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { Harness } from './harness';
import { lastGtid as lastSessionGtid, startLiveSource } from './sources';
import type { LiveSource } from './sources';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ISO-8601 of epoch microseconds at a fixed offset (minutes east of UTC), written by hand: no local zone involved. */
function isoAtOffset(micros: number, offsetMinutes: number): string {
  const shifted = new Date(Math.floor(micros / 1000) + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const frac = String(micros % 1_000_000).padStart(6, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${shifted}.${frac}${zone}`;
}

describe.each(ALL_SERVERS)('point-in-time recovery on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let facts: SourceFacts;
  let acts: ReturnType<typeof createActivities>;
  let baseBackupManifest: string;
  /** The archived file the gap test removes. */
  let missing: string | undefined;

  beforeAll(async () => {
    h = await startHarness(`pitr-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-pitr-${server.id}-${process.pid}`);
    // The published backup every incident below recovers from, taken by the engine's own activity.
    acts = createActivities({ runtime: h.runtime, paths: h.paths });
    facts = await acts.inspectSource(source.spec);
    source.writer.start();
    await sleep(1000);
    await source.writer.stop();
    baseBackupManifest = (await acts.takeLogicalBackup({ drillId: h.uniqueId('base'), source: source.spec, facts })).manifestPath;
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  /**
   * MariaDB 11.8 runs the lean subset: the incidents whose replay depends on the server release
   * (its binlog events through both replay methods, a rotation, a stop before an event, bytes).
   * Time targets, refusals, gaps and the archiver are the engine's own logic, defined here for
   * MariaDB 10.11 and MySQL only (docs/tests.md).
   */
  function engineLogic(define: () => void): void {
    if (server.name !== 'mariadb-11.8') define();
  }

  /** The GTID of the transaction the session just committed (no other writer is running). */
  const lastGtid = (s: SqlSession) => lastSessionGtid(flavor, s);

  /** Runs a drill, and while its sandbox is kept, inspects it with the test's own queries; then releases it. */
  async function recoverAndInspect<T>(request: Omit<DrillRequestInput, 'source'>, inspect: (s: SqlSession) => Promise<T>, taskQueue = h.taskQueue): Promise<{ report: DrillReport; seen: T; handle: WorkflowHandle<typeof drillWorkflow> }> {
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('pitr'), request: { source: source.spec, keepSandbox: true, sandboxTtlSeconds: 600, ...request } });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 480 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await sleep(250);
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    if (progress?.status !== 'kept') {
      const { report, failure } = await awaitDrill(handle);
      throw new Error(`the PITR did not keep a sandbox: ${failure?.type}: ${failure?.message} ${JSON.stringify(report?.phases.map((p) => `${p.phase}:${p.outcome}`))}`);
    }
    const seen = await withSession({ socket: progress.sandbox!.socketPath }, { user: 'root' }, inspect);
    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
    return { report: report!, seen, handle };
  }

  /** Commit time of a transaction as the server's own binlog tool prints it (independent of the engine's scanner), in epoch microseconds. */
  async function commitMicrosFromSourceBinlog(gtid: string): Promise<number> {
    const [status] = await source.admin<{ File: string }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    const tool = FLAVOR_TOOLS[flavor].binlog;
    const out = await h.runtime.exec(source.containerName, [tool, `/var/lib/mysql/${status.File}`], { env: ['TZ=UTC'] });
    expect(out.exitCode).toBe(0);
    const lines = out.stdout.split('\n');
    if (flavor === 'mysql') {
      const at = lines.findIndex((l) => l.includes(`GTID_NEXT= '${gtid}'`));
      const header = lines.slice(0, at).reverse().find((l) => l.includes('immediate_commit_timestamp='))!;
      return Number(/immediate_commit_timestamp=(\d+)/.exec(header)![1]);
    }
    const header = lines.find((l) => new RegExp(`GTID ${gtid}( |$)`).test(l))!;
    const m = /^#(\d\d)(\d\d)(\d\d)\s+(\d+):(\d\d):(\d\d)/.exec(header)!;
    return Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) * 1000;
  }

  test.each(['applier', 'client'] as const)('a bad UPDATE without WHERE is skipped by GTID: damaged rows keep their old values and later writes are present (%s replay)', async (replayMethod) => {
    source.writer.start();
    await sleep(1000);
    await source.writer.stop();
    const before = await source.admin<{ id: number; gpa: string | null }>('SELECT id, gpa FROM university.students ORDER BY id');
    const badGtid = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
      await s.query('UPDATE university.students SET gpa = 0.0');
      return lastGtid(s);
    });
    const later = before[3]!.id;
    await source.admin('UPDATE university.students SET gpa = 3.33 WHERE id = ?', [later]);
    const marker = `later write, ${replayMethod} replay`;
    await source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'after-bad-update', 'students', ?)", [marker]);

    const { report, seen } = await recoverAndInspect({ target: { kind: 'latest' }, skip: [{ gtid: badGtid }], replayMethod }, async (s) => ({
      students: await s.query<{ id: number; gpa: string | null }>('SELECT id, gpa FROM university.students ORDER BY id'),
      marker: await s.query("SELECT note FROM university.audit_log WHERE action = 'after-bad-update' AND note = ?", [marker]),
    }));

    expect(seen.students).toEqual(before.map((r) => (r.id === later ? { id: r.id, gpa: '3.33' } : r)));
    expect(seen.marker).toEqual([{ note: marker }]);
    expect(report.recovery!.skipped.map((t) => t.gtid)).toEqual([badGtid]);
    expect(report.recovery!.baseBackup).toMatchObject({ manifestPath: baseBackupManifest, chosen: 'newest-before-target' });
    // The sandbox's own GTID state says the same: MySQL gtid_executed lacks the skipped GTID; MariaDB's applier position is the last applied one.
    if (flavor === 'mysql') expect(report.recovery!.proof).toMatchObject({ method: 'gtid_executed', passed: true });
    // MariaDB: only the server's applier keeps a GTID position in a sandbox without a binary log.
    else expect(report.recovery!.proof).toMatchObject(replayMethod === 'applier' ? { method: 'gtid_slave_pos', passed: true } : { method: 'unavailable' });
  });

  engineLogic(() => {
    test.each([
      ['UTC', 0],
      ['America/New_York', -300],
    ])('canaries one second before and exactly at a time target: the first is restored, the second not (worker zone %s)', async (zone, offsetMinutes) => {
      const canary = `canary-${zone}-${Date.now()}`;
      // Start the first canary early in a second, so the second one (1.1 s later) is in the next second on MariaDB's whole-second clock.
      while (Date.now() % 1000 > 150) await sleep(10);
      const [gtidBefore, gtidAt] = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
        await s.query("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'canary', 'before', ?)", [canary]);
        const a = await lastGtid(s);
        await sleep(1100);
        await s.query("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'canary', 'at', ?)", [canary]);
        return [a, await lastGtid(s)];
      });
      const targetMicros = await commitMicrosFromSourceBinlog(gtidAt);
      expect(await commitMicrosFromSourceBinlog(gtidBefore)).toBeLessThanOrEqual(targetMicros - 1_000_000);
      const at = isoAtOffset(targetMicros, offsetMinutes);

      // A worker process started in that zone (Node reads TZ at process start) runs the whole PITR.
      const offsetThere = execFileSync(process.execPath, ['-e', `process.stdout.write(String(new Date(${Math.floor(targetMicros / 1000)}).getTimezoneOffset()))`], { env: { ...process.env, TZ: zone } }).toString();
      expect(Number(offsetThere)).toBe(offsetMinutes === 0 ? 0 : -offsetMinutes);
      ensureWorkerBuild();
      const taskQueue = `${h.taskQueue}-tz-${offsetMinutes}`;
      const worker = startWorkerProcess({ taskQueue, home: h.home, env: { TZ: zone } });
      let result;
      try {
        await worker.ready;
        result = await recoverAndInspect(
          { target: { kind: 'time', at } },
          (s) => s.query<{ entity: string }>("SELECT entity FROM university.audit_log WHERE action = 'canary' AND note = ? ORDER BY id", [canary]),
          taskQueue,
        );
      } finally {
        await worker.kill('SIGTERM');
      }
      expect(result.seen).toEqual([{ entity: 'before' }]);
      expect(result.report.recovery!.lastApplied!.gtid).toBe(gtidBefore);
      expect(result.report.recovery!.firstNotApplied!.gtid).toBe(gtidAt);
    });
  });

  test('rows built from a temporary table after a binlog rotation are replayed across both files', async () => {
    // ROW format logs no temporary tables (MySQL 8+, MariaDB): what reaches the binlog are the
    // rows INSERT ... SELECT wrote from it. The replay must cross the rotation in one run.
    const rows = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
      await s.query('CREATE TEMPORARY TABLE university.tmp_pitr (id INT PRIMARY KEY, note VARCHAR(60))');
      await s.query("INSERT INTO university.tmp_pitr VALUES (1, 'temp row one ✓'), (2, 'temp row two 🧪'), (3, 'temp row three')");
      await s.query('FLUSH BINARY LOGS');
      await s.query("INSERT INTO university.audit_log (actor, action, entity, note) SELECT 'pitr-test', 'from-temp', 'tmp', note FROM university.tmp_pitr ORDER BY id");
      return s.query<{ note: string }>('SELECT note FROM university.tmp_pitr ORDER BY id');
    });
    const [status] = await source.admin<{ File: string }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');

    // The client replay: one binlog-tool run over both files into one client session.
    const { report, seen } = await recoverAndInspect({ target: { kind: 'latest' }, replayMethod: 'client' }, (s) =>
      s.query<{ note: string }>("SELECT note FROM university.audit_log WHERE action = 'from-temp' ORDER BY id"),
    );
    expect(seen).toEqual(rows);
    expect(report.recovery!.lastApplied!.file).toBe(status.File);
    expect(report.recovery!.baseBackup.coordinates.file).not.toBe(status.File);
  });

  test('utf8mb4 text and binary BLOBs written after the backup come back byte for byte', async () => {
    const name = 'Zoë 🧑🏿‍💻 "O\'Brien" 日本語 \u{1F600}';
    const photo = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0x00, 0x27, 0x5c, 0x00]);
    const studentNo = `U${Date.now().toString(36)}`.slice(0, 16);
    await source.admin('INSERT INTO university.students (student_no, full_name, email, gpa, photo, enrolled_on) VALUES (?, ?, ?, 3.5, ?, CURRENT_DATE)', [studentNo, name, 'zoë@例え.jp', photo]);
    const [onSource] = await source.admin<{ full_name: string; photo: Buffer; email: string }>('SELECT full_name, photo, email FROM university.students WHERE student_no = ?', [studentNo]);

    const { seen } = await recoverAndInspect({ target: { kind: 'latest' } }, (s) =>
      s.query<{ full_name: string; photo: Buffer; email: string; hexName: string }>('SELECT full_name, photo, email, HEX(full_name) AS hexName FROM university.students WHERE student_no = ?', [studentNo]),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.full_name).toBe(name);
    expect(seen[0]!.hexName).toBe(Buffer.from(name, 'utf8').toString('hex').toUpperCase());
    expect(Buffer.compare(seen[0]!.photo, photo)).toBe(0);
    expect(Buffer.compare(seen[0]!.photo, onSource!.photo)).toBe(0);
    expect(seen[0]!.email).toBe(onSource!.email);
  });

  test('a dropped table is restored to just before the DROP with its last rows, and writes after the DROP are absent', async () => {
    source.writer.start();
    await sleep(1500);
    await source.writer.stop();
    const lastRows = await source.admin('SELECT * FROM university.grades ORDER BY id');
    expect(lastRows.length).toBeGreaterThan(0);
    await source.admin('DROP TABLE university.grades');
    try {
      await source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'after-drop', 'grades', 'written after the accident')");
      source.writer.start();
      await sleep(500);
      await source.writer.stop();

      const { report, seen } = await recoverAndInspect({ target: { kind: 'beforeEvent', pattern: 'DROP TABLE grades' } }, async (s) => ({
        grades: await s.query('SELECT * FROM university.grades ORDER BY id'),
        after: await s.query("SELECT id FROM university.audit_log WHERE action = 'after-drop'"),
      }));
      expect(seen.grades).toEqual(lastRows);
      expect(seen.after).toEqual([]);
      expect(report.recovery!.firstNotApplied).toBeDefined();
      expect(report.rpoSeconds).toBe(0);
      expect(report.recovery!.proof).toMatchObject({ method: flavor === 'mysql' ? 'gtid_executed' : 'gtid_slave_pos', passed: true });
    } finally {
      // The accident is repaired on the source (table and its triggers), as its team would: the later
      // drills recover to the latest transaction, and a view over a dropped table fails ViewUnusable.
      for (const statement of universitySchema(flavor).filter((s) => /^CREATE (TABLE|TRIGGER) [^\n]*`grades`/.test(s))) await source.admin(statement);
    }
  });

  test('a requested worker count runs the parallel applier with that many workers, and the replay is complete', async () => {
    // MySQL: the multi-threaded applier; MariaDB: optimistic parallel replication (its relay points name the binlog file).
    const workers = flavor === 'mysql' ? 3 : 2;
    source.writer.start();
    await sleep(1500);
    await source.writer.stop();
    await source.admin(`INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'workers', 'last', 'replayed by ${workers} workers')`);
    const countRows = async (query: <T>(sql: string) => Promise<T[]>) => {
      const tables = await query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'university' AND table_type = 'BASE TABLE' ORDER BY table_name");
      const counts: Record<string, number> = {};
      for (const { t } of tables) counts[t] = Number((await query<{ n: number }>(`SELECT COUNT(*) AS n FROM university.\`${t}\``))[0]!.n);
      return counts;
    };
    const expected = await countRows((sql) => source.admin(sql));
    const { report, seen } = await recoverAndInspect({ target: { kind: 'latest' }, replayWorkers: workers }, async (s) => ({
      workers: await s.query<{ w: number }>(flavor === 'mysql' ? 'SELECT @@global.replica_parallel_workers AS w' : 'SELECT @@global.slave_parallel_threads AS w'),
      rows: await s.query(`SELECT note FROM university.audit_log WHERE action = 'workers' AND note = 'replayed by ${workers} workers'`),
      counts: await countRows((sql) => s.query(sql)),
    }));
    expect(seen.workers.map((r) => Number(r.w))).toEqual([workers]);
    expect(seen.rows).toEqual([{ note: `replayed by ${workers} workers` }]);
    expect(Object.keys(expected).length).toBeGreaterThan(3);
    expect(seen.counts).toEqual(expected);
    expect(report.recovery!.lastApplied).toEqual(report.recovery!.lastArchived);
  });

  engineLogic(() => {
    test('a target later than the last archived transaction is refused before any sandbox, naming the recoverable window', async () => {
      const at = new Date(Date.now() + 3600_000).toISOString();
      const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('beyond'), request: { source: source.spec, target: { kind: 'time', at } } });
      const { report, failure } = await awaitDrill(handle);
      expect(failure?.type).toBe('BadTarget');
      expect(failure?.message).toMatch(/beyond the archived binary logs/);
      expect(failure?.message).toMatch(/recoverable window: backup /);
      expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
    });

    test('in best-effort mode a target later than the archive restores to the last archived transaction and reports the shortfall as RPO', async () => {
      await source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'best-effort', 'last', 'last archived write')");
      const at = new Date(Date.now() + 3600_000).toISOString();
      const { report, seen } = await recoverAndInspect({ target: { kind: 'time', at }, bestEffort: true }, (s) =>
        s.query("SELECT note FROM university.audit_log WHERE action = 'best-effort'"),
      );
      expect(seen).toEqual([{ note: 'last archived write' }]);
      expect(report.recovery!.shortfall).toMatch(/beyond the archived binary logs/);
      expect(report.recovery!.lastApplied).toEqual(report.recovery!.lastArchived);
      expect(report.rpoSeconds).toBeGreaterThan(3500);
      expect(report.rpoSeconds).toBeLessThan(3700);
    });

    test('a binlog file removed from the middle of the archive is refused before any restore, naming the missing file', async () => {
      const files: string[] = [];
      for (let i = 0; i < 2; i++) {
        await source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'rotation', 'gap', ?)", [`before rotation ${i}`]);
        await source.admin('FLUSH BINARY LOGS');
        const [status] = await source.admin<{ File: string }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
        files.push(status.File);
      }
      await source.admin("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'rotation', 'gap', 'after the gap')");
      await acts.archiveBinlogs({ drillId: h.uniqueId('archive'), source: source.spec, facts });
      missing = files[0]!; // complete, between the backup's file and the active one
      await rm(path.join(binlogArchiveDir(h.paths, source.spec.name), missing));

      const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('gap'), request: { source: source.spec, target: { kind: 'latest' } } });
      const { report, failure } = await awaitDrill(handle);
      expect(failure?.type).toBe('BinlogGap');
      expect(failure?.message).toContain(missing);
      expect(failure?.message).toMatch(/recoverable window/);
      expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
      expect(report!.phases.map((p) => p.phase)).not.toContain('restore');
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
    });

    test('in best-effort mode a gap restores to the last transaction before the missing file and reports the shortfall', async () => {
      expect(missing).toBeDefined();
      const { report, seen } = await recoverAndInspect({ target: { kind: 'latest' }, bestEffort: true }, (s) =>
        s.query<{ note: string }>("SELECT note FROM university.audit_log WHERE action = 'rotation' ORDER BY id"),
      );
      // 'before rotation 0' is in the file before the hole; 'before rotation 1' was in the missing file, 'after the gap' after it.
      expect(seen).toEqual([{ note: 'before rotation 0' }]);
      expect(report.recovery!.shortfall).toContain(`binlog ${missing} missing between`);
      expect(report.recovery!.lastApplied!.file < missing!).toBe(true);
      expect(report.rpoSeconds).toBeGreaterThan(0);
    });

    test('the archiver workflow extends the archive to the last transaction and reports the recoverable window with its gap', async () => {
      expect(missing).toBeDefined();
      const gtid = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
        await s.query("INSERT INTO university.audit_log (actor, action, entity, note) VALUES ('pitr-test', 'archiver', 'last', 'archived by the archiver')");
        return lastGtid(s);
      });
      const result = await h.client.workflow.execute(binlogArchiverWorkflow, { taskQueue: h.taskQueue, workflowId: h.uniqueId('archiver'), args: [{ source: source.spec }] });
      expect(result.files).toBeGreaterThan(0);
      expect(result.window.to?.gtid).toBe(gtid);
      expect(result.window.gaps).toContainEqual(expect.objectContaining({ kind: 'file', missing: [missing] }));
      // The only backup is before the hole: nothing rolls forward to the end of the archive.
      expect(result.window.from).toBeUndefined();
      expect(result.window.text).toContain(`binlog ${missing} missing between`);
    });
  });
});
