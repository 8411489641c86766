/**
 * The engine can never hurt production: it writes only into a sandbox it created and labelled,
 * the sandbox has no network, the source is only read, and the source password leaks nowhere.
 * Real Temporal, Docker and MariaDB/MySQL; the drill runs in a separate worker process whose
 * whole output is searched.
 */
import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createActivities } from '../../activities';
import type { SandboxHandle } from '../../activities';
import { awaitDrill, startDrill } from '../../client/drills';
import type { DrillOutcome } from '../../client/drills';
import { CONTAINER_SOCKET_DIR, FLAVOR_TOOLS } from '../../domain/flavors';
import { sandboxName } from '../../domain/naming';
import { UNIVERSITY_TABLES } from '../../sample/university-schema';
import { releaseSignal } from '../../workflows';
import type { DrillProgress } from '../../workflows';
import { allCommandLines, recordHistoryIfAsked, unlabelledContainers, waitForProgress } from './fault-helpers';
import type { ContainerState } from './fault-helpers';
import { BOTH_FLAVORS } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { addBulkPages, groundTruth, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';


/** Every string and every payload (decoded) of a history, one text to search. */
function historyText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(historyText).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(historyText).join('\n');
  return '';
}

function typeOf(err: unknown): string | undefined {
  return (err as { type?: string })?.type;
}

