/**
 * The fault suite: a drill survives crashes of its worker, its sandbox and the Temporal server,
 * refuses damaged or incomplete backups with a specific error, never publishes a partial
 * artifact, never overlaps another drill of its source, and leaves nothing labelled behind.
 * Real components throughout: Temporal, Docker, MariaDB 10.11 / MySQL 9.7, workers in their own
 * processes where a test kills one.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Client, Connection } from '@temporalio/client';
import Docker from 'dockerode';
import { createActivities } from '../../activities';
import type { PublishedBackup } from '../../activities';
import { awaitDrill, startDrill } from '../../client/drills';
import { sandboxName, toolContainerName } from '../../domain/naming';
import { janitorWorkflow, releaseSignal, sourceLockWorkflowId } from '../../workflows';
import { recordHistoryIfAsked, sleep, unlabelledContainers, waitForProgress, watchContainersCreated } from './fault-helpers';
import type { ContainerState } from './fault-helpers';
import { BOTH_FLAVORS } from './servers';
import { freePort, startHarness } from './harness';
import type { Harness } from './harness';
import { addBulkPages, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';

const root = path.resolve(__dirname, '../..');

function typeOf(err: unknown): string | undefined {
  return (err as { type?: string })?.type;
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/**
 * Activity types that had an attempt time out (the worker running it died) and later completed
 * (retried by Temporal or, for restore and replay, by the drill's own loop), from a drill's history.
 */
async function redoneAfterTimeout(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const timedOut = new Set<string>();
  const redone = new Set<string>();
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    if (e.activityTaskTimedOutEventAttributes) timedOut.add(scheduled.get(String(e.activityTaskTimedOutEventAttributes.scheduledEventId)) ?? '?');
    // An activity with retries left records no timeout event: its next attempt carries the timeout as lastFailure.
    const started = e.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1 && started.lastFailure?.timeoutFailureInfo) timedOut.add(scheduled.get(String(started.scheduledEventId)) ?? '?');
    const completed = e.activityTaskCompletedEventAttributes;
    const type = completed && scheduled.get(String(completed.scheduledEventId));
    if (type && timedOut.has(type)) redone.add(type);
  }
  return [...redone];
}

