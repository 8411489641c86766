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
}
