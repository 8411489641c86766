/**
 * The Docker daemon restarts while a drill restores (a daemon upgrade, a crash): without
 * live-restore its containers stop, the sandbox with them, and for a while every Docker call is
 * refused. The drill must wait it out, adopt its stopped sandbox (never create a second), restore
 * again from the dump, and pass. The daemon is a private one (private-dockerd.ts): the shared one
 * is never restarted. The source has a restart policy, so the daemon brings it back like a
 * production server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DockerodeRuntime } from '../../adapters/docker';
import { openSession, withSession } from '../../adapters/mysql';
import { createActivities } from '../../activities';
import type { SandboxHandle } from '../../activities/types';
import type { SqlSession } from '../../adapters/mysql';
import { defaultPaths, drillWorkDir } from '../../adapters/local-layout';
import { awaitDrill, startDrill } from '../../client/drills';
import { MANAGED_LABEL_VALUE, SandboxLabels, sandboxName } from '../../domain/naming';
import { Phases } from '../../domain/report/report';
import { containersCreated, sleep, waitForProgress } from './fault-helpers';
import { startPrivateDockerd } from './private-dockerd';
import type { PrivateDockerd } from './private-dockerd';
import { testServer } from './servers';
import { addBulkPages, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';

// MariaDB: its replay is not idempotent, so a restore that was not really redone from the dump would show.
const server = testServer('mariadb');
const { flavor, image } = server;

describe('a Docker daemon restart', () => {
  let home: string;
  let daemon: PrivateDockerd | undefined;
  let runtime: DockerodeRuntime;
  let source: LiveSource | undefined;
  let worker: WorkerProcess | undefined;
  let connection: Connection | undefined;
  let client: Client;
  const taskQueue = `it-dockerd-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    ensureWorkerBuild();
    home = await mkdtemp(path.join(os.tmpdir(), 'rd-it-dockerd-'));
    daemon = await startPrivateDockerd(String(process.pid));
    daemon.loadImage(image);
    runtime = new DockerodeRuntime(daemon.docker);
    source = await startLiveSource(runtime, server, home, `it-dockerd-${process.pid}`, { restartPolicy: 'unless-stopped' });
    // Some bulk, so that redoing the restore from the dump is real work; its size does not time anything.
    await addBulkPages(source, 50);
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    client = new Client({ connection });
    // The worker reaches Docker only through DOCKER_HOST, as a production worker would.
    worker = startWorkerProcess({ taskQueue, home, env: { DOCKER_HOST: daemon.host } });
    await worker.ready;
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await source?.destroy().catch(() => undefined);
    await daemon?.teardown();
    await connection?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('a drill whose Docker daemon restarts during its restore adopts its stopped sandbox, restores again from the dump and passes', async () => {
    const d = daemon!;
    const since = Math.floor(Date.now() / 1000) - 1;
    const handle = await startDrill({ client, taskQueue, workflowId: `dockerd-restart-${process.pid}-${Date.now().toString(36)}`, request: { source: source!.spec } });
    // The restart must land inside the restore, whatever the machine's speed: hold the restore with
    // a global read lock taken in the sandbox as soon as it answers, and restart only once a restore
    // statement is seen waiting on that lock.
    await waitForProgress(handle, (p) => p.current === Phases.SandboxStart || p.current === Phases.Restore, 600_000, 20);
    const hold = await holdSandboxWrites(path.join(drillWorkDir(defaultPaths(home), handle.workflowId), 'sandbox-sock', 'mysqld.sock'));
    let createdBefore: string[];
    let stopAt: number;
    let stoppedMs: number;
    try {
      await waitForProgress(handle, (p) => p.current === Phases.Restore, 120_000, 50);
      const held = await waitForWaitingStatement(hold, 120_000);
      console.log(`restore held by a global read lock in the sandbox: ${held}`);
      // The daemon forgets its events when it stops: read the ones before the restart now.
      createdBefore = await containersCreated(handle.workflowId, since, d.docker);
      stopAt = Date.now();
      await d.stop();
      stoppedMs = Date.now() - stopAt;
    } finally {
      await hold.close().catch(() => undefined); // its server died with the daemon (or a wait above failed)
    }
    await d.start();
    const downMs = Date.now() - stopAt;
    console.log(`private dockerd restart: stopped in ${stoppedMs} ms, answered again ${downMs} ms after the stop began`);
    const { report, failure } = await awaitDrill(handle);
    if (failure) console.log(`private dockerd log:\n${d.log().slice(-6000)}`);

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.checks.length).toBeGreaterThan(0);
    expect(report!.checks.every((c) => c.passed)).toBe(true);
    // The restore the restart cut short, then the one redone from the dump.
    expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
    const sandbox = sandboxName(handle.workflowId);
    const createdAfter = await containersCreated(handle.workflowId, Math.floor(stopAt / 1000) - 1, d.docker);
    // Adopted, never a second alongside it. Only a sandbox Docker could not start again (a restart
    // that lands while the engine starts it can leave containerd state behind) is replaced: removed,
    // then created anew, and the engine says so.
    const replacements = await sandboxReplacements(client, handle.workflowId);
    for (const why of replacements) expect(why).toMatch(/Docker could not start it again/);
    expect([...createdBefore, ...createdAfter].filter((n) => n === sandbox)).toEqual(Array(1 + replacements.length).fill(sandbox));
    // Nothing labelled remains but the source itself.
    expect((await runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).map((c) => c.name)).toEqual([source!.containerName]);
    // The source came back by its restart policy; the worker rode the restart out without dying.
    expect((await runtime.inspect(source!.containerName))?.running).toBe(true);
    expect(() => process.kill(worker!.pid, 0)).not.toThrow();
  });

  test('a stopped sandbox that Docker cannot start again is replaced by a new one, never duplicated or left behind', async () => {
    const acts = createActivities({ runtime, paths: defaultPaths(home) });
    const drillId = `replace-${process.pid}-${Date.now().toString(36)}`;
    const backupDir = await mkdtemp(path.join(home, 'backup-'));
    const firstBinlogs = await mkdtemp(path.join(home, 'binlogs-'));
    const req = { drillId, source: source!.spec.name, flavor, image, backupDir, binlogDir: firstBinlogs, ttlSeconds: 600 };
    const first = await acts.createSandbox(req);
    expect(first.replaced).toBeUndefined();
    await daemon!.docker.getContainer(first.name).stop();
    // Its binlog mount's source becomes a file: the daemon answers, but can never start that container again.
    await rm(firstBinlogs, { recursive: true });
    await writeFile(firstBinlogs, '');
    const second: SandboxHandle = await new MockActivityEnvironment().run(acts.createSandbox, { ...req, binlogDir: await mkdtemp(path.join(home, 'binlogs-')) });
    try {
      expect(second.replaced).toMatch(/Docker could not start it again/);
      expect(second.adopted).toBe(false);
      expect(second.containerId).not.toBe(first.containerId);
      expect((await runtime.listByLabel({ [SandboxLabels.run]: drillId })).map((c) => c.id)).toEqual([second.containerId]);
      expect(await withSession({ socket: second.socketPath }, { user: 'root' }, (s) => s.query<{ one: number }>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
    } finally {
      await acts.removeSandbox({ drillId });
    }
    expect(await runtime.listByLabel({ [SandboxLabels.run]: drillId })).toEqual([]);
  });
});

/** Why each createSandbox of the drill replaced its sandbox instead of adopting it, from the history. */
async function sandboxReplacements(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const out: string[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    if (!done || scheduled.get(String(done.scheduledEventId)) !== 'createSandbox') continue;
    const payload = done.result?.payloads?.[0];
    const handle = payload ? defaultPayloadConverter.fromPayload<{ replaced?: string }>(payload) : undefined;
    if (handle?.replaced) out.push(handle.replaced);
  }
  return out;
}

