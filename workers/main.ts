#!/usr/bin/env node
/**
 * The worker service's process entry point, configured by the environment alone (systemd,
 * containers). Logs are JSON lines on stdout unless RESTORE_DRILL_LOG_FORMAT=pretty; level
 * RESTORE_DRILL_LOG_LEVEL (default info).
 */
import { alertRoutes, isNoConfigFile, loadConfig, resolveConfigPath, retentionPolicies, sourceObjectives } from '../config/load';
import type { ConfigFile } from '../config/file-schema';
import { temporalSettings } from '../client/settings';
import type { Logger } from '../adapters/logging';
import { installLogging, logSettings } from './logging';
import { metricsSettings } from './metrics';
import { alertWebhookFromEnv, runWorkerService } from './service';

/** $RESTORE_DRILL_CONFIG or a default file; none without one. A bad file stops the worker: a typo never silently turns retention off. */
function configFile(): ConfigFile | undefined {
  try {
    return loadConfig(resolveConfigPath(undefined));
  } catch (err) {
    if (isNoConfigFile(err)) return undefined;
    throw err;
  }
}

let logger: Logger | undefined;

async function main(): Promise<void> {
  const logging = logSettings({}, process.env, { format: 'json', level: 'info' });
  const config = configFile();
  const metrics = metricsSettings(config);
  logger = installLogging(logging, { fd: 1, temporalListen: metrics.temporalListen });
  await runWorkerService({
    settings: temporalSettings(),
    retention: config ? retentionPolicies(config) : [],
    objectives: config ? sourceObjectives(config) : [],
    metrics,
    alertWebhookRef: alertWebhookFromEnv(),
    alertRoutes: config ? alertRoutes(config) : {},
    log: (line) => logger!.info(line),
  });
}

main().catch((err: unknown) => {
  if (logger) logger.error({ err }, `worker stopped: ${(err as Error)?.message ?? String(err)}`);
  else console.error(err);
  process.exit(1);
});
