/**
 * The restored database works, not only holds rows (issue #16): views, routines, triggers and
 * events exist as the source (or the team's dump) has them, their DEFINERs exist in the sandbox
 * (created locked, or the drill fails), every view selects, and a team's dump restored as taken
 * holds the rows it inserts, table by table. One source per flavor, one backup reused.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillRequestInput } from '../../config/schema';
import { withSession } from '../../adapters/mysql';
import { CONTAINER_SOCKET_DIR, FLAVOR_TOOLS } from '../../domain/flavors';
import { progressQuery, releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const DATABASES = ['shop', 'reports'];

/** #16: a view, a trigger and a procedure whose DEFINER, app@'%', exists on the source only; a reports view over a table of its own. */
const OBJECTS_SQL = [
  'CREATE DATABASE shop',
  'CREATE DATABASE reports',
  "CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'",
  "GRANT ALL PRIVILEGES ON shop.* TO 'app'@'%'",
  "CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2) NOT NULL, status VARCHAR(16) NOT NULL DEFAULT '')",
  'CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL)',
  "CREATE DEFINER='app'@'%' TRIGGER shop.orders_bi BEFORE INSERT ON shop.orders FOR EACH ROW SET NEW.status = 'new'",
  "CREATE DEFINER='app'@'%' TRIGGER shop.orders_ai AFTER INSERT ON shop.orders FOR EACH ROW INSERT INTO shop.audit (order_id) VALUES (NEW.id)",
  "CREATE DEFINER='app'@'%' SQL SECURITY DEFINER VIEW shop.open_orders AS SELECT id, total FROM shop.orders WHERE status = 'new'",
  "CREATE DEFINER='app'@'%' PROCEDURE shop.cancel_order(IN p_id INT) UPDATE shop.orders SET status = 'cancelled' WHERE id = p_id",
  "INSERT INTO shop.orders (total) VALUES (10.00), (20.50), (7.25)",
  'CREATE TABLE reports.sales (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL)',
  'INSERT INTO reports.sales VALUES (1, 5.00), (2, 6.00)',
  'CREATE VIEW reports.monthly AS SELECT SUM(amount) AS total FROM reports.sales',
];

/** The dump tool of the source's own image, as a team's cron job runs it, into a plain file. */
function dumpToFile(source: LiveSource, args: string[], file: string): Promise<void> {
  const dumper = spawn('docker', ['exec', source.containerName, FLAVOR_TOOLS[source.flavor].dump, '-uroot', `--socket=${CONTAINER_SOCKET_DIR}/mysqld.sock`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = createWriteStream(file);
  dumper.stdout.pipe(out);
  return new Promise((resolve, reject) => {
    dumper.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`dump exited ${code}`))));
    out.on('close', () => resolve());
  });
}

