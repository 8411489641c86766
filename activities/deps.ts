/** What activities need from the outside world, injected by the worker (the composition root). */
import type { ContainerRuntime } from '../adapters/container-runtime';
import type { EnginePaths } from '../adapters/local-layout';
import type { AlertRoute } from '../config/load';
import type { SecretRef } from '../config/schema';
import type { DrillMetricsRecorder } from '../domain/metrics/recorder';

export type { EnginePaths };

export interface ActivityDeps {
  runtime: ContainerRuntime;
  paths: EnginePaths;
  /** Link prefix for alerts and reports, e.g. http://127.0.0.1:8233/namespaces/default/workflows */
  uiBaseUrl?: string;
  /** Where every source's alerts are POSTed, unsigned (RESTORE_DRILL_WEBHOOK_URL): a reference, resolved when an alert is sent. */
  alertWebhookRef?: SecretRef;
  /** Each source's own alert destinations from the configuration file (references too). */
  alertRoutes?: Record<string, AlertRoute[]>;
  /** The worker's Prometheus metrics, when it serves them. */
  metrics?: DrillMetricsRecorder;
  /** This worker host's place in sandbox placement (workers/service.ts); absent: it places nothing, sandboxes run where the drill runs. */
  placement?: HostPlacement;
}

export interface HostPlacement {
  host: string;
  /** `<queue>@<host>`: the sandbox activities of drills placed here. */
  hostQueue: string;
  placementQueue: string;
  /** Memory all this host's sandboxes may use together (MiB); each gets at most its share. */
  memoryMb?: number;
  sandboxes: number;
}
