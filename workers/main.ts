#!/usr/bin/env node
/** The long-running drill worker service. Stops gracefully on SIGINT/SIGTERM (in-flight activities finish or heartbeat out). */
import { NativeConnection } from '@temporalio/worker';
import { createDrillWorker } from './drill-worker';
import { temporalSettings } from './temporal-env';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  try {
    const worker = await createDrillWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, worker: { shutdownGraceTime: '30s' } });
    console.log(`restore-drill worker polling ${settings.taskQueue} on ${settings.address} (${settings.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
