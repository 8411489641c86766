/** `restore-drill worker`: the worker service, on the connection and paths the context resolved. */
import { alertRoutes, isNoConfigFile, retentionPolicies, sourceObjectives } from '../config/load';
import type { ConfigFile } from '../config/file-schema';
import { metricsSettings } from '../workers/metrics';
import { alertWebhookFromEnv, runWorkerService } from '../workers/service';
import type { CliContext } from './context';
import { installCliLogging } from './runtime';

export async function runWorker(ctx: CliContext): Promise<number> {
  const config = configOf(ctx);
  const metrics = metricsSettings(config);
  // The SDK's exporter is a runtime option, installed with the logger.
  const logger = installCliLogging(ctx.logging, { format: 'pretty', level: 'info' }, metrics.temporalListen);
  await runWorkerService({
    settings: ctx.settings,
    paths: ctx.paths(),
    retention: config ? retentionPolicies(config) : [],
    objectives: config ? sourceObjectives(config) : [],
    metrics,
    alertWebhookRef: alertWebhookFromEnv(),
    alertRoutes: config ? alertRoutes(config) : {},
    log: (line) => logger.info(line),
  });
  return 0;
}

/** The configuration file, if any. A bad file stops the worker (loadConfig names every bad key): a typo never silently turns retention off. */
function configOf(ctx: CliContext): ConfigFile | undefined {
  try {
    return ctx.config();
  } catch (err) {
    if (isNoConfigFile(err)) return undefined;
    throw err;
  }
}
