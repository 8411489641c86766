/**
 * A drill end to end on real components: Temporal dev server, Docker engine, MariaDB 10.11
 * and MySQL 9.7 containers, a source under a live write load.
 */
import { copyFile, mkdir, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { tableStates } from '../../activities/source/checkpoint';
import { checkSandboxTables } from '../../activities/checks/sandbox-checks';
import type { RestoreOutcome, VerifyResult } from '../../activities/types';
import { withSession, withSessions } from '../../adapters/mysql';
import { checkPartsOf, drillTimeline, restorePhasesOf } from '../../bench/history';
import { awaitDrill, startDrill } from '../../client/drills';
import { checkTableResult, tableKey } from '../../domain/checks/checksums';
import { quoteIdentifier } from '../../domain/sql';
import type { CheckTableRow, TableState } from '../../domain/checks/checksums';
import { SandboxLabels } from '../../domain/naming';
import { UNIVERSITY_FUNCTIONS, UNIVERSITY_PROCEDURES, UNIVERSITY_TABLES, UNIVERSITY_TRIGGERS, UNIVERSITY_VIEWS } from '../../sample/university-schema';
import { progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { ALL_SERVERS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { groundTruth, startLiveSource } from './sources';
import type { LiveSource } from './sources';


describe.each(ALL_SERVERS)('drill on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let firstManifest: string;

  beforeAll(async () => {
    h = await startHarness(`drill-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-src-${server.id}-${process.pid}`);
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('a drill of a live source restores its backup, replays binlogs to a checkpoint and matches it table by table', async () => {
    source.writer.start();
    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('drill'),
      request: {
        source: source.spec,
        assertions: [
          { name: 'students enrolled', sql: 'SELECT COUNT(*) FROM university.students', expect: 'nonzero' },
          { name: 'no grade without an enrollment', sql: 'SELECT COUNT(*) FROM university.grades g LEFT JOIN university.enrollments e ON e.id = g.enrollment_id WHERE e.id IS NULL', expect: 'zero' },
        ],
      },
    });
    const { report, failure } = await awaitDrill(handle);
    const stats = await source.writer.stop();

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(stats.transactions).toBeGreaterThan(20);
    // Binlogs were replayed: the point reached lies beyond the backup's coordinates.
    expect(report!.recoveryPoint!.coordinates).not.toEqual(report!.backup.coordinates);
    for (const table of UNIVERSITY_TABLES) {
      expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'checksum', target: `university.${table}`, passed: true }));
      expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'check-table', passed: true, target: expect.stringContaining(table) }));
    }
    if (flavor === 'mysql') expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'gtid', passed: true }));
    // The sample schema's views, functions, procedure and triggers were compared with the source's.
    expect(report!.objects).toEqual({
      checked: { view: UNIVERSITY_VIEWS.length, function: UNIVERSITY_FUNCTIONS.length, procedure: UNIVERSITY_PROCEDURES.length, trigger: UNIVERSITY_TRIGGERS.length },
      accountsCreated: [],
    });
    expect(report!.checks.filter((c) => c.kind === 'assertion').map((c) => [c.target, c.passed])).toEqual([
      ['students enrolled', true],
      ['no grade without an enrollment', true],
    ]);
    const phaseNames = report!.phases.map((p) => p.phase);
    expect(phaseNames).toEqual(expect.arrayContaining(['backup', 'verify-artifact', 'sandbox-start', 'restore', 'replay', 'checks', 'cleanup']));
    // The checkpoint was taken while the artifact was verified; the sandbox started and loaded the
    // dump while the binlogs were archived and the replay planned; the replay came after both.
    const at = (name: string) => report!.phases.find((p) => p.phase === name)!;
    expect(Date.parse(at('checkpoint').startedAt)).toBeLessThanOrEqual(Date.parse(at('verify-artifact').finishedAt));
    expect(Date.parse(at('verify-artifact').startedAt)).toBeLessThanOrEqual(Date.parse(at('checkpoint').finishedAt));
    expect(Date.parse(at('sandbox-start').startedAt)).toBeLessThan(Date.parse(at('plan-replay').finishedAt));
    expect(Date.parse(at('replay').startedAt)).toBeGreaterThanOrEqual(Math.max(Date.parse(at('restore').finishedAt), Date.parse(at('plan-replay').finishedAt)));
    expect(report!.rtoSeconds).toBeGreaterThan(0);
    // The checks say where their time went, in the activity result the bench reads from the history.
    const timeline = drillTimeline(await handle.fetchHistory());
    const { timings } = timeline.spans.filter((s) => s.activity === 'verifyRestore' && s.outcome === 'completed').pop()!.result as VerifyResult;
    for (const part of ['checkTableSeconds', 'tableStatesSeconds', 'assertionsSeconds', 'wallSeconds'] as const) expect([part, timings[part]]).toEqual([part, expect.any(Number)]);
    expect(Math.min(timings.checkTableSeconds, timings.tableStatesSeconds, timings.assertionsSeconds, timings.wallSeconds)).toBeGreaterThan(0);
    expect(timings.sessions).toBeGreaterThanOrEqual(2);
    // The parallel restore says where its time went, and the bench reads the same numbers back.
    const restored = timeline.spans.filter((sp) => sp.activity === 'restoreLogicalDump' && sp.outcome === 'completed').pop()!.result as RestoreOutcome;
    expect(restored.rows).toBeGreaterThan(0);
    expect(restored.bytes).toBeGreaterThan(0);
    for (const part of ['schemaSeconds', 'dataSeconds', 'postSeconds'] as const) expect([part, restored[part]]).toEqual([part, expect.any(Number)]);
    expect(Math.min(restored.schemaSeconds!, restored.dataSeconds!, restored.postSeconds!)).toBeGreaterThan(0);
    expect(restored.indexesSeconds).toBeGreaterThanOrEqual(0);
    expect(restorePhasesOf(timeline)).toMatchObject({ schema: restored.schemaSeconds, data: restored.dataSeconds, post: restored.postSeconds });
    expect(checkPartsOf(timeline)).toEqual({ checkTable: timings.checkTableSeconds, tableStates: timings.tableStatesSeconds, assertions: timings.assertionsSeconds, wall: timings.wallSeconds, sessions: timings.sessions });
    const manifest = JSON.parse(await readFile(path.join(path.dirname(report!.backup.artifactPath), 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ source: source.spec.name, server: { flavor }, coordinates: report!.backup.coordinates, sha256: report!.backup.sha256 });
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
    firstManifest = path.join(path.dirname(report!.backup.artifactPath), 'manifest.json');
  });

  test('an existing backup restored to an exact binlog position equals the quiesced source, checked independently', async () => {
    expect(firstManifest).toBeDefined();
    source.writer.start();
    await new Promise((r) => setTimeout(r, 1500));
    await source.writer.stop();
    const status = await source.admin<{ File: string; Position: number }>(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    const truth = await groundTruth((sql) => source.admin(sql), UNIVERSITY_TABLES);
    const [sourceGtid] = flavor === 'mysql' ? await source.admin<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g') : [{ g: '' }];

    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('pitr'),
      request: { source: source.spec, backup: { manifest: firstManifest }, target: { kind: 'position', file: status[0].File, position: Number(status[0].Position) }, keepSandbox: true, sandboxTtlSeconds: 600, sandboxBufferPoolMb: 384 },
    });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 240 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    expect(progress?.status).toBe('kept');
    const sandbox = await h.runtime.inspect(progress!.sandbox!.name);
    expect(sandbox).toMatchObject({ running: true, networkMode: 'none' });
    expect(sandbox!.labels).toMatchObject({ [SandboxLabels.managed]: 'true', [SandboxLabels.role]: 'sandbox', [SandboxLabels.run]: handle.workflowId });

    const restored = await withSession({ socket: progress!.sandbox!.socketPath }, { user: 'root' }, async (s) => {
      const t = await groundTruth((sql) => s.query(sql), UNIVERSITY_TABLES);
      const [g] = flavor === 'mysql' ? await s.query<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g') : [{ g: '' }];
      const [pool] = await s.query<{ b: string | number; sort: string | number }>('SELECT @@GLOBAL.innodb_buffer_pool_size AS b, @@GLOBAL.innodb_sort_buffer_size AS sort');
      return { truth: t, gtid: g.g, bufferPool: Number(pool.b), sortBuffer: Number(pool.sort) };
    });
    expect(restored.truth).toEqual(truth);
    // The configured sandbox buffer pool, instead of the one sized from the backup.
    expect(restored.bufferPool).toBe(384 * 1024 * 1024);
    // MariaDB's deferred key builds sort in a buffer sized from that pool (384/32 = 12 MiB); MySQL keeps its default.
    expect(restored.sortBuffer).toBe(flavor === 'mariadb' ? 12 * 1024 * 1024 : 1024 * 1024);
    expect(restored.gtid.replace(/\s/g, '')).toEqual(sourceGtid.g.replace(/\s/g, ''));

    // The checks' per-table items on several sessions give exactly what one session gives
    // serially: one CHECK TABLE of every table, then every table's state, both methods.
    const sandboxSocket = { socket: progress!.sandbox!.socketPath };
    const serial = await withSession(sandboxSocket, { user: 'root' }, async (s) => {
      const tables = await s.query<{ db: string; t: string }>(
        "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?) ORDER BY 1, 2",
        [['university']],
      );
      const checkTables = checkTableResult(await s.query<CheckTableRow>(`CHECK TABLE ${tables.map((t) => `${quoteIdentifier(t.db)}.${quoteIdentifier(t.t)}`).join(', ')}`));
      return { checkTables, rows: await tableStates(s, ['university']), server: await tableStates(s, ['university'], { method: 'server' }) };
    });
    const methodsOf = (states: TableState[]) => new Map(states.map((t) => [tableKey(t.db, t.table), t.method ?? 'rows'] as const));
    const parallel = await withSessions(sandboxSocket, { user: 'root' }, 3, async (sessions) => ({
      rows: await checkSandboxTables(sessions, ['university'], methodsOf(serial.rows)),
      server: await checkSandboxTables(sessions, ['university'], methodsOf(serial.server)),
    }));
    expect(serial.checkTables.map((c) => c.name)).toEqual(expect.arrayContaining(UNIVERSITY_TABLES.map((t) => `check-table:university.${t}`)));
    expect(parallel.rows.checkTables).toEqual(serial.checkTables);
    expect(parallel.server.checkTables).toEqual(serial.checkTables);
    expect(parallel.rows.states).toEqual(serial.rows);
    expect(parallel.server.states).toEqual(serial.server);
    expect(parallel.rows.timings.sessions).toBe(3);

    // The sample schema's routines, triggers and views are restored and work, checked here
    // independently of the drill's own object checks: the same names as the schema declares,
    // views and functions give the source's answers, and the triggers fire on an insert.
    const objectQueries = {
      views: "SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'university' ORDER BY 1",
      functions: "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'university' AND ROUTINE_TYPE = 'FUNCTION' ORDER BY 1",
      procedures: "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'university' AND ROUTINE_TYPE = 'PROCEDURE' ORDER BY 1",
      triggers: "SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'university' ORDER BY 1",
      answers:
        'SELECT (SELECT COUNT(*) FROM university.transcript) AS transcriptRows, (SELECT COUNT(*) FROM university.student_summary) AS summaryRows, ' +
        '(SELECT SUM(university.credits_earned(id)) FROM university.students) AS credits, university.letter_for(88.5) AS letter',
    };
    const objectsOf = async (query: (sql: string) => Promise<Record<string, unknown>[]>) => ({
      views: (await query(objectQueries.views)).map((r) => r.name),
      functions: (await query(objectQueries.functions)).map((r) => r.name),
      procedures: (await query(objectQueries.procedures)).map((r) => r.name),
      triggers: (await query(objectQueries.triggers)).map((r) => r.name),
      answers: (await query(objectQueries.answers)).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]))),
    });
    const inSandbox = await withSession(sandboxSocket, { user: 'root' }, (s) => objectsOf((sql) => s.query(sql)));
    expect(inSandbox).toEqual(await objectsOf((sql) => source.admin(sql)));
    expect(inSandbox).toMatchObject({
      views: [...UNIVERSITY_VIEWS].sort(),
      functions: [...UNIVERSITY_FUNCTIONS].sort(),
      procedures: [...UNIVERSITY_PROCEDURES].sort(),
      triggers: [...UNIVERSITY_TRIGGERS].sort(),
      answers: [expect.objectContaining({ letter: 'B+' })],
    });
    const fired = await withSession(sandboxSocket, { user: 'root' }, async (s) => {
      const [course] = await s.query<{ code: string }>('SELECT code FROM university.courses ORDER BY id LIMIT 1');
      const [student] = await s.query<{ id: number }>('SELECT id FROM university.students ORDER BY id DESC LIMIT 1');
      await s.query('CALL university.enroll(?, ?)', [student!.id, course!.code]);
      const [enrollment] = await s.query<{ id: number }>('SELECT e.id FROM university.enrollments e JOIN university.courses c ON c.id = e.course_id WHERE e.student_id = ? AND c.code = ?', [student!.id, course!.code]);
      await s.query('INSERT INTO university.grades (enrollment_id, score, graded_at) VALUES (?, 91, NOW(6))', [enrollment!.id]);
      const [grade] = await s.query<{ id: number; letter: string }>('SELECT id, letter FROM university.grades WHERE enrollment_id = ? ORDER BY id DESC LIMIT 1', [enrollment!.id]);
      const [audit] = await s.query<{ n: number }>("SELECT COUNT(*) AS n FROM university.audit_log WHERE action = 'grade.recorded' AND entity_id = ?", [grade!.id]);
      return { letter: grade!.letter, audited: Number(audit!.n) };
    });
    expect(fired).toEqual({ letter: 'A-', audited: 1 });

    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report!.recoveryPoint!.coordinates).toEqual({ file: status[0].File, position: Number(status[0].Position) });
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('with checks.checksum server, tables are compared by CHECKSUM TABLE under live writes (MySQL JSON tables row by row) and the drill passes', async () => {
    source.writer.start();
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('srvsum'), request: { source: source.spec, checksum: 'server' } });
    const { report, failure } = await awaitDrill(handle);
    await source.writer.stop();
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    const sums = report!.checks.filter((c) => c.kind === 'checksum');
    expect(sums).toContainEqual(expect.objectContaining({ name: 'checksum:server-version', passed: true }));
    const byTable = new Map(sums.filter((c) => c.target.startsWith('university.')).map((c) => [c.target, c.expected!]));
    expect([...byTable.keys()].sort()).toEqual(UNIVERSITY_TABLES.map((t) => `university.${t}`).sort());
    // MySQL's audit table has a (binary) JSON column: compared row by row; every other one by the
    // server. MariaDB's JSON is LONGTEXT, stored as written: all by the server.
    for (const [table, expected] of byTable) expect([table, expected.startsWith('server:')]).toEqual([table, flavor === 'mariadb' || table !== 'university.audit_log']);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a user assertion that does not hold fails the drill with CheckFailed, showing expected and actual, and still cleans up', async () => {
    expect(firstManifest).toBeDefined();
    const handle = await startDrill({
      client: h.client,
      taskQueue: h.taskQueue,
      workflowId: h.uniqueId('assert'),
      request: { source: source.spec, backup: { manifest: firstManifest }, target: { kind: 'latest' }, assertions: [{ name: 'no students at all', sql: 'SELECT COUNT(*) FROM university.students', expect: 'zero' }] },
    });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('CheckFailed');
    const [assertion] = report!.checks.filter((c) => c.kind === 'assertion');
    expect(assertion).toMatchObject({ target: 'no students at all', passed: false, expected: expect.stringMatching(/0|zero/) });
    expect(Number(assertion.actual)).toBeGreaterThan(0);
    expect(report!.checks.filter((c) => c.kind === 'check-table').every((c) => c.passed)).toBe(true);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a published backup whose gzip was truncated is refused before any sandbox starts', async () => {
    expect(firstManifest).toBeDefined();
    const copyDir = path.join(h.home, 'tampered');
    await mkdir(copyDir, { recursive: true });
    await copyFile(firstManifest, path.join(copyDir, 'manifest.json'));
    await copyFile(path.join(path.dirname(firstManifest), 'dump.sql.gz'), path.join(copyDir, 'dump.sql.gz'));
    const manifest = JSON.parse(await readFile(firstManifest, 'utf8'));
    await truncate(path.join(copyDir, 'dump.sql.gz'), Math.floor(manifest.bytes / 2));

    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('tampered'), request: { source: source.spec, backup: { manifest: path.join(copyDir, 'manifest.json') } } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('ArtifactCorrupt');
    expect(failure?.message).toMatch(/truncated or overwritten/);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });
  test('after the source resets its binlogs, the archive of the old history is refused, never replayed', async () => {
    await source.admin(flavor === 'mysql' ? 'RESET BINARY LOGS AND GTIDS' : 'RESET MASTER');
    source.writer.start();
    await new Promise((r) => setTimeout(r, 500));
    await source.writer.stop();
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('reset'), request: { source: source.spec } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure?.type).toBe('ArchiveDiverged');
    expect(failure?.message).toMatch(/re-created or its binlogs were reset/);
    expect(report!.phases.map((p) => p.phase)).not.toContain('restore');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });
});
