#!/usr/bin/env node
/** The worker service's process entry point, configured by the environment alone (systemd, containers). */
import { alertRoutes, isNoConfigFile, loadConfig, resolveConfigPath, retentionPolicies, sourceObjectives } from '../config/load';
import type { ConfigFile } from '../config/file-schema';
import { temporalSettings } from '../client/settings';
import { installWorkerRuntime, metricsSettings } from './metrics';
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

async function main(): Promise<void> {
  const config = configFile();
  const metrics = metricsSettings(config);
  installWorkerRuntime({ temporalListen: metrics.temporalListen });
  await runWorkerService({
    settings: temporalSettings(),
    retention: config ? retentionPolicies(config) : [],
    objectives: config ? sourceObjectives(config) : [],
    metrics,
    alertWebhookRef: alertWebhookFromEnv(),
    alertRoutes: config ? alertRoutes(config) : {},
    log: (line) => console.log(line),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
