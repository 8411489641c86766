/**
 * Sandboxes placed on worker hosts, and a host lost mid-drill. Two worker processes on this
 * machine act as two hosts: different host names, each with a Docker daemon of its own
 * (private-dockerd.ts) and a scratch folder of its own, one shared artifact folder (the store
 * both hosts reach) and one Temporal server. The source runs on the shared daemon. MariaDB 10.11
 * only: placement is flavor-independent machinery.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { stringify } from 'yaml';
import { DockerodeRuntime } from '../../adapters/docker';
import { openSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { awaitDrill, startDrill } from '../../client/drills';
import { hostTaskQueue } from '../../domain/placement';
import { MANAGED_LABEL_VALUE, SandboxLabels } from '../../domain/naming';
import { Phases } from '../../domain/report/report';
import { janitorWorkflow } from '../../workflows';
import { sleep, waitForProgress } from './fault-helpers';
import { startPrivateDockerd } from './private-dockerd';
import type { PrivateDockerd } from './private-dockerd';
import { testServer } from './servers';
import { addBulkPages, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';

const server = testServer('mariadb');
const HOSTS = ['host-a', 'host-b'] as const;
type HostName = (typeof HOSTS)[number];

/** The sandbox's own activities: every one of a drill must run on the host its sandbox is on. */
const SANDBOX_ACTIVITIES = new Set(['createSandbox', 'restoreLogicalDump', 'replayBinlogs', 'verifyRestore', 'proveRecoveryPoint', 'removeSandbox', 'quiesceSandbox', 'inspectSandbox']);
const SOURCE_ACTIVITIES = new Set(['inspectSource', 'takeLogicalBackup', 'verifyBackup', 'captureSourceCheckpoint', 'archiveBinlogs', 'planReplay']);

interface Host {
  name: HostName;
  daemon: PrivateDockerd;
  runtime: DockerodeRuntime;
  workDir: string;
  config: string;
  worker?: WorkerProcess;
}

interface ScheduledActivity {
  type: string;
  taskQueue: string;
  at: number;
}

async function scheduledActivities(handle: WorkflowHandle): Promise<ScheduledActivity[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a) return [];
    const t = e.eventTime;
    return [{ type: a.activityType?.name ?? '', taskQueue: a.taskQueue?.name ?? '', at: t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0 }];
  });
}

