#!/usr/bin/env node
/** The long-running drill worker service. Stops gracefully on SIGINT/SIGTERM (in-flight activities finish or heartbeat out). */
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { createDrillWorker } from './drill-worker';
import { ensureJanitorSchedule } from './janitor-schedule';
import { temporalSettings } from './temporal-env';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  try {
    const worker = await createDrillWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, worker: { shutdownGraceTime: '30s' } });
    // The janitor sweeps what terminated drills left behind; RESTORE_DRILL_JANITOR_EVERY=off disables it.
    const janitorEvery = process.env.RESTORE_DRILL_JANITOR_EVERY ?? '5m';
    if (janitorEvery !== 'off') {
      const clientConnection = await Connection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
      await ensureJanitorSchedule(new Client({ connection: clientConnection, namespace: settings.namespace }), { taskQueue: settings.taskQueue, every: janitorEvery as Duration }).finally(() => clientConnection.close());
    }
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