/** Opens a root session on the sandbox's socket as soon as it answers and takes a global read lock: every write waits. */
async function holdSandboxWrites(socket: string): Promise<SqlSession> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const session = await openSession({ socket }, { user: 'root' }).catch(() => undefined);
    if (session) {
      try {
        await session.query('FLUSH TABLES WITH READ LOCK');
        return session;
      } catch (err) {
        await session.close().catch(() => undefined);
        if (Date.now() > deadline) throw err;
      }
    }
    if (Date.now() > deadline) throw new Error(`the sandbox socket ${socket} did not answer within 120 s`);
    await sleep(20);
  }
}

/**
 * Waits until another session's statement waits on the global read lock (MariaDB implements it
 * with backup locks and says so in the state): proof that the restore is
 * in progress and held. A restore that finished before the lock was taken never shows one, and the
 * test fails here instead of restarting the daemon outside the restore.
 */
async function waitForWaitingStatement(hold: SqlSession, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await hold.query<{ ID: number; STATE: string | null; INFO: string | null }>(
      "SELECT ID, STATE, INFO FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND (STATE LIKE '%global read lock%' OR STATE LIKE '%backup lock%')",
    );
    if (rows.length > 0) return `${rows[0]!.STATE}: ${String(rows[0]!.INFO ?? '').slice(0, 80)}`;
    if (Date.now() > deadline) throw new Error(`no restore statement waited on the sandbox's global read lock within ${timeoutMs / 1000} s: the restore was not held`);
    await sleep(100);
  }
}
