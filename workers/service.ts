/**
 * The long-running worker service: a drill worker on the task queue plus the janitor schedule.
 * Both entry points run it through workers/entry.ts: `node dist/workers/main.js` and
 * `restore-drill worker`, with settings from flags, environment and configuration file.
 */
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { DockerodeRuntime } from '../adapters/docker';
import { artifactStoreOf } from '../adapters/artifact-store';
import { defaultPaths } from '../adapters/local-layout';
import type { EnginePaths } from '../adapters/local-layout';
import type { AlertRoute } from '../config/load';
import type { SecretRef } from '../config/schema';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import type { SourceObjectives } from '../domain/metrics/recorder';
import type { TemporalSettings } from '../client/settings';
import { workflowsUiBaseUrl } from '../client/settings';
import { createHostWorkers } from './host-workers';
import { ensureJanitorSchedule, janitorInterval } from './janitor-schedule';
import { startWorkerMetrics } from './metrics';
import type { MetricsSettings } from './metrics';
import { DEFAULT_SANDBOXES_PER_HOST, hostNameOf } from './settings';
import type { HostCapacity } from './settings';

export interface WorkerServiceOptions {
  settings: TemporalSettings;
  paths?: EnginePaths;
  /** This host's name (workers/settings.ts); absent: the machine's. */
  host?: string;
  /** What this host runs at once; absent: the default. */
  capacity?: HostCapacity;
  /** The configuration file it was started with, for the start line. */
  configPath?: string;
  /** Retention per source from the configuration file; none prunes nothing. */
  retention: SourceRetentionPolicy[];
  /** Where every source's alerts are POSTed, by reference (the URL is a secret). */
  alertWebhookRef?: SecretRef;
  /** Each source's alert destinations from the configuration file. */
  alertRoutes?: Record<string, AlertRoute[]>;
  /** Where /metrics is served (workers/metrics.ts); the Temporal runtime's exporter is installed by the caller, before this. */
  metrics?: MetricsSettings;
  /** Objectives per source from the configuration file, exported beside the metrics. */
  objectives?: SourceObjectives[];
  log(line: string): void;
}

/** Runs until SIGINT/SIGTERM: polling stops, in-flight activities get 30 s to finish or heartbeat out. */
export async function runWorkerService(opts: WorkerServiceOptions): Promise<void> {
  const s = opts.settings;
  const paths = opts.paths ?? defaultPaths();
  const host = opts.host ?? hostNameOf(os.hostname());
  const capacity = opts.capacity ?? { sandboxes: DEFAULT_SANDBOXES_PER_HOST };
  const runtime = new DockerodeRuntime();
  // A store that cannot be used (no bucket, refused keys, unwritable folder) stops the worker before it takes work.
  const store = await artifactStoreOf(paths);
  await store.check();
  const metrics = opts.metrics?.listen ? await startWorkerMetrics({ listen: opts.metrics.listen, paths, runtime, objectives: opts.objectives ?? [] }) : undefined;
  if (metrics) opts.log(`metrics on ${metrics.url}${metrics.seeded.length > 0 ? ` (seeded from the last drills of ${metrics.seeded.join(', ')})` : ''}`);
  if (opts.metrics?.temporalListen) opts.log(`Temporal SDK metrics on http://${opts.metrics.temporalListen}/metrics`);
  const connection = await NativeConnection.connect({ address: s.address, tls: s.tls, apiKey: s.apiKey }).catch(async (err: unknown) => {
    await metrics?.close();
    throw err;
  });
  try {
    const workers = await createHostWorkers({
      connection,
      namespace: s.namespace,
      taskQueue: s.taskQueue,
      host,
      capacity,
      deps: { runtime, paths, uiBaseUrl: workflowsUiBaseUrl(s), alertWebhookRef: opts.alertWebhookRef, alertRoutes: opts.alertRoutes, metrics: metrics?.recorder },
    });
    // RESTORE_DRILL_JANITOR_EVERY=off leaves the janitor schedule out (tests that sweep by hand).
    const every = janitorInterval();
    if (every !== undefined) {
      const clientConnection = await Connection.connect({ address: s.address, tls: s.tls, apiKey: s.apiKey });
      try {
        const client = new Client({ connection: clientConnection, namespace: s.namespace });
        const id = await ensureJanitorSchedule(client, { taskQueue: s.taskQueue, every, retention: opts.retention });
        // This host's own sweep: what its Docker engine and scratch folder hold, whoever else is down.
        const own = await ensureJanitorSchedule(client, { taskQueue: workers.hostQueue, every });
        opts.log(`janitor schedule ${own} every ${every} for this host's leftovers`);
        const kept = opts.retention.map((p) => `${p.source} keeps ${p.keepBackups} backup(s)${p.keepNewerThanSeconds === undefined ? '' : ` and those younger than ${p.keepNewerThanSeconds} s`}`);
        opts.log(`janitor schedule ${id} every ${every}, ${kept.length > 0 ? `retention for ${kept.join('; ')}` : 'no retention (no configuration file)'}`);
      } finally {
        await clientConnection.close();
      }
    }
    opts.log(
      `restore-drill worker polling ${s.taskQueue} on ${s.address} (${s.namespace}) as host ${host}, ${capacity.sandboxes} sandbox(es) at once (${workers.hostQueue}, ${workers.placementQueue}); artifacts in ${store.describe()}, scratch in ${paths.workRoot}${opts.configPath ? `; configuration ${opts.configPath}` : ''}`,
    );
    await workers.run();
  } finally {
    await connection.close();
    await metrics?.close();
  }
}

/** The webhook reference the environment names, if any: RESTORE_DRILL_WEBHOOK_URL holds the URL. */
export function alertWebhookFromEnv(env: NodeJS.ProcessEnv = process.env): SecretRef | undefined {
  return env.RESTORE_DRILL_WEBHOOK_URL ? { env: 'RESTORE_DRILL_WEBHOOK_URL' } : undefined;
}
