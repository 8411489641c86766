/**
 * The Docker daemon restarts while a drill restores (a daemon upgrade, a crash): without
 * live-restore its containers stop, the sandbox with them, and for a while every Docker call is
 * refused. The drill must wait it out, adopt its stopped sandbox (never create a second), restore
 * again from the dump, and pass. The daemon is a private one (private-dockerd.ts): the shared one
 * is never restarted. The source has a restart policy, so the daemon brings it back like a
 * production server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DockerodeRuntime } from '../../adapters/docker';
import { awaitDrill, startDrill } from '../../cli/drill-client';
import { FLAVOR_TOOLS } from '../../domain/flavors';
import { MANAGED_LABEL_VALUE, SandboxLabels, sandboxName } from '../../domain/naming';
import type { Flavor } from '../../domain/types';
import { containersCreated, waitForProgress } from './fault-helpers';
import { startPrivateDockerd } from './private-dockerd';
import type { PrivateDockerd } from './private-dockerd';
import { addBulkPages, startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';

// MariaDB: its replay is not idempotent, so a restore that was not really redone from the dump would show.
const flavor: Flavor = 'mariadb';
const image = process.env.RD_MARIADB_IMAGE ?? FLAVOR_TOOLS[flavor].defaultImage;

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
    source = await startLiveSource(runtime, flavor, home, `it-dockerd-${process.pid}`, { restartPolicy: 'unless-stopped' });
    // 20 MB: the LOAD DATA restore takes seconds, long enough for the restart to land in it.
    await addBulkPages(source, 200);
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
    await waitForProgress(handle, (p) => p.current === 'restore', 600_000, 50);
    // The daemon forgets its events when it stops: read the ones before the restart now.
    const createdBefore = await containersCreated(handle.workflowId, since, d.docker);
    const stopAt = Date.now();
    await d.stop();
    const stoppedMs = Date.now() - stopAt;
    await d.start();
    const downMs = Date.now() - stopAt;
    console.log(`private dockerd restart: stopped in ${stoppedMs} ms, answered again ${downMs} ms after the stop began`);
    const { report, failure } = await awaitDrill(handle);

    expect(failure).toBeUndefined();
    expect(report!.outcome).toBe('passed');
    expect(report!.checks.length).toBeGreaterThan(0);
    expect(report!.checks.every((c) => c.passed)).toBe(true);
    // The restore the restart cut short, then the one redone from the dump.
    expect(report!.phases.filter((p) => p.phase === 'restore').map((p) => p.outcome)).toEqual(['failed', 'ok']);
    const sandbox = sandboxName(handle.workflowId);
    const createdAfter = await containersCreated(handle.workflowId, Math.floor(stopAt / 1000) - 1, d.docker);
    expect([...createdBefore, ...createdAfter].filter((n) => n === sandbox)).toEqual([sandbox]);
    // Nothing labelled remains but the source itself.
    expect((await runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })).map((c) => c.name)).toEqual([source!.containerName]);
    // The source came back by its restart policy; the worker rode the restart out without dying.
    expect((await runtime.inspect(source!.containerName))?.running).toBe(true);
    expect(() => process.kill(worker!.pid, 0)).not.toThrow();
  });
});
