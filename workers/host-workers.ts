/**
 * A worker host's three Temporal workers, one workflow bundle between them:
 * - the drill's queue (`<queue>`): workflows and source-side activities, any host;
 * - this host's own queue (`<queue>@<host>`): the sandbox activities of drills placed here, and
 *   this host's janitor runs (leftovers of its own Docker engine and scratch folder);
 * - the placement queue (`<queue>-placement`): sandbox slots, as many at once as the host runs
 *   sandboxes, so a drill waits for a host with room (activities/sandbox/placement.ts).
 */
import { Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';
import { hostTaskQueue, placementTaskQueue } from '../domain/placement';
import { createDrillWorker, workflowsPath } from './drill-worker';
import type { HostCapacity } from './settings';

export interface HostWorkers {
  hostQueue: string;
  placementQueue: string;
  /** Runs all three until SIGINT/SIGTERM or shutdown(); one that stops with an error stops the others. */
  run(): Promise<void>;
  /** Stops polling on all three (in-process hosts: tests and benchmarks). */
  shutdown(): void;
}

export async function createHostWorkers(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  host: string;
  capacity: HostCapacity;
  deps: Omit<ActivityDeps, 'placement'>;
}): Promise<HostWorkers> {
  const hostQueue = hostTaskQueue(opts.taskQueue, opts.host);
  const placementQueue = placementTaskQueue(opts.taskQueue);
  const deps: ActivityDeps = { ...opts.deps, placement: { host: opts.host, hostQueue, placementQueue, sandboxes: opts.capacity.sandboxes, ...(opts.capacity.memoryMb !== undefined ? { memoryMb: opts.capacity.memoryMb } : {}) } };
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: Runtime.instance().logger });
  const common = { connection: opts.connection, namespace: opts.namespace, deps, worker: { shutdownGraceTime: '30s' as const, workflowBundle } };
  const drills = await createDrillWorker({ ...common, taskQueue: opts.taskQueue });
  const sandboxes = await createDrillWorker({ ...common, taskQueue: hostQueue });
  const { holdSandboxSlot } = createActivities(deps);
  const slots = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: placementQueue,
    activities: { holdSandboxSlot },
    maxConcurrentActivityTaskExecutions: opts.capacity.sandboxes,
    // A held slot heartbeats every 3 s against a 15 s timeout (workflows/drill/placement.ts): send each one.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '1s',
  });
  const workers = [drills, sandboxes, slots];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    hostQueue,
    placementQueue,
    async run() {
      const runs = workers.map((w) => w.run());
      try {
        await Promise.all(runs);
      } catch (err) {
        shutdown();
        await Promise.allSettled(runs);
        throw err;
      }
    },
    shutdown,
  };
}
