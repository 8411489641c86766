/**
 * Bisect end to end on real components (Temporal dev server, Docker, MariaDB 10.11 and MySQL
 * 9.7): one source with a live writer, one backup, then a few thousand ordinary transactions
 * with two accidents among them (seed 003's `SET foreign_key_checks=0; DROP TABLE` and an
 * UPDATE without WHERE). Each bisect restores the backup once into its own sandbox and must
 * name the accident's GTID as the source recorded it.
 */
import { withSession } from '../../adapters/mysql';
import { createActivities } from '../../activities';
import { awaitBisect, startBisect } from '../../client/bisect';
import type { BisectRequestInput } from '../../config/schema';
import { progressQuery } from '../../workflows';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { lastGtid, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ORPHANS = 'SELECT COUNT(*) FROM shop.orders o LEFT JOIN shop.customers c ON c.id = o.customer_id WHERE c.id IS NULL';
const ZERO_PRICES = 'SELECT COUNT(*) FROM shop.prices WHERE price = 0';

describe.each(BOTH_FLAVORS)('bisect on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let manifest: string;
  let dropGtid: string;
  let updateGtid: string;
  let beforeDropGtid: string;

  /** `n` ordinary single-row transactions while the writer runs alongside. */
  async function ordinaryTransactions(n: number, from: number): Promise<void> {
    for (let i = from; i < from + n; i += 50) await Promise.all(Array.from({ length: Math.min(50, from + n - i) }, (_, k) => source.pool.query('INSERT INTO shop.events (n) VALUES (?)', [i + k])));
  }

  /**
   * Runs each group of statements on one session with the writer stopped, so the GTID read after
   * each group is its own and nothing commits between the groups; the writer resumes after the last.
   */
  async function accidents(groups: string[][]): Promise<string[]> {
    await source.writer.stop();
    try {
      return await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
        const gtids: string[] = [];
        for (const statements of groups) {
          for (const sql of statements) await s.query(sql);
          gtids.push(await lastGtid(flavor, s));
        }
        return gtids;
      });
    } finally {
      source.writer.start();
    }
  }

  beforeAll(async () => {
    h = await startHarness(`bisect-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-bisect-${server.id}-${process.pid}`);
    for (const sql of [
      'CREATE DATABASE shop',
      'CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB',
      'CREATE TABLE shop.orders (id INT PRIMARY KEY, customer_id INT NOT NULL, FOREIGN KEY (customer_id) REFERENCES shop.customers (id)) ENGINE=InnoDB',
      'CREATE TABLE shop.prices (id INT PRIMARY KEY, price DECIMAL(8,2) NOT NULL) ENGINE=InnoDB',
      'CREATE TABLE shop.events (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB',
      "INSERT INTO shop.customers SELECT seq, CONCAT('c', seq) FROM (SELECT 1 AS seq UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) s",
      'INSERT INTO shop.orders SELECT 10 * id + k, id FROM shop.customers, (SELECT 1 AS k UNION ALL SELECT 2) s',
      'INSERT INTO shop.prices SELECT id, 9.5 + id FROM shop.customers',
    ])
      await source.admin(sql);
    const acts = createActivities({ runtime: h.runtime, paths: h.paths });
    const facts = await acts.inspectSource(source.spec);
    manifest = (await acts.takeLogicalBackup({ drillId: h.uniqueId('base'), source: source.spec, facts })).manifestPath;
    source.writer.start();
    await ordinaryTransactions(1000, 0);
    [updateGtid] = await accidents([['UPDATE shop.prices SET price = 0']]);
    await ordinaryTransactions(1000, 1000);
    // Seed 003: a misfired restore script, on one session, right after a marker row (its
    // transaction is the one the bisect must name as the last good one).
    [beforeDropGtid, dropGtid] = await accidents([['INSERT INTO shop.events (n) VALUES (-1)'], ['SET foreign_key_checks = 0', 'DROP TABLE shop.customers']]);
    await source.admin('CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB');
    await ordinaryTransactions(1000, 2000);
    await source.writer.stop();
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  function request(query: string, expect: BisectRequestInput['expect']): BisectRequestInput {
    return { drill: { source: source.spec, target: { kind: 'latest' }, sandboxTtlSeconds: 900 }, query, expect };
  }

  test('seed 003: the DROP TABLE run with foreign_key_checks=0 among thousands of transactions is found by the orphan-rows query', async () => {
    const handle = await startBisect({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('bisect'), request: request(ORPHANS, 'zero') });
    const { answer, failure } = await awaitBisect(handle);
    expect(failure).toBeUndefined();
    expect(answer!.culprit.gtid).toBe(dropGtid);
    expect(answer!.culprit.kind).toBe('ddl');
    expect(answer!.culprit.statements.join(' ')).toMatch(/DROP TABLE/i);
    expect(answer!.previous?.gtid).toBe(beforeDropGtid);
    expect(answer!.valueBefore).toBe('0');
    expect(answer!.valueAfter).toMatch(/^error: .*customers/);
    expect(answer!.window.transactions).toBeGreaterThan(3000);
    expect(answer!.backup).toBe(manifest);
    expect(answer!.next).toEqual({ pitrBefore: `restore-drill pitr ${source.spec.name} --to ${beforeDropGtid}`, pitrSkip: `restore-drill pitr ${source.spec.name} --to latest --skip ${dropGtid}` });
    // One restore; the search went back through snapshots, never through the dump again.
    expect(answer!.cost.restores).toBe(1);
    expect(answer!.cost.snapshots).toBeGreaterThan(0);
    // Scans of many points, few restarts (domain/bisect/scan.ts).
    expect(answer!.cost.snapshots + answer!.cost.rewinds).toBeLessThanOrEqual(6);
    expect(answer!.cost.evaluations).toBeLessThan(150);
    const progress = await handle.query(progressQuery);
    expect(progress.bisect).toMatchObject({ window: answer!.window.transactions, range: { from: answer!.culprit.index, to: answer!.culprit.index, transactions: 1 } });
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('an UPDATE without WHERE is found by a query on the column it changed, with its rows before and after', async () => {
    const handle = await startBisect({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('bisect'), request: request(ZERO_PRICES, 'zero') });
    const { answer, failure } = await awaitBisect(handle);
    expect(failure).toBeUndefined();
    expect(answer!.culprit.gtid).toBe(updateGtid);
    expect(answer!.valueBefore).toBe('0');
    expect(answer!.valueAfter).toBe('4');
    expect(answer!.culprit.rowChanges).toEqual([expect.objectContaining({ table: 'shop.prices', kind: 'UPDATE', rows: 4 })]);
    const first = answer!.culprit.rowChanges![0]!.firstRows[0]!;
    expect(first.before).toMatch(/@2=10\.50/);
    expect(first.after).toMatch(/@2=0\.00/);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a query that never fails is refused, naming the end and the window', async () => {
    const handle = await startBisect({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('bisect'), request: request('SELECT COUNT(*) FROM shop.events WHERE n < -1', 'zero') });
    const { answer, failure } = await awaitBisect(handle);
    expect(answer).toBeUndefined();
    expect(failure?.type).toBe('BadTarget');
    expect(failure?.message).toMatch(/the end is wrong: the query never fails/);
    expect(failure?.message).toContain('Window:');
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a query that already fails on the newest backup, with no older one to try, is refused naming the start and the backup', async () => {
    const handle = await startBisect({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('bisect'), request: request('SELECT COUNT(*) FROM shop.prices', 'zero') });
    const { answer, failure } = await awaitBisect(handle);
    expect(answer).toBeUndefined();
    expect(failure?.type).toBe('BadTarget');
    expect(failure?.message).toMatch(/the start is wrong: the query already fails on the newest backup before the target, expected 0: .*manifest\.json \(it returns 4\); no older backup precedes/);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('a worker killed mid-bisect: another one resumes from a snapshot with the same answer', async () => {
    ensureWorkerBuild();
    const taskQueue = `${h.taskQueue}-kill`;
    const first = startWorkerProcess({ taskQueue, home: h.home });
    await first.ready;
    const handle = await startBisect({ client: h.client, taskQueue, workflowId: h.uniqueId('bisect'), request: request(ORPHANS, 'zero') });
    let second: ReturnType<typeof startWorkerProcess> | undefined;
    try {
      // Killed during a step (a scan, or a restart) once the search has a snapshot and a scan behind it.
      for (let i = 0; i < 2400; i++) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        if (p?.bisect && p.bisect.snapshots > 0 && p.bisect.doing !== undefined && p.bisect.replays >= 1) break;
        await sleep(50);
      }
      await first.kill('SIGKILL');
      second = startWorkerProcess({ taskQueue, home: h.home });
      await second.ready;
      const { answer, failure } = await awaitBisect(handle);
      expect(failure).toBeUndefined();
      expect(answer!.culprit.gtid).toBe(dropGtid);
      // The dead worker's activity timed out on its heartbeat: the search resumed, it did not start over.
      const { events } = await handle.fetchHistory();
      expect(events!.some((e) => e.activityTaskTimedOutEventAttributes)).toBe(true);
      expect(events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'restoreLogicalDump')).toHaveLength(1);
      expect(await h.leftovers(handle.workflowId)).toEqual([]);
    } finally {
      await first.kill('SIGKILL').catch(() => undefined);
      await second?.kill('SIGTERM');
    }
  });
});
