/**
 * Sandboxes placed on worker hosts, and a host lost mid-drill. Two worker processes on this
 * machine act as two hosts: different host names, each with a Docker daemon of its own
 * (private-dockerd.ts) and a folder of its own (local artifacts, scratch), one artifact store in
 * a bucket of the rclone S3 server that both reach, and one Temporal server. The sources run on
 * the shared daemon. MariaDB 10.11 only: placement is flavor-independent machinery.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { stringify } from 'yaml';
import type { ArchivedBinlog, PublishedBackup, ReplayPlan } from '../../activities/types';
import { DockerodeRuntime } from '../../adapters/docker';
import { openSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { activitySpans, sandboxesAtOnce } from '../../bench/history';
import type { ActivitySpan } from '../../bench/history';
import { awaitDrill, startDrill } from '../../client/drills';
import { hostTaskQueue } from '../../domain/placement';
import { MANAGED_LABEL_VALUE, SandboxLabels } from '../../domain/naming';
import { Phases } from '../../domain/report/report';
import { binlogArchiverWorkflow, janitorWorkflow } from '../../workflows';
import { sleep, waitForProgress } from './fault-helpers';
import { startPrivateDockerd } from './private-dockerd';
import type { PrivateDockerd } from './private-dockerd';
import { createTestBucket } from './s3-bucket';
import type { TestBucket } from './s3-bucket';
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
const STORE_PREFIX = 'engine/';
const CLI = path.resolve(__dirname, '../../dist/cli/main.js');

interface Host {
  name: HostName;
  daemon: PrivateDockerd;
  runtime: DockerodeRuntime;
  /** The host's own folder: its local artifacts (copies pulled from the store) and its scratch folder. */
  home: string;
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