describe('sandbox placement over two worker hosts', () => {
  let home: string;
  let source: LiveSource | undefined;
  let connection: Connection | undefined;
  let client: Client;
  const hosts: Host[] = [];
  const taskQueue = `it-place-${process.pid}-${Date.now().toString(36)}`;
  const hostNamed = (name: string) => hosts.find((h) => h.name === name)!;
  const startWorker = async (h: Host) => {
    // The configuration file names the host, its capacity and its scratch folder; the process reaches its own daemon only.
    h.worker = startWorkerProcess({ taskQueue, home, env: { DOCKER_HOST: h.daemon.host, RESTORE_DRILL_CONFIG: h.config } });
    await h.worker.ready;
  };

  beforeAll(async () => {
    ensureWorkerBuild();
    home = await mkdtemp(path.join(os.tmpdir(), 'rd-it-place-'));
    const shared = new DockerodeRuntime();
    source = await startLiveSource(shared, server, home, `it-place-${process.pid}`);
    // Some bulk, so that a restore is real work; its size does not time anything.
    await addBulkPages(source, 30);
    for (const name of HOSTS) {
      const daemon = await startPrivateDockerd(`${process.pid}-${name}`);
      daemon.loadImage(server.image);
      const workDir = path.join(home, `w-${name.slice(-1)}`);
      const config = path.join(home, `${name}.yaml`);
      await writeFile(config, stringify({ worker: { host: name, capacity: { sandboxes: 1 }, workDir }, sources: { [source.spec.name]: { connection: source.spec.connection, user: source.spec.user } } }));
      hosts.push({ name, daemon, runtime: new DockerodeRuntime(daemon.docker), workDir, config });
    }
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    client = new Client({ connection });
    for (const h of hosts) await startWorker(h);
  });

  afterAll(async () => {
    for (const h of hosts) await h.worker?.kill('SIGKILL');
    await source?.destroy().catch(() => undefined);
    for (const h of hosts) await h.daemon.teardown();
    await connection?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('a drill runs its source-side activities on the shared queue and every sandbox activity on the one host it was placed on, which its report names', async () => {
    const handle = await startDrill({ client, taskQueue, workflowId: `place-${process.pid}-${Date.now().toString(36)}`, request: { source: source!.spec } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    const host = report!.sandbox?.host;
    expect(HOSTS).toContain(host);
    const activities = await scheduledActivities(handle);
    const sandboxSide = activities.filter((a) => SANDBOX_ACTIVITIES.has(a.type));
    expect(sandboxSide.map((a) => a.type)).toEqual(expect.arrayContaining(['createSandbox', 'restoreLogicalDump', 'verifyRestore', 'removeSandbox']));
    expect(new Set(sandboxSide.map((a) => a.taskQueue))).toEqual(new Set([hostTaskQueue(taskQueue, host!)]));
    const sourceSide = activities.filter((a) => SOURCE_ACTIVITIES.has(a.type));
    expect(sourceSide.length).toBeGreaterThanOrEqual(5);
    expect(new Set(sourceSide.map((a) => a.taskQueue))).toEqual(new Set([taskQueue]));
    // Removed on its host; nothing labelled on either.
    for (const h of hosts) expect(await h.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).toEqual([]);
  });

  test('a host lost during the restore (its worker killed, its Docker engine stopped): the drill runs the sandbox phase again on the other host and passes; back, the lost host\'s janitor removes what it left', async () => {
    const handle = await startDrill({ client, taskQueue, workflowId: `place-lost-${process.pid}-${Date.now().toString(36)}`, request: { source: source!.spec } });
    // The kill must land inside the restore: hold it with a global read lock taken in the sandbox as soon as it answers.
    await waitForProgress(handle, (p) => p.current === Phases.SandboxStart || p.current === Phases.Restore, 600_000, 20);
    const { session: hold, host: lostName } = await holdSandboxWrites(hosts.map((h) => ({ host: h.name, socket: path.join(h.workDir, handle.workflowId, 'sandbox-sock', 'mysqld.sock') })));
    await waitForProgress(handle, (p) => p.current === Phases.Restore, 120_000, 50);
    await waitForWaitingStatement(hold, 120_000);
    const lost = hostNamed(lostName);
    const other = hosts.find((h) => h !== lost)!;
    const killedAt = Date.now();
    await lost.worker!.kill('SIGKILL');
    await lost.daemon.stop();
    await hold.close().catch(() => undefined);
    const { report, failure } = await awaitDrill(handle);
    const finishedMs = Date.now() - killedAt;

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.checks.every((c) => c.passed)).toBe(true);
    expect(report!.sandbox).toMatchObject({ host: other.name, lostHosts: [lost.name] });
    expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
    // The sandbox phase moved: from the kill to its first call on the other host's queue, within the stated bound.
    const activities = await scheduledActivities(handle);
    const firstOnOther = activities.find((a) => a.taskQueue === hostTaskQueue(taskQueue, other.name) && a.at > killedAt);
    expect(firstOnOther).toBeDefined();
    const noticedMs = firstOnOther!.at - killedAt;
    console.log(`host ${lost.name} lost mid-restore: the sandbox phase moved to ${other.name} after ${(noticedMs / 1000).toFixed(1)} s; the drill passed ${(finishedMs / 1000).toFixed(1)} s after the kill`);
    expect(noticedMs).toBeLessThan(60_000);
    expect(activities.filter((a) => SANDBOX_ACTIVITIES.has(a.type) && a.at > firstOnOther!.at).every((a) => a.taskQueue === hostTaskQueue(taskQueue, other.name))).toBe(true);
    expect(await other.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).toEqual([]);

    // The lost host comes back: its daemon kept the dead sandbox, its scratch folder the drill's folder; its own janitor clears both.
    await lost.daemon.start();
    expect((await lost.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).length).toBeGreaterThan(0);
    await startWorker(lost);
    const swept = await client.workflow.execute(janitorWorkflow, { taskQueue: hostTaskQueue(taskQueue, lost.name), workflowId: `janitor-${lost.name}-${Date.now().toString(36)}`, args: [{}] });
    expect(swept.removedContainers.length).toBeGreaterThan(0);
    for (const h of hosts) expect(await h.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).toEqual([]);
    expect(await readdir(lost.workDir)).toEqual([]);
  });
});

/** A root session on whichever host's sandbox answers first, holding a global read lock: every write of the restore waits. */
async function holdSandboxWrites(candidates: { host: string; socket: string }[]): Promise<{ session: SqlSession; host: string }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    for (const c of candidates) {
      const session = await openSession({ socket: c.socket }, { user: 'root' }).catch(() => undefined);
      if (!session) continue;
      try {
        await session.query('FLUSH TABLES WITH READ LOCK');
        return { session, host: c.host };
      } catch {
        await session.close().catch(() => undefined);
      }
    }
    if (Date.now() > deadline) throw new Error(`no sandbox answered within 120 s at ${candidates.map((c) => c.socket).join(' or ')}`);
    await sleep(20);
  }
}

/** Waits until a restore statement waits on the global read lock: proof the restore is under way and held. */
async function waitForWaitingStatement(hold: SqlSession, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await hold.query<{ ID: number }>("SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND (STATE LIKE '%global read lock%' OR STATE LIKE '%backup lock%')");
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`no restore statement waited on the sandbox's global read lock within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}