describe.each(BOTH_FLAVORS)('a restored $name database works, not only holds rows', (server) => {
  let h: Harness;
  let source: LiveSource;
  let manifest: string;
  const spec = () => ({ ...source.spec, databases: DATABASES });
  const drill = async (id: string, request: Partial<DrillRequestInput>) => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId(id), request: { source: spec(), ...request } });
    return { handle, ...(await awaitDrill(handle)) };
  };

  beforeAll(async () => {
    h = await startHarness(`objects-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-objects-${server.id}-${process.pid}`);
    for (const sql of OBJECTS_SQL) await source.admin(sql);
  });

  afterAll(async () => {
    try {
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test("#16: objects whose definer app@'%' exists only on the source pass with app@% created locked and reported; in the kept sandbox the trigger fires, the view selects, the procedure runs", async () => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('definers'), request: { source: spec(), keepSandbox: true, sandboxTtlSeconds: 600 } });
    let progress: DrillProgress | undefined;
    for (let i = 0; i < 240 && progress?.status !== 'kept' && progress?.status !== 'done'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      progress = await handle.query(progressQuery).catch(() => undefined);
    }
    expect(progress?.status).toBe('kept');
    const used = await withSession({ socket: progress!.sandbox!.socketPath }, { user: 'root' }, async (s) => {
      // Before the drill created app@%, this INSERT failed with ERROR 1449.
      await s.query('INSERT INTO shop.orders (total) VALUES (3.00)');
      const [audit] = await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM shop.audit');
      const open = await s.query('SELECT * FROM shop.open_orders');
      await s.query('CALL shop.cancel_order(1)');
      const [account] = await s.query<Record<string, string>>("SHOW CREATE USER 'app'@'%'");
      return { audit: Number(audit.n), open: open.length, account: Object.values(account)[0] };
    });
    expect(used).toEqual({ audit: 4, open: 4, account: expect.stringMatching(/ACCOUNT LOCK/) });
    await handle.signal(releaseSignal);
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    manifest = path.join(path.dirname(report!.backup.artifactPath), 'manifest.json');
    expect(report!.objects).toEqual({ checked: { view: 2, procedure: 1, trigger: 2 }, accountsCreated: ['app@%'] });
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'definer:app@%', passed: true, actual: 'created locked' }));
    for (const name of ['object:trigger:shop.orders_bi', 'object:trigger:shop.orders_ai', 'object:view:shop.open_orders', 'object:procedure:shop.cancel_order', 'view:shop.open_orders', 'view:reports.monthly'])
      expect(report!.checks).toContainEqual(expect.objectContaining({ name, passed: true }));
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test('with checks.missingDefiners fail, the same backup fails typed DefinerMissing naming app@% and the objects it defines', async () => {
    expect(manifest).toBeDefined();
    const { handle, report, failure } = await drill('definers-fail', { backup: { manifest }, missingDefiners: 'fail' });
    expect(failure?.type).toBe('DefinerMissing');
    expect(failure?.message).toMatch(/app@% is the DEFINER of .*trigger shop\.orders_bi/);
    expect(report!.objects?.accountsCreated).toEqual([]);
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });

  test("a team's dump restored as taken: the objects it declares exist with their definers, and every table holds the rows it inserts; an INSERT IGNORE whose row collides fails RowsLoadedMismatch naming the table and both numbers", async () => {
    const team = path.join(h.home, 'team');
    await mkdir(team, { recursive: true });
    const file = path.join(team, 'shop.sql');
    // No --source-data: nothing to roll forward, nothing to compare with; the dump is the reference.
    await dumpToFile(source, ['--single-transaction', '--routines', '--triggers', '--events', '--databases', ...DATABASES], file);
    const { report, failure } = await drill('team', { backup: { team: { location: team, pick: 'latest' } } });
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.backup.notRolledForward).toBeDefined();
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'object:trigger:shop.orders_bi', passed: true }));
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'object:procedure:shop.cancel_order', passed: true }));
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'object:view:reports.monthly', passed: true }));
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'rows-loaded:shop.orders', passed: true, expected: '3', actual: '3' }));
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'rows-loaded:reports.sales', passed: true, expected: '2', actual: '2' }));
    expect(report!.objects?.accountsCreated).toEqual(['app@%']);

    // The same dump with one more row for reports.sales that collides with a dumped one: the dump says 3, the table holds 2.
    const text = await readFile(file, 'utf8');
    const at = text.indexOf('UNLOCK TABLES;', text.indexOf('LOCK TABLES `sales` WRITE;'));
    await writeFile(file, `${text.slice(0, at)}INSERT IGNORE INTO \`sales\` VALUES (1,9.99);\n${text.slice(at)}`);
    const collided = await drill('team-rows', { backup: { team: { location: team, pick: 'latest' } } });
    expect(collided.failure?.type).toBe('RowsLoadedMismatch');
    expect(collided.failure?.message).toMatch(/reports\.sales: the dump inserts 3 rows but the restored table holds 2/);
    expect(await h.leftovers(collided.handle.workflowId)).toEqual([]);
  });

  test('a view whose table was dropped after the backup is replayed unusable and fails typed ViewUnusable naming it', async () => {
    expect(manifest).toBeDefined();
    // mysqldump refuses to dump a broken view, so the damage comes through the binlogs.
    await source.admin('DROP TABLE reports.sales');
    const { handle, report, failure } = await drill('view', { backup: { manifest } });
    expect(failure?.type).toBe('ViewUnusable');
    expect(failure?.message).toMatch(/view reports\.monthly cannot be selected from/);
    expect(report!.checks).toContainEqual(expect.objectContaining({ name: 'view:reports.monthly', passed: false, failureType: 'ViewUnusable' }));
    expect(await h.leftovers(handle.workflowId)).toEqual([]);
  });
});
