/**
 * Bad days on the source during the drill's backup (#16): the dump's connection killed from the
 * source side, a TRUNCATE on another table, a source that kills every dump, a MyISAM table, a
 * sandbox killed by the kernel at its memory limit.
 * Real components: Temporal, Docker, MariaDB 10.11 / MySQL 9.7, the flavor's own dump tool.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { safeSegment, sourceBackupsDir } from '../../adapters/local-layout';
import { runDoctor } from '../../cli/doctor';
import { createContext } from '../../cli/context';
import { awaitDrill, startDrill } from '../../client/drills';
import { renderMarkdown } from '../../domain/report/report';
import { sleep } from './fault-helpers';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { addBulkPages, startLiveSource } from './sources';
import type { LiveSource } from './sources';


/** The dump's connection as the source's processlist shows it: the dump tool's table read. */
const DUMP_READS_SQL = "SELECT ID AS id, INFO AS info FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT /*!40001 SQL_NO_CACHE */%' AND ID <> CONNECTION_ID()";

describe.each(BOTH_FLAVORS)('bad days on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;

  /** Dump connections seen reading `table` (any, when absent), until `done`; each is killed when `kill`. */
  const watchDumps = async (opts: { done: () => boolean; kill: (seen: number) => boolean; table?: string; onSeen?: () => Promise<void> }): Promise<number> => {
    const seen = new Set<number>();
    while (!opts.done()) {
      const [rows] = (await source.pool.query(DUMP_READS_SQL)) as unknown as [{ id: number; info: string }[]];
      for (const r of rows.filter((x) => !opts.table || x.info.includes(`\`${opts.table}\``))) {
        if (seen.has(Number(r.id))) continue;
        seen.add(Number(r.id));
        if (opts.kill(seen.size)) await source.pool.query(`KILL ${Number(r.id)}`).catch(() => undefined);
        await opts.onSeen?.();
      }
      await sleep(10);
    }
    return seen.size;
  };

  /** Backup folders (published or partial) of a drill. */
  const backupFolders = async (drillId: string) => (await readdir(sourceBackupsDir(h.paths, source.spec.name)).catch(() => [] as string[])).filter((n) => n.includes(safeSegment(drillId)));

  beforeAll(async () => {
    h = await startHarness(`bad-days-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-bad-${server.id}-${process.pid}`);
    // ~10 MB to dump: long enough to be found in the processlist and hit.
    await addBulkPages(source, 100);
    await source.admin('CREATE TABLE bulk.legacy (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=MyISAM');
    await source.admin("INSERT INTO bulk.legacy VALUES (1, 'kept in MyISAM')");
    await source.admin('CREATE TABLE bulk.recent (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB');
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('a KILL of the dump connection is retried: the drill passes with 2 attempts listed, and flags the MyISAM table', async () => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('kill'), request: { source: source.spec, backup: { retryDelaySeconds: 1 } } });
    let done = false;
    const watching = watchDumps({ done: () => done, kill: (n) => n === 1, table: 'pages' });
    const { report, failure } = await awaitDrill(handle).finally(() => (done = true));
    await watching;

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.backup.attempts).toEqual([
      { attempt: 1, outcome: 'failed', type: 'SourceConnectionLost', message: expect.stringMatching(/lost its connection to the source while copying table pages at row \d+/) },
      { attempt: 2, outcome: 'ok' },
    ]);
    expect(report!.phases.filter((p) => p.phase === 'backup').map((p) => p.outcome)).toEqual(['failed', 'ok']);
    expect(report!.backup.nonTransactionalTables).toEqual([{ db: 'bulk', table: 'legacy', engine: 'MyISAM' }]);
    // Only the published backup: the killed attempt's partial folder is gone.
    expect(await backupFolders(handle.workflowId)).toEqual([safeSegment(handle.workflowId)]);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a TRUNCATE of another table during the dump is retried and the drill passes', async () => {
    await source.admin("INSERT INTO bulk.recent VALUES (1, 'a'), (2, 'b')");
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('ddl'), request: { source: source.spec, backup: { retryDelaySeconds: 1 } } });
    let done = false;
    let truncated = false;
    // `recent` is dumped after `pages`: truncated while `pages` is read, it has changed since the dump's snapshot.
    const watching = watchDumps({
      done: () => done || truncated,
      kill: () => false,
      table: 'pages',
      onSeen: async () => {
        await source.pool.query('TRUNCATE TABLE bulk.recent');
        truncated = true;
      },
    });
    const { report, failure } = await awaitDrill(handle).finally(() => (done = true));
    await watching;

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.backup.attempts?.map((a) => a.type ?? a.outcome)).toEqual(['DdlDuringBackup', 'ok']);
    expect(report!.backup.attempts?.[0]?.message).toMatch(/broken by DDL on table recent/);
  });

  test('a source that kills every dump fails the drill with SourceConnectionLost after the bounded attempts, publishing nothing', async () => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('always'), request: { source: source.spec, backup: { attempts: 2, retryDelaySeconds: 1 } } });
    let done = false;
    const watching = watchDumps({ done: () => done, kill: () => true });
    const { report, failure } = await awaitDrill(handle).finally(() => (done = true));
    const killed = await watching;

    expect(failure?.type).toBe('SourceConnectionLost');
    expect(failure?.message).toMatch(/interrupted in each of 2 attempts/);
    expect(killed).toBe(2);
    expect(report!.backup.attempts?.map((a) => a.type)).toEqual(['SourceConnectionLost', 'SourceConnectionLost']);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await backupFolders(handle.workflowId)).toEqual([]);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('doctor warns about the MyISAM table', async () => {
    const configPath = path.join(h.home, 'bad-days.yaml');
    const spec = source.spec;
    await writeFile(configPath, stringify({ sources: { [spec.name]: { flavor, connection: spec.connection, user: spec.user, passwordRef: spec.passwordRef } } }));
    const checks = await runDoctor(createContext({ config: configPath, home: h.home }, { ...process.env, RESTORE_DRILL_TASK_QUEUE: h.taskQueue }), spec.name);

    expect(checks).toContainEqual(expect.objectContaining({ check: 'transactions', source: spec.name, status: 'warn', detail: expect.stringContaining('bulk.legacy (MyISAM)') }));
  });

  describe('a sandbox given less memory than its buffer pool needs', () => {
    // The restore fills a 1 GiB buffer pool with ~200 MiB of pages: over the first limit (idle,
    // MariaDB holds ~130 MiB, MySQL ~500 MiB), under twice it.
    const bufferPoolMb = 1024;
    const limitMb = flavor === 'mysql' ? 640 : 256;
    let manifest: string | undefined;

    beforeAll(async () => {
      await source.admin('CREATE TABLE bulk.big (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL) ENGINE=InnoDB');
      // 2000 rows of 100 KB: compresses to almost nothing, fills the pool page by page.
      // 40 x 50 rows: a recursive CTE stops at 1000 iterations by default.
      await source.admin(
        'INSERT INTO bulk.big WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n < 39), b(m) AS (SELECT 0 UNION ALL SELECT m + 1 FROM b WHERE m < 49) ' +
          'SELECT n * 50 + m + 1, REPEAT(CHAR(65 + (n * 50 + m) % 26), 100000) FROM a, b',
      );
      // The backup starts in a fresh binlog: the 200 MiB insert is not archived and planned again.
      await source.admin('FLUSH BINARY LOGS');
    });

    afterAll(async () => {
      await source.admin('DROP TABLE IF EXISTS bulk.big');
    });

    test('killed by the kernel during the restore, it is started once more with twice the memory and the drill passes; the report shows both limits', async () => {
      const handle = await startDrill({
        client: h.client,
        taskQueue: h.taskQueue,
        workflowId: h.uniqueId('oom-retry'),
        request: { source: source.spec, sandboxBufferPoolMb: bufferPoolMb, sandbox: { memoryMb: limitMb } },
      });
      const { report, failure } = await awaitDrill(handle);

      expect(failure).toBeUndefined();
      expect(report!.outcome).toBe('passed');
      expect(report!.sandbox).toMatchObject({ memoryMb: 2 * limitMb, bufferPoolMb, memoryRetry: { fromMb: limitMb, toMb: 2 * limitMb } });
      expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
      expect(renderMarkdown(report!)).toContain(`memory ${2 * limitMb} MiB (buffer pool ${bufferPoolMb} MiB); out of memory at ${limitMb} MiB, started again with ${2 * limitMb} MiB`);
      expect(report!.checks).toContainEqual(expect.objectContaining({ kind: 'checksum', target: 'bulk.big', passed: true }));
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
      manifest = path.join(path.dirname(report!.backup.artifactPath), 'manifest.json');
    });

    test('with no more memory allowed (sandbox.maxMemory), the drill fails SandboxOutOfMemory naming the limit, not a check or the backup', async () => {
      expect(manifest).toBeDefined();
      const handle = await startDrill({
        client: h.client,
        taskQueue: h.taskQueue,
        workflowId: h.uniqueId('oom-fail'),
        request: { source: source.spec, backup: { manifest: manifest! }, sandboxBufferPoolMb: bufferPoolMb, sandbox: { memoryMb: limitMb, maxMemoryMb: limitMb } },
      });
      const { report, failure } = await awaitDrill(handle);

      expect(failure?.type).toBe('SandboxOutOfMemory');
      expect(failure?.message).toContain(`out of memory at its limit of ${limitMb} MiB with an InnoDB buffer pool of ${bufferPoolMb} MiB`);
      expect(failure?.message).toContain(`not retried with more memory: sandbox.maxMemory allows ${limitMb} MiB`);
      expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed']);
      expect(report!.phases.map((p) => p.phase)).not.toContain('checks');
      expect(report!.checks.filter((c) => !c.passed)).toEqual([]);
      expect(report!.sandbox).toMatchObject({ memoryMb: limitMb });
      expect(report!.sandbox?.memoryRetry).toBeUndefined();
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
    });
  });
});
