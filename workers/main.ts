#!/usr/bin/env node
/** The worker service's process entry point, configured by the environment alone (systemd, containers). */
import { isNoConfigFile, loadConfig, resolveConfigPath, retentionPolicies } from '../config/load';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import { temporalSettings } from '../client/settings';
import { alertWebhookFromEnv, runWorkerService } from './service';

/** Retention from $RESTORE_DRILL_CONFIG or a default file; none without one. A bad file stops the worker: a typo never silently turns retention off. */
function retentionFromConfig(): SourceRetentionPolicy[] {
  try {
    return retentionPolicies(loadConfig(resolveConfigPath(undefined)));
  } catch (err) {
    if (isNoConfigFile(err)) return [];
    throw err;
  }
}

runWorkerService({ settings: temporalSettings(), retention: retentionFromConfig(), alertWebhookRef: alertWebhookFromEnv(), log: (line) => console.log(line) }).catch((err) => {
  console.error(err);
  process.exit(1);
});
