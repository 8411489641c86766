/** `restore-drill worker`: the long-running drill worker, on the connection the context resolved. */
import { NativeConnection } from '@temporalio/worker';
import { isNoConfigFile, retentionPolicies } from '../config/load';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import { createDrillWorker } from '../workers/drill-worker';
import { ensureJanitorSchedule, janitorInterval } from '../workers/janitor-schedule';
import type { CliContext } from './context';

export async function runWorker(ctx: CliContext): Promise<number> {
  const s = ctx.settings;
  const connection = await NativeConnection.connect({ address: s.address, tls: s.tls, apiKey: s.apiKey });
  try {
    const worker = await createDrillWorker({
      connection,
      namespace: s.namespace,
      taskQueue: s.taskQueue,
      deps: { paths: ctx.paths(), uiBaseUrl: `${s.uiUrl}/namespaces/${encodeURIComponent(s.namespace)}/workflows` },
      worker: { shutdownGraceTime: '30s' },
    });
    // Like the worker service: the janitor schedule (leftover sweep and the config's retention);
    // RESTORE_DRILL_JANITOR_EVERY=off disables it.
    const janitorEvery = janitorInterval();
    if (janitorEvery !== undefined) {
      const retention = retentionOf(ctx);
      const id = await ensureJanitorSchedule(await ctx.client(), { taskQueue: s.taskQueue, every: janitorEvery, retention });
      ctx.log(`janitor schedule ${id} every ${janitorEvery}${retention.length > 0 ? `, retention for ${retention.map((p) => p.source).join(', ')}` : ', no retention (no configuration file)'}`);
    }
    ctx.log(`restore-drill worker polling ${s.taskQueue} on ${s.address} (${s.namespace}); artifacts in ${ctx.paths().artifactRoot}`);
    // Worker.run() stops on SIGINT/SIGTERM: polling ends, in-flight activities get the grace time.
    await worker.run();
    return 0;
  } finally {
    await connection.close();
  }
}

/** The configuration file's retention policies; none without a file. A bad file stops the worker (loadConfig throws, naming every bad key). */
function retentionOf(ctx: CliContext): SourceRetentionPolicy[] {
  let config;
  try {
    config = ctx.config();
  } catch (err) {
    if (!isNoConfigFile(err)) throw err;
    return [];
  }
  return retentionPolicies(config);
}
