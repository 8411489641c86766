/** `restore-drill worker`: the long-running drill worker, on the connection the context resolved. */
import { NativeConnection } from '@temporalio/worker';
import { createDrillWorker } from '../workers/drill-worker';
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
    ctx.log(`restore-drill worker polling ${s.taskQueue} on ${s.address} (${s.namespace}); artifacts in ${ctx.paths().artifactRoot}`);
    // Worker.run() stops on SIGINT/SIGTERM: polling ends, in-flight activities get the grace time.
    await worker.run();
    return 0;
  } finally {
    await connection.close();
  }
}