describe.each(BOTH_FLAVORS)('safety on $name', (server) => {
  const { flavor } = server;
  let h: Harness;
  let source: LiveSource;
  let worker: WorkerProcess;
  let password: string;
  let unlabelledBefore: ContainerState[];
  // One kept drill observed from every side: its outcome, the sandbox from inside, the source before and after.
  let drillId: string;
  let outcome: DrillOutcome;
  let kept: DrillProgress;
  let inside: { interfaces: string; routes: string; sockets: string; tcpToHostLoopback: number; mounts: string[] };
  let cmdlineScans = 0;
  let toolProcessesSeen = 0;
  const leakedInCmdline: string[] = [];
  let sourceBefore: unknown;
  let sourceAfter: unknown;

  const sourceState = async () => {
    const status = await source.admin(flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS');
    const checksums = await source.admin(`CHECKSUM TABLE ${UNIVERSITY_TABLES.map((t) => `university.\`${t}\``).join(', ')} EXTENDED`);
    return { status, checksums, rows: await groundTruth((sql) => source.admin(sql), UNIVERSITY_TABLES) };
  };

  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness(`safety-${server.id}`);
    source = await startLiveSource(h.runtime, server, h.home, `it-safe-${server.id}-${process.pid}`);
    password = (await readFile((source.spec.passwordRef as { file: string }).file, 'utf8')).trim();
    unlabelledBefore = await unlabelledContainers();
    // Enough bulk that the dump tool runs for a while: the command-line scan below must see it.
    await addBulkPages(source, 20);
    // Some writes first, so the drill has binlogs to replay; then the writer stops, so the source can be compared.
    source.writer.start();
    await new Promise((r) => setTimeout(r, 1500));
    await source.writer.stop();
    sourceBefore = await sourceState();

    const taskQueue = `${h.taskQueue}-proc`;
    worker = startWorkerProcess({ taskQueue, home: h.home });
    await worker.ready;
    drillId = h.uniqueId('safe');
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: drillId, request: { source: source.spec, keepSandbox: true, sandboxTtlSeconds: 600 } });
    // Every process's arguments, scanned back to back while the drill runs its source tools.
    let scanning = true;
    const scanner = (async () => {
      while (scanning) {
        const lines = allCommandLines();
        cmdlineScans++;
        toolProcessesSeen += lines.filter((l) => l.includes('--defaults-extra-file=')).length;
        leakedInCmdline.push(...lines.filter((l) => l.includes(password)));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    kept = await waitForProgress(handle, (p) => p.status === 'kept', 300_000, 50).finally(() => (scanning = false));
    await scanner;
    const sandbox = kept.sandbox!.name;
    const sh = async (script: string) => h.runtime.exec(sandbox, ['bash', '-c', script]);
    inside = {
      interfaces: (await sh('ls /sys/class/net')).stdout.trim(),
      routes: (await sh('cat /proc/net/route')).stdout.trim(),
      sockets: (await sh('find / -type s -not -path "/proc/*" -not -path "/sys/*" 2>/dev/null; true')).stdout.trim(),
      // Temporal listens on the host's 127.0.0.1:7233; from the sandbox's own loopback nothing answers.
      tcpToHostLoopback: (await sh('exec 3<>/dev/tcp/127.0.0.1/7233')).exitCode,
      mounts: ((await h.runtime.inspect(sandbox))?.mounts ?? []).map((m) => m.source),
    };
    await handle.signal(releaseSignal);
    outcome = await awaitDrill(handle);
    sourceAfter = await sourceState();
    await recordHistoryIfAsked(h.client, drillId, `succeeded-${flavor}`);
  });

  afterAll(async () => {
    try {
      await worker?.kill('SIGTERM');
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('the observed drill passes and leaves nothing labelled behind', async () => {
    expect(outcome.failure).toBeUndefined();
    expect(outcome.report!.outcome).toBe('passed');
    expect(await h.leftovers(drillId)).toEqual([]);
    expect(await unlabelledContainers()).toEqual(expect.arrayContaining(unlabelledBefore));
  });

  test('a restore aimed at the source server or at an unlabelled container is refused with UnsafeTarget and writes nothing', async () => {
    const activities = createActivities({ runtime: h.runtime, paths: h.paths });
    const dumpFile = outcome.report!.backup.artifactPath;
    const stranger = `it-unlabelled-${flavor}-${process.pid}`;
    await h.runtime.remove(stranger);
    const docker = new (await import('dockerode')).default();
    const c = await docker.createContainer({ name: stranger, Image: source.spec.image!, Cmd: ['sleep', 'infinity'], HostConfig: { NetworkMode: 'none' } });
    try {
      await c.start();
      const before = await c.inspect();
      for (const target of [source.containerName, stranger]) {
        const handle: SandboxHandle = { name: target, containerId: target, flavor, socketPath: source.socketPath, image: source.spec.image!, expiresAt: new Date().toISOString(), readyMs: 0, adopted: true };
        const restore = await activities.restoreLogicalDump({ drillId: 'it-attacker', sandbox: handle, dumpFile }).catch((e: unknown) => e);
        expect(typeOf(restore)).toBe('UnsafeTarget');
        const replay = await activities.replayBinlogs({ drillId: 'it-attacker', sandbox: handle, plan: { archiveDir: '/nonexistent', files: ['x.000001'], segments: [], start: { file: 'x.000001', position: 4 }, stop: { file: 'x.000001', position: 400 }, transactions: 1, skipped: [], rpoSeconds: 0, window: '' } }).catch((e: unknown) => e);
        expect(typeOf(replay)).toBe('UnsafeTarget');
      }
      expect(JSON.parse(String(await c.changes())) ?? []).toEqual([]); // docker diff: no file changed
      expect((await c.inspect()).State).toEqual(before.State);
      expect(await sourceState()).toEqual(sourceAfter);
    } finally {
      await h.runtime.remove(stranger);
    }
  });

  test('a restore aimed at the labelled sandbox of another drill is refused with UnsafeTarget', async () => {
    const activities = createActivities({ runtime: h.runtime, paths: h.paths });
    const owner = h.uniqueId('owner');
    const backupDir = path.dirname(outcome.report!.backup.artifactPath);
    const binlogDir = path.join(h.home, 'empty-binlogs');
    await mkdir(binlogDir, { recursive: true });
    const sandbox = await activities.createSandbox({ drillId: owner, source: source.spec.name, flavor, image: source.spec.image!, backupDir, binlogDir, ttlSeconds: 600 });
    try {
      const err = await activities.restoreLogicalDump({ drillId: h.uniqueId('other'), sandbox, dumpFile: outcome.report!.backup.artifactPath }).catch((e: unknown) => e);
      expect(typeOf(err)).toBe('UnsafeTarget');
      expect((err as Error).message).toMatch(/not a restore-drill sandbox of drill/);
      // Nothing was loaded into the other drill's sandbox.
      const dbs = await h.runtime.exec(sandbox.name, ['bash', '-c', `${FLAVOR_TOOLS[flavor].client} -N -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'university'" --socket=${CONTAINER_SOCKET_DIR}/mysqld.sock -uroot`]);
      expect(dbs.stdout.trim()).toBe('0');
    } finally {
      await activities.removeSandbox({ drillId: owner });
    }
    expect(await h.leftovers(owner)).toEqual([]);
  });

  test('the sandbox has no network interface but loopback, no route, and no way to the source socket', async () => {
    expect(kept.sandbox!.name).toBe(sandboxName(drillId));
    expect(inside.interfaces.split(/\s+/)).toEqual(['lo']);
    expect(inside.routes.split('\n')).toHaveLength(1); // the header line only
    // Only the sandbox server's own sockets (MySQL adds its X-protocol one); the source's folder is not mounted.
    expect(inside.sockets.split('\n').filter((s) => s !== '/run/mysqld/mysqlx.sock')).toEqual([`${CONTAINER_SOCKET_DIR}/mysqld.sock`]);
    expect(inside.mounts).not.toContain(path.dirname(source.socketPath));
    expect(inside.tcpToHostLoopback).not.toBe(0);
    // The same port answers on the host, so the refusal inside is the sandbox's isolation.
    await new Promise<void>((resolve, reject) => net.connect(7233, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); resolve(); }).once('error', reject));
  });

  test('the source is only read: data, checksums and binlog position are identical after a drill', () => {
    expect(sourceAfter).toEqual(sourceBefore);
  });

  test('the source password appears in no workflow history, process command line or worker log', async () => {
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(cmdlineScans).toBeGreaterThan(20);
    expect(toolProcessesSeen).toBeGreaterThan(0); // the scans did run while the dump and binlog tools did
    expect(leakedInCmdline).toEqual([]);
    for (const id of [drillId, `source-lock-${source.spec.name}`]) {
      const history = historyText(await h.client.workflow.getHandle(id).fetchHistory());
      expect(history).toContain(source.spec.name); // payloads were decoded and searched
      expect(history).not.toContain(password);
    }
    expect(worker.output()).toContain('worker polling');
    expect(worker.output()).not.toContain(password);
  });
});