/** The one completed run of `activity` in a workflow's history: its queue, the worker that ran it, its result. */
async function completedRun(handle: WorkflowHandle, activity: string): Promise<ActivitySpan> {
  const runs = activitySpans(await handle.fetchHistory()).filter((s) => s.activity === activity && s.outcome === 'completed');
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

/** The built CLI with nothing but the Temporal address: no configuration file, an empty home, no Docker engine it could reach. */
function cliReachingOnlyTemporal(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, RESTORE_DRILL_HOME: path.join(os.tmpdir(), `rd-it-place-cli-${process.pid}`), DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    delete env.RESTORE_DRILL_CONFIG;
    delete env.RESTORE_DRILL_TASK_QUEUE;
    const child = spawn(process.execPath, [CLI, ...args], { cwd: os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sandbox placement over two worker hosts', () => {
  let home: string;
  let bucket: TestBucket | undefined;
  let source: LiveSource | undefined;
  /** Small sources drilled beside `source`, spread over both hosts. */
  const spread: LiveSource[] = [];
  /** Drilled only while host-b alone works: its backup and archive are host-b's. */
  let crossed: LiveSource | undefined;
  let connection: Connection | undefined;
  let client: Client;
  const hosts: Host[] = [];
  const taskQueue = `it-place-${process.pid}-${Date.now().toString(36)}`;
  const hostNamed = (name: string) => hosts.find((h) => h.name === name)!;
  const startWorker = async (h: Host) => {
    // The configuration file names the host, its capacity, its scratch folder and the store; the process reaches its own daemon only.
    h.worker = startWorkerProcess({ taskQueue, home: h.home, env: { DOCKER_HOST: h.daemon.host, RESTORE_DRILL_CONFIG: h.config } });
    await h.worker.ready;
  };
  const uniqueId = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}`;

  beforeAll(async () => {
    ensureWorkerBuild();
    home = await mkdtemp(path.join(os.tmpdir(), 'rd-it-place-'));
    bucket = await createTestBucket('place');
    const shared = new DockerodeRuntime();
    source = await startLiveSource(shared, server, home, `it-place-${process.pid}`);
    // Some bulk, so that a restore is real work; its size does not time anything.
    await addBulkPages(source, 30);
    for (const n of [1, 2]) spread.push(await startLiveSource(shared, server, home, `it-place-${process.pid}-${n}`));
    crossed = await startLiveSource(shared, server, home, `it-place-${process.pid}-x`);
    const sources = Object.fromEntries([source, ...spread, crossed].map((s) => [s.spec.name, { connection: s.spec.connection, user: s.spec.user }]));
    for (const name of HOSTS) {
      const daemon = await startPrivateDockerd(`${process.pid}-${name}`);
      daemon.loadImage(server.image);
      const hostHome = path.join(home, name);
      const workDir = path.join(hostHome, 'work');
      await mkdir(hostHome);
      const config = path.join(home, `${name}.yaml`);
      await writeFile(config, stringify({ store: bucket.store(STORE_PREFIX), worker: { host: name, capacity: { sandboxes: 1 }, workDir }, sources }));
      hosts.push({ name, daemon, runtime: new DockerodeRuntime(daemon.docker), home: hostHome, workDir, config });
    }
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
    client = new Client({ connection });
    for (const h of hosts) await startWorker(h);
  });

  afterAll(async () => {
    for (const h of hosts) await h.worker?.kill('SIGKILL');
    for (const s of [source, ...spread, crossed]) await s?.destroy().catch(() => undefined);
    for (const h of hosts) await h.daemon.teardown();
    await connection?.close();
    await bucket?.destroy().catch(() => undefined);
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

  test('drills of three sources at once spread over both hosts, one sandbox at a time on each, and all pass; each drill\'s sandbox activities ran on one host\'s queue', async () => {
    const drilled = [source!, ...spread];
    const handles = await Promise.all(drilled.map((s, i) => startDrill({ client, taskQueue, workflowId: uniqueId(`place-spread-${i}`), request: { source: s.spec } })));
    const outcomes = await Promise.all(handles.map((h) => awaitDrill(h)));
    const histories = await Promise.all(handles.map(async (h) => activitySpans(await h.fetchHistory())));
    const placedOn: string[] = [];
    for (const [i, { report, failure }] of outcomes.entries()) {
      expect(failure).toBeUndefined();
      expect(report!.outcome).toBe('passed');
      const host = report!.sandbox!.host!;
      placedOn.push(host);
      const sandboxSide = histories[i]!.filter((s) => SANDBOX_ACTIVITIES.has(s.activity));
      expect(sandboxSide.map((s) => s.activity)).toEqual(expect.arrayContaining(['createSandbox', 'restoreLogicalDump', 'verifyRestore', 'removeSandbox']));
      expect(new Set(sandboxSide.map((s) => s.taskQueue))).toEqual(new Set([hostTaskQueue(taskQueue, host)]));
      // Run by that host's worker process, and by no other.
      expect(new Set(sandboxSide.map((s) => s.identity.split('@')[0]))).toEqual(new Set([String(hostNamed(host).worker!.pid)]));
    }
    expect([...new Set(placedOn)].sort()).toEqual([...HOSTS]);
    // Capacity 1: never two sandboxes on one host at once.
    expect(Object.values(sandboxesAtOnce(histories))).toEqual([1, 1]);
    for (const h of hosts) expect(await h.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).toEqual([]);
  });

  test('with the store on S3, a PITR placed on host-a starts from the backup host-b took and replays the binlogs host-b archived; a PITR kept on host-b is released by a CLI that reaches only Temporal', async () => {
    const [a, b] = [hostNamed('host-a'), hostNamed('host-b')];
    const x = crossed!;
    const byWorker = (h: Host) => `${h.worker!.pid}@`;
    // host-a is down: host-b alone backs up, archives and keeps.
    await a.worker!.kill('SIGTERM');
    let aDown = true;
    try {
      const drill = await startDrill({ client, taskQueue, workflowId: uniqueId('place-cross-drill'), request: { source: x.spec } });
      const drilled = await awaitDrill(drill);
      expect(drilled.failure).toBeUndefined();
      const backup = await completedRun(drill, 'takeLogicalBackup');
      expect(backup.identity.startsWith(byWorker(b))).toBe(true);
      const { manifestPath: manifest } = backup.result as PublishedBackup;
      expect(manifest.startsWith(`s3://${bucket!.name}/${STORE_PREFIX}${x.spec.name}/backups/`)).toBe(true);

      // Writes after the backup; the target is the end of them; a rotation seals their file, which host-b then archives.
      x.writer.start();
      await sleep(1500);
      await x.writer.stop();
      const [status] = await x.admin<{ File: string; Position: number }>('SHOW MASTER STATUS');
      const target = { kind: 'position' as const, file: status!.File, position: Number(status!.Position) };
      await x.admin('FLUSH BINARY LOGS');
      const archiver = await client.workflow.start(binlogArchiverWorkflow, { taskQueue, workflowId: uniqueId('place-cross-archive'), args: [{ source: x.spec }] });
      await archiver.result();
      const archive = await completedRun(archiver, 'archiveBinlogs');
      expect(archive.identity.startsWith(byWorker(b))).toBe(true);
      const archivedByB = archive.result as ArchivedBinlog[];
      expect(archivedByB.map((f) => f.file)).toContain(target.file);

      // host-b's one slot: a PITR of another source kept there.
      const kept = await startDrill({ client, taskQueue, workflowId: uniqueId('place-kept'), request: { source: spread[0]!.spec, target: { kind: 'latest' }, keepSandbox: true, sandboxTtlSeconds: 900 } });
      const keptProgress = await waitForProgress(kept, (p) => p.status === 'kept', 240_000, 500);
      expect(keptProgress.sandbox).toMatchObject({ host: b.name });
      const keptName = keptProgress.sandbox!.name;
      expect(await b.runtime.inspect(keptName)).toBeDefined();

      // host-a is back, with nothing of this source on its disk; host-b is full, so the PITR's sandbox goes to host-a.
      await startWorker(a);
      aDown = false;
      expect(existsSync(path.join(a.home, 'artifacts', x.spec.name))).toBe(false);
      const pitr = await startDrill({ client, taskQueue, workflowId: uniqueId('place-cross-pitr'), request: { source: x.spec, backup: { manifest }, target } });
      const { report, failure } = await awaitDrill(pitr);
      expect(failure).toBeUndefined();
      expect(report!.outcome).toBe('passed');
      expect(report!.sandbox!.host).toBe(a.name);
      expect(report!.recoveryPoint!.coordinates).toEqual({ file: target.file, position: target.position });
      expect(report!.recovery!.baseBackup.manifestPath).toBe(manifest);
      const spans = activitySpans(await pitr.fetchHistory());
      const restore = spans.find((s) => s.activity === 'restoreLogicalDump' && s.outcome === 'completed')!;
      expect([restore.taskQueue, restore.identity.startsWith(byWorker(a))]).toEqual([hostTaskQueue(taskQueue, a.name), true]);
      // The replay read the target's file as host-b archived it: this PITR's own archiving resumed after it, and the store's index still has host-b's copy.
      const plan = spans.find((s) => s.activity === 'planReplay' && s.outcome === 'completed')!.result as ReplayPlan;
      expect(plan.files).toContain(target.file);
      const rearchived = (spans.find((s) => s.activity === 'archiveBinlogs' && s.outcome === 'completed')!.result as ArchivedBinlog[]).map((f) => f.file);
      const replayedFromB = plan.files.filter((f) => !rearchived.includes(f));
      expect(replayedFromB).toContain(target.file);
      const index = JSON.parse((await bucket!.object(`${STORE_PREFIX}${x.spec.name}/binlogs/index.json`)).toString()) as { files: ArchivedBinlog[] };
      for (const file of replayedFromB) expect(index.files.find((f) => f.file === file)?.sha256).toBe(archivedByB.find((f) => f.file === file)?.sha256);

      // Released from a CLI with no configuration and no Docker engine: the signal reaches the drill, which removes the sandbox on host-b.
      const released = await cliReachingOnlyTemporal(['--json', 'release', kept.workflowId]);
      expect(released.code).toBe(0);
      expect(JSON.parse(released.stdout)).toMatchObject({ drillId: kept.workflowId, released: keptName });
      expect(await b.runtime.inspect(keptName)).toBeUndefined();
      const keptOutcome = await awaitDrill(kept);
      expect(keptOutcome.report).toMatchObject({ outcome: 'passed', sandbox: { host: b.name } });
      expect((await kept.describe()).status.name).toBe('COMPLETED');
      for (const h of hosts) expect(await h.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).toEqual([]);
    } finally {
      if (aDown) await startWorker(a);
    }
  });

  test('a host lost during the restore (its worker killed, its Docker engine stopped): the drill runs the sandbox phase again on the other host and passes; back, the lost host\'s janitor removes what it left', async () => {
    const handle = await startDrill({ client, taskQueue, workflowId: `place-lost-${process.pid}-${Date.now().toString(36)}`, request: { source: source!.spec } });
    // The kill must land inside the restore: hold it with a global read lock taken in the sandbox as soon as it answers.
    await waitForProgress(handle, (p) => p.current === Phases.SandboxStart || p.current === Phases.Restore, 600_000, 20);
    const { session: hold, host: lostName } = await holdSandboxWrites(hosts.map((h) => ({ host: h.name, socket: path.join(h.workDir, handle.workflowId, 'sandbox-sock', 'mysqld.sock') })));
    const lost = hostNamed(lostName);
    const other = hosts.find((h) => h !== lost)!;
    let killedAt: number;
    try {
      await waitForProgress(handle, (p) => p.current === Phases.Restore, 120_000, 50);
      await waitForWaitingStatement(hold, 120_000);
      killedAt = Date.now();
      await lost.worker!.kill('SIGKILL');
      await lost.daemon.stop();
    } finally {
      await hold.close().catch(() => undefined);
    }
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
