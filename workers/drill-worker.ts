/** Builds a drill worker: the composition root that wires real adapters into the activities. */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { DockerodeRuntime } from '../adapters/docker';
import { temporalSettings, workflowsUiBaseUrl } from '../client/settings';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';
import { defaultPaths } from '../adapters/local-layout';
import { sourceLogAttributes } from './activity-log-attributes';

export const DEFAULT_TASK_QUEUE = 'restore-drill';

export interface DrillWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  deps?: Partial<ActivityDeps>;
  /** Passed through, e.g. shutdownGraceTime or a prebuilt workflowBundle. */
  worker?: Partial<WorkerOptions>;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

export async function createDrillWorker(opts: DrillWorkerOptions): Promise<Worker> {
  const deps: ActivityDeps = {
    runtime: opts.deps?.runtime ?? new DockerodeRuntime(),
    paths: opts.deps?.paths ?? defaultPaths(),
    uiBaseUrl: opts.deps?.uiBaseUrl ?? workflowsUiBaseUrl({ ...temporalSettings(), namespace: opts.namespace ?? 'default' }),
    alertWebhookRef: opts.deps?.alertWebhookRef,
    alertRoutes: opts.deps?.alertRoutes,
    metrics: opts.deps?.metrics,
    placement: opts.deps?.placement,
  };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowsPath: opts.worker?.workflowBundle ? undefined : workflowsPath(),
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: 8,
    // Heartbeats carry a long phase's progress (bytes against the total), which clients read from
    // the server: send them every 5 s, not every 0.8 × heartbeatTimeout (24 s) as by default.
    maxHeartbeatThrottleInterval: '5s',
    defaultHeartbeatThrottleInterval: '5s',
    ...opts.worker,
    interceptors: { ...opts.worker?.interceptors, activity: [sourceLogAttributes, ...(opts.worker?.interceptors?.activity ?? [])] },
  });
}
