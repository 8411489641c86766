/** `restore-drill worker`: the worker service, on the connection and paths the context resolved. */
import { isNoConfigFile, retentionPolicies } from '../config/load';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import { alertWebhookFromEnv, runWorkerService } from '../workers/service';
import type { CliContext } from './context';
import { installQuietRuntime } from './runtime';

export async function runWorker(ctx: CliContext): Promise<number> {
  installQuietRuntime();
  await runWorkerService({ settings: ctx.settings, paths: ctx.paths(), retention: retentionOf(ctx), alertWebhookRef: alertWebhookFromEnv(), log: ctx.log });
  return 0;
}

/** The configuration file's retention policies; none without a file. A bad file stops the worker (loadConfig names every bad key). */
function retentionOf(ctx: CliContext): SourceRetentionPolicy[] {
  try {
    return retentionPolicies(ctx.config());
  } catch (err) {
    if (isNoConfigFile(err)) return [];
    throw err;
  }
}
