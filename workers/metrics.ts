/**
 * The worker's Prometheus metrics: restore-drill's own on one address (served here, seeded from
 * what earlier runs left on disk), and the Temporal SDK's runtime metrics on a second one (the
 * SDK's Rust core runs its own exporter: it cannot share our HTTP server). Both off unless
 * configured: `metrics.listen` / `metrics.temporalListen` in the configuration file, or
 * RESTORE_DRILL_METRICS_LISTEN / RESTORE_DRILL_TEMPORAL_METRICS_LISTEN (which win).
 */
import type { ContainerRuntime } from '../adapters/container-runtime';
import type { EnginePaths } from '../adapters/local-layout';
import { PrometheusDrillMetrics } from '../adapters/metrics/prometheus';
import { seedMetrics } from '../adapters/metrics/seed';
import { serveMetrics } from '../adapters/metrics/server';
import type { ConfigFile } from '../config/file-schema';
import type { SourceObjectives } from '../domain/metrics/recorder';
import { MANAGED_LABEL_VALUE, SandboxLabels } from '../domain/naming';

export interface MetricsSettings {
  /** host:port of restore-drill's /metrics. */
  listen?: string;
  /** host:port of the Temporal SDK's /metrics. */
  temporalListen?: string;
}

export function metricsSettings(config: Pick<ConfigFile, 'metrics'> | undefined, env: NodeJS.ProcessEnv = process.env): MetricsSettings {
  const listen = env.RESTORE_DRILL_METRICS_LISTEN || config?.metrics?.listen;
  const temporalListen = env.RESTORE_DRILL_TEMPORAL_METRICS_LISTEN || config?.metrics?.temporalListen;
  return { ...(listen ? { listen } : {}), ...(temporalListen ? { temporalListen } : {}) };
}

export interface WorkerMetrics {
  recorder: PrometheusDrillMetrics;
  url: string;
  close(): Promise<void>;
}

/** Serves /metrics on `listen`, seeded from the artifact folders; the sandboxes gauge asks Docker at each scrape. */
export async function startWorkerMetrics(opts: { listen: string; paths: EnginePaths; runtime: ContainerRuntime; objectives: readonly SourceObjectives[] }): Promise<WorkerMetrics & { seeded: string[] }> {
  const recorder = new PrometheusDrillMetrics({
    runningSandboxes: async () =>
      (await opts.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE, [SandboxLabels.role]: 'sandbox' })).filter((c) => c.running).map((c) => c.labels[SandboxLabels.source] ?? ''),
  });
  recorder.objectives(opts.objectives);
  const seeded = await seedMetrics(recorder, opts.paths);
  const endpoint = await serveMetrics(opts.listen, async () => ({ contentType: recorder.registry.contentType, body: await recorder.text() }));
  return { recorder, url: endpoint.url, seeded, close: () => endpoint.close() };
}