describe.each(BOTH_FLAVORS)('faults on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let unlabelledBefore: ContainerState[];
  let base: PublishedBackup;
  const workers: WorkerProcess[] = [];

  // A test that fails before its own stop() must not leave Docker's event stream open: it keeps jest from exiting.
  const watchers: { stop(): Promise<string[]> }[] = [];
  const watchCreates = async (drillId: string) => {
    const w = await watchContainersCreated(drillId);
    watchers.push(w);
    return w;
  };
  afterEach(async () => {
    for (const w of watchers.splice(0)) await w.stop();
  });

  const startWorker = async (taskQueue: string, env?: Record<string, string>) => {
    const w = startWorkerProcess({ taskQueue, home: h.home, env });
    workers.push(w);
    await w.ready;
    return w;
  };

  /** Nothing labelled for this drill remains and no unlabelled container changed. */
  const expectNoDebris = async (drillId: string) => {
    expect(await h.leftovers(drillId)).toEqual([]);
    expect(await unlabelledContainers()).toEqual(expect.arrayContaining(unlabelledBefore));
  };

  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness(`faults-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-fault-${server.id}-${process.pid}`);
    await addBulkPages(source);
    unlabelledBefore = await unlabelledContainers();
    const acts = createActivities({ runtime: h.runtime, paths: h.paths });
    base = await acts.takeLogicalBackup({ drillId: h.uniqueId('base'), source: source.spec, facts: await acts.inspectSource(source.spec) });
  });

  afterAll(async () => {
    try {
      for (const w of workers) await w.kill('SIGKILL');
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  // Crash resumption on both flavors: MariaDB's replay is not idempotent (no GTID skip), so a retried replay must
  // really start from the dump; MySQL's is (known GTIDs are skipped). About 2 minutes each: three heartbeat timeouts.
  test('a drill survives SIGKILL of its worker during backup, restore and replay, and only one sandbox ever exists', async () => {
    const taskQueue = `${h.taskQueue}-kill`;
    const workflowId = h.uniqueId('kill');
    const creates = await watchCreates(workflowId);
    // A table nobody writes during the drill makes the dump, and so the window between the backup's snapshot and
    // the checkpoint in which the churn below is written, a few seconds long. With bulk.pages alone the replay of
    // that churn took 0.3 s on MariaDB, and once was over before a poll saw it.
    await source.admin('CREATE TABLE IF NOT EXISTS bulk.ballast LIKE bulk.pages');
    for (let k = 0; k < 5; k++) await source.admin(`INSERT IGNORE INTO bulk.ballast SELECT id + ${k * 100_000}, body FROM bulk.pages`);
    try {
      let worker = await startWorker(taskQueue);
      source.writer.start();
      // Large row changes between backup and checkpoint give the replay tens of MB to apply: long enough to be hit.
      let churning = true;
      const churn = (async () => {
        while (churning) await source.admin('UPDATE bulk.pages SET body = REVERSE(body)');
      })();
      const stopWriting = async () => {
        churning = false;
        await churn;
        await source.writer.stop();
      };
      const handle = await startDrill({ client: h.client, taskQueue, workflowId, request: { source: source.spec } });
      const dumper = new Docker().getContainer(toolContainerName(handle.workflowId, 'dump'));
      try {
        for (const phase of ['backup', 'restore', 'replay']) {
          await waitForProgress(handle, (p) => p.current === phase, 600_000, 50);
          // Mid-backup means while the dumper runs: the worker is then surely inside the activity.
          if (phase === 'backup') for (let i = 0; i < 1200 && !(await dumper.inspect().catch(() => undefined)); i++) await sleep(25);
          await worker.kill('SIGKILL');
          if (phase === 'restore') await stopWriting();
          worker = await startWorker(taskQueue);
        }
      } finally {
        // Never leave the churn running into the next tests, whatever happened above.
        await stopWriting();
      }
      const { report, failure } = await awaitDrill(handle);

      expect(failure).toBeUndefined();
      expect(report!.outcome).toBe('passed');
      expect(report!.checks.every((c) => c.passed)).toBe(true);
      expect(await redoneAfterTimeout(h.client, handle.workflowId)).toEqual(expect.arrayContaining(['takeLogicalBackup', 'restoreLogicalDump', 'replayBinlogs']));
      expect((await creates.stop()).filter((n) => n === sandboxName(handle.workflowId))).toHaveLength(1);
      await expectNoDebris(handle.workflowId);
    } finally {
      await source.admin('DROP TABLE IF EXISTS bulk.ballast');
    }
  });

  test('a drill finishes after the Temporal server restarts in the middle of it', async () => {
    // A private server (same script, own port and database): restarting the shared one would break everyone else's runs.
    const serverHome = await mkdtemp(path.join(os.tmpdir(), 'rd-it-temporal-'));
    // Ports the kernel hands out as free: a port derived from the pid fell in the ephemeral range, where a client socket had it.
    const port = await freePort();
    const env = { ...process.env, RESTORE_DRILL_HOME: serverHome, TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(await freePort()) };
    const temporal = (cmd: string) => execFileSync('bash', [path.join(root, 'deploy/temporal.sh'), cmd], { env, stdio: 'pipe', timeout: 120_000 });
    temporal('start');
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const client = new Client({ connection });
      const taskQueue = `${h.taskQueue}-restart`;
      await startWorker(taskQueue, { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
      const handle = await startDrill({ client, taskQueue, workflowId: h.uniqueId('restart'), request: { source: source.spec } });
      await waitForProgress(handle, (p) => p.current === 'restore', 600_000, 50);
      temporal('stop');
      await sleep(3000);
      temporal('start');
      const { report, failure } = await awaitDrill(handle);

      expect(failure).toBeUndefined();
      expect(report!.outcome).toBe('passed');
      await expectNoDebris(handle.workflowId);
    } finally {
      await connection.close();
      temporal('stop');
      await rm(serverHome, { recursive: true, force: true });
    }
  });

  test('a sandbox killed under the restore is restarted, restored again from the dump, and the drill passes', async () => {
    const workflowId = h.uniqueId('sbkill');
    const creates = await watchCreates(workflowId);
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId, request: { source: source.spec } });
    await waitForProgress(handle, (p) => p.current === 'restore', 600_000, 50);
    execFileSync('docker', ['kill', sandboxName(handle.workflowId)], { timeout: 60_000 });
    const { report, failure } = await awaitDrill(handle);

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
    expect((await creates.stop()).filter((n) => n === sandboxName(handle.workflowId))).toHaveLength(1);
    await expectNoDebris(handle.workflowId);
  });

  test('a dumper killed mid-dump fails the drill with ToolFailed and publishes nothing', async () => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('dumpkill'), request: { source: source.spec } });
    // SIGKILL the dump process itself, from the host, as the OOM killer would.
    const dumper = new Docker().getContainer(toolContainerName(handle.workflowId, 'dump'));
    let pid = 0;
    for (let i = 0; i < 1200 && !pid; i++) {
      pid = (await dumper.inspect().catch(() => undefined))?.State.Pid ?? 0;
      if (!pid) await sleep(25);
    }
    // process.kill(0) would signal this test runner's own process group.
    if (!pid) throw new Error(`the dump container ${toolContainerName(handle.workflowId, 'dump')} never ran a process within 30 s: nothing to kill (a dump faster than the poll, or no dump started)`);
    process.kill(pid, 'SIGKILL');
    const { report, failure } = await awaitDrill(handle);

    expect(failure?.type).toBe('ToolFailed');
    expect(failure?.message).toMatch(/exited with 137/);
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    const backups = await readdir(path.dirname(base.backupDir));
    expect(backups.filter((b) => b.includes(handle.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_')))).toEqual([]);
    await expectNoDebris(handle.workflowId);
  });

  test('a backup without its completion trailer is refused with DumpTruncated and the original is untouched', async () => {
    const originalSha = await sha256(base.dumpPath);
    const dir = await mkdtemp(path.join(h.home, 'no-trailer-'));
    const text = gunzipSync(await readFile(base.dumpPath)).toString('utf8');
    const cut = gzipSync(Buffer.from(text.slice(0, text.lastIndexOf('-- Dump completed'))));
    await writeFile(path.join(dir, base.manifest.file), cut);
    // A manifest that matches the cut file: only the missing trailer can give it away.
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ ...base.manifest, bytes: cut.length, sha256: createHash('sha256').update(cut).digest('hex') }));
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('notrailer'), request: { source: source.spec, backup: { manifest: path.join(dir, 'manifest.json') } } });
    const { report, failure } = await awaitDrill(handle);

    expect(failure?.type).toBe('DumpTruncated');
    expect(report!.phases.map((p) => p.phase)).not.toContain('sandbox-start');
    expect(await sha256(base.dumpPath)).toBe(originalSha);
    await recordHistoryIfAsked(h.client, handle.workflowId, `failed-${flavor}`);
    await expectNoDebris(handle.workflowId);
  });

  test('a backup with one flipped byte is refused with ArtifactCorrupt and the original is untouched', async () => {
    const originalSha = await sha256(base.dumpPath);
    const dir = await mkdtemp(path.join(h.home, 'flipped-'));
    const bytes = await readFile(base.dumpPath);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await writeFile(path.join(dir, base.manifest.file), bytes);
    await copyFile(base.manifestPath, path.join(dir, 'manifest.json'));
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('flipped'), request: { source: source.spec, backup: { manifest: path.join(dir, 'manifest.json') } } });
    const { failure } = await awaitDrill(handle);

    expect(failure?.type).toBe('ArtifactCorrupt');
    expect(failure?.message).toContain(path.join(dir, base.manifest.file));
    expect(await sha256(base.dumpPath)).toBe(originalSha);
    await expectNoDebris(handle.workflowId);
  });

  test('a full disk while the dump is written fails with DiskFull and publishes nothing', async () => {
    const artifactRoot = await mkdtemp(path.join(os.tmpdir(), 'rd-it-full-'));
    // Room for a quarter of the compressed dump.
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.max(64, Math.floor(base.manifest.bytes / 4096))}k`, 'tmpfs', artifactRoot]);
    try {
      const acts = createActivities({ runtime: h.runtime, paths: { artifactRoot, workRoot: h.paths.workRoot } });
      const drillId = h.uniqueId('full');
      const err = await acts.takeLogicalBackup({ drillId, source: source.spec, facts: await acts.inspectSource(source.spec) }).catch((e: unknown) => e);
      expect({ type: typeOf(err), message: String((err as Error)?.message) }).toEqual({ type: 'DiskFull', message: expect.stringMatching(/disk .* is full/) });
      const backupsDir = path.join(artifactRoot, source.spec.name, 'backups');
      expect(await readdir(backupsDir)).toEqual([]);
      await expectNoDebris(drillId);
    } finally {
      execFileSync('umount', [artifactRoot]);
      await rm(artifactRoot, { recursive: true, force: true });
    }
  });

  test('a second drill of a source that is already being drilled is refused with SourceBusy, and the first passes', async () => {
    const first = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('first'), request: { source: source.spec } });
    await waitForProgress(first, (p) => p.current !== undefined || p.phases.length > 0);
    const second = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('second'), request: { source: source.spec } });
    const refused = await awaitDrill(second);
    const passed = await awaitDrill(first);

    expect(refused.failure?.type).toBe('SourceBusy');
    expect(refused.failure?.message).toContain(sourceLockWorkflowId(source.spec.name));
    expect(refused.report!.phases).toEqual([]);
    expect(passed.failure).toBeUndefined();
    // Released after the first drill's cleanup, not left for the next one to trip on.
    expect((await h.client.workflow.getHandle(sourceLockWorkflowId(source.spec.name)).describe()).status.name).toBe('COMPLETED');
    await expectNoDebris(second.workflowId);
    await expectNoDebris(first.workflowId);
  });

  test('a drill cancelled during its restore runs its cleanup, releases its source and leaves nothing behind', async () => {
    const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('cancel'), request: { source: source.spec } });
    await waitForProgress(handle, (p) => p.current === 'restore', 600_000, 50);
    await handle.cancel();
    const { failure } = await awaitDrill(handle).catch((err: Error) => ({ failure: { type: err.name, message: err.message } }));

    expect(failure).toBeDefined();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect((await h.client.workflow.getHandle(sourceLockWorkflowId(source.spec.name)).describe()).status.name).toBe('COMPLETED');
    await expect(readdir(path.join(h.paths.workRoot, handle.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_')))).rejects.toThrow(/ENOENT/);
    await recordHistoryIfAsked(h.client, handle.workflowId, `cancelled-${flavor}`);
    await expectNoDebris(handle.workflowId);
  });

  // Flavor-independent machinery (janitor, alerts): run once, on MariaDB.
  if (flavor === 'mariadb') {
    test('one janitor run removes what a terminated drill left, and leaves a running drill and unlabelled containers alone', async () => {
      const live = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('live'), request: { source: source.spec, keepSandbox: true, sandboxTtlSeconds: 600 } });
      // Another source name on the same server: its own lock, so both drills can run.
      const orphanSource = { ...source.spec, name: `${source.spec.name}-b` };
      const doomed = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: h.uniqueId('doomed'), request: { source: orphanSource } });
      await waitForProgress(doomed, (p) => p.current === 'restore', 600_000, 50);
      await doomed.terminate('simulating a crashed host: no cleanup runs');
      await waitForProgress(live, (p) => p.status === 'kept', 600_000, 200);
      const partial = path.join(h.paths.artifactRoot, orphanSource.name, 'backups', `.partial-${doomed.workflowId}`);
      await mkdir(partial, { recursive: true });
      const doomedWork = path.join(h.paths.workRoot, doomed.workflowId);
      expect(await h.leftovers(doomed.workflowId)).toEqual([sandboxName(doomed.workflowId)]);
      const stranger = new Docker().getContainer((await new Docker().createContainer({ name: `it-stranger-${flavor}-${process.pid}`, Image: source.spec.image!, Cmd: ['sleep', 'infinity'], HostConfig: { NetworkMode: 'none' } })).id);
      try {
        await stranger.start();
        const unlabelled = await unlabelledContainers();
        const sweep = await h.client.workflow.execute(janitorWorkflow, { taskQueue: h.taskQueue, workflowId: h.uniqueId('janitor'), args: [{}] });

        expect(sweep.removedContainers).toEqual(expect.arrayContaining([expect.stringContaining(sandboxName(doomed.workflowId))]));
        expect(sweep.removedFolders).toEqual(expect.arrayContaining([expect.stringContaining(partial), expect.stringContaining(doomedWork)]));
        expect(await h.leftovers(doomed.workflowId)).toEqual([]);
        await expect(readdir(doomedWork)).rejects.toThrow(/ENOENT/);
        await expect(readdir(partial)).rejects.toThrow(/ENOENT/);
        expect(await h.leftovers(live.workflowId)).toEqual([sandboxName(live.workflowId)]);
        expect((await h.runtime.inspect(sandboxName(live.workflowId)))?.running).toBe(true);
        expect((await h.runtime.inspect(source.containerName))?.running).toBe(true);
        expect(await unlabelledContainers()).toEqual(unlabelled);
      } finally {
        await stranger.remove({ force: true });
      }
      await live.signal(releaseSignal);
      expect((await awaitDrill(live)).failure).toBeUndefined();
      await expectNoDebris(live.workflowId);
    });

    test('a failed drill and the first pass after it are posted to the webhook with drill id, source, failure type and UI link', async () => {
      const received: { body: Record<string, unknown>; contentType?: string }[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          received.push({ body: JSON.parse(body) as Record<string, unknown>, contentType: req.headers['content-type'] });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
        const taskQueue = `${h.taskQueue}-alerts`;
        const worker = await startWorker(taskQueue, { RESTORE_DRILL_WEBHOOK_URL: url, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' });
        const dir = await mkdtemp(path.join(h.home, 'alert-flipped-'));
        const bytes = await readFile(base.dumpPath);
        bytes[100] ^= 0xff;
        await writeFile(path.join(dir, base.manifest.file), bytes);
        await copyFile(base.manifestPath, path.join(dir, 'manifest.json'));
        const failed = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('alertfail'), request: { source: source.spec, backup: { manifest: path.join(dir, 'manifest.json') } } });
        expect((await awaitDrill(failed)).failure?.type).toBe('ArtifactCorrupt');
        const passed = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('alertpass'), request: { source: source.spec, backup: { manifest: base.manifestPath } } });
        expect((await awaitDrill(passed)).failure).toBeUndefined();
        const again = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('alertquiet'), request: { source: source.spec, backup: { manifest: base.manifestPath } } });
        expect((await awaitDrill(again)).failure).toBeUndefined();

        expect(received.map((r) => r.body.kind)).toEqual(['failed', 'recovered']); // a second pass is quiet
        expect(received[0].contentType).toBe('application/json');
        expect(received[0].body).toMatchObject({ drillId: failed.workflowId, source: source.spec.name, outcome: 'failed', failureType: 'ArtifactCorrupt', url: expect.stringContaining(`/namespaces/default/workflows/${failed.workflowId}/`) });
        expect(received[0].body.message).toMatch(/sha256|gzip/);
        expect(received[1].body).toMatchObject({ drillId: passed.workflowId, source: source.spec.name, outcome: 'passed' });
        expect(worker.output()).toContain(`restore-drill alert: drill of ${source.spec.name} failed`);
        for (const id of [failed.workflowId, passed.workflowId, again.workflowId]) await expectNoDebris(id);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });
  }
});
