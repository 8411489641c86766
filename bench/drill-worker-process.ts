/**
 * The benchmark's drill worker in a process of its own, as on a worker host (`node
 * dist/workers/main.js`), though it is the same drill worker as `--worker inline`, without the
 * host's placement, janitor or metrics: its heap holds only the drills' state, not the bench's,
 * and its CPU is read from /proc (bench/cpu.ts). Started by bench.ts with `fork`; argv[2] is JSON
 * `{ address, taskQueue, artifactRoot, workRoot }`. Sends 'ready' once it polls; SIGTERM shuts
 * it down (in-flight activities finish first).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DockerodeRuntime } from '../adapters/docker';
import { createDrillWorker } from '../workers/drill-worker';

interface WorkerArgs {
  address: string;
  taskQueue: string;
  artifactRoot: string;
  workRoot: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const native = await NativeConnection.connect({ address: args.address });
  const worker = await createDrillWorker({ connection: native, taskQueue: args.taskQueue, deps: { runtime: new DockerodeRuntime(), paths: { artifactRoot: args.artifactRoot, workRoot: args.workRoot } } });
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent going away (the bench killed) ends the worker too.
  process.once('disconnect', stop);
  const running = worker.run();
  process.send?.('ready');
  try {
    await running;
  } finally {
    await native.close();
    // The IPC channel alone would keep this process alive.
    if (process.connected) process.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
