/** Shared set-up for integration tests: one Temporal connection and one worker per file, unique names per test. */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DockerodeRuntime } from '../../adapters/docker';
import type { ArtifactStoreConfig } from '../../adapters/artifact-store';
import type { EnginePaths } from '../../adapters/local-layout';
import { SandboxLabels } from '../../domain/naming';
import { createDrillWorker } from '../../workers/drill-worker';

export interface Harness {
  client: Client;
  runtime: DockerodeRuntime;
  paths: EnginePaths;
  home: string;
  taskQueue: string;
  worker: Worker;
  uniqueId(prefix: string): string;
  /** Labelled containers of one drill still present. */
  leftovers(drillId: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Worker logs at WARN: INFO lines would bury jest's output. Once per process (jest may load this per file). */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* already installed by an earlier test file in this process */
  }
}

/** `store`: the worker's artifact store (absent: the folder `<home>/artifacts`). */
export async function startHarness(name: string, opts: { store?: ArtifactStoreConfig } = {}): Promise<Harness> {
  quietRuntime();
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const home = await mkdtemp(path.join(os.tmpdir(), `rd-it-${name}-`));
  const paths: EnginePaths = { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work'), ...(opts.store ? { store: opts.store } : {}) };
  const runtime = new DockerodeRuntime();
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `it-${name}-${process.pid}-${Date.now().toString(36)}`;
  let connection: Connection | undefined;
  let worker: Worker;
  try {
    connection = await Connection.connect({ address });
    worker = await createDrillWorker({ connection: nativeConnection, taskQueue, deps: { runtime, paths } });
  } catch (err) {
    // Nobody could close() this harness: open connections would keep jest alive.
    await connection?.close().catch(() => undefined);
    await nativeConnection.close().catch(() => undefined);
    throw err;
  }
  const client = new Client({ connection, namespace: 'default' });
  const running = worker.run();
  let n = 0;
  return {
    client,
    runtime,
    paths,
    home,
    taskQueue,
    worker,
    uniqueId: (prefix) => `${prefix}-${name}-${Date.now().toString(36)}-${(n++).toString(36)}`,
    async leftovers(drillId) {
      return (await runtime.listByLabel({ [SandboxLabels.run]: drillId })).map((c) => c.name);
    },
    async close() {
      // shutdown() throws unless the worker is RUNNING, and `running` rejects if the worker failed: neither may
      // keep the connections open (they would keep jest alive). A worker that failed still fails the suite.
      try {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      } finally {
        await connection.close().catch(() => undefined);
        await nativeConnection.close().catch(() => undefined);
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick, not a guess in its ephemeral range). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
