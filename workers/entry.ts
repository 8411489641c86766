/**
 * The one way a worker host starts, shared by `restore-drill worker` and the process entry
 * point `dist/workers/main.js`: the same configuration file as the CLI (home, Temporal
 * connection, task queue, host name and capacity, retention, alerts, metrics), logging
 * installed before any connection, then the worker service until SIGINT/SIGTERM.
 */
import { alertRoutes, isNoConfigFile, loadConfig, resolveConfigPath, retentionPolicies, sourceObjectives } from '../config/load';
import type { LoadedConfig } from '../config/load';
import type { Logger } from '../adapters/logging';
import { installLogging, logSettings } from './logging';
import type { LogSettings } from './logging';
import { metricsSettings } from './metrics';
import { alertWebhookFromEnv, runWorkerService } from './service';
import { workerHostSettings } from './settings';
import type { WorkerFlags } from './settings';

export interface WorkerEntryOptions {
  /** --config, --home, --address, --namespace, --task-queue as given. */
  flags: WorkerFlags & { config?: string };
  /** --log-format / --log-level as given, and the entry point's defaults. */
  logging: { given: { format?: string; level?: string }; defaults: LogSettings; fd: number };
  env?: NodeJS.ProcessEnv;
  /** Called once logging is installed: the entry point's own failure lines go through it. */
  onLogger?(logger: Logger): void;
}

/** The configuration file, if any. A bad file stops the worker (loadConfig names every bad key): a typo never silently turns retention off. */
export function workerConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig | undefined {
  try {
    return loadConfig(resolveConfigPath(explicit, env));
  } catch (err) {
    if (isNoConfigFile(err)) return undefined;
    throw err;
  }
}

export async function runConfiguredWorker(opts: WorkerEntryOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const logging = logSettings(opts.logging.given, env, opts.logging.defaults);
  const config = workerConfigFile(opts.flags.config, env);
  const metrics = metricsSettings(config, env);
  // The SDK's exporter is a runtime option, installed with the logger.
  const logger = installLogging(logging, { fd: opts.logging.fd, temporalListen: metrics.temporalListen });
  opts.onLogger?.(logger);
  const host = workerHostSettings({ flags: opts.flags, config, env });
  await runWorkerService({
    settings: host.temporal,
    paths: host.paths,
    host: host.host,
    capacity: host.capacity,
    retention: config ? retentionPolicies(config) : [],
    objectives: config ? sourceObjectives(config) : [],
    metrics,
    alertWebhookRef: alertWebhookFromEnv(env),
    alertRoutes: config ? alertRoutes(config) : {},
    log: (line) => logger.info(line),
    ...(config ? { configPath: config.path } : {}),
  });
}
