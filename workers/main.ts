#!/usr/bin/env node
/** The long-running drill worker service. Stops gracefully on SIGINT/SIGTERM (in-flight activities finish or heartbeat out). */
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createDrillWorker } from './drill-worker';
import { loadConfig, resolveConfigPath, retentionPolicies } from '../config/load';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import { ensureJanitorSchedule, janitorInterval } from './janitor-schedule';
import { temporalSettings } from '../client/settings';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  try {
    const worker = await createDrillWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, worker: { shutdownGraceTime: '30s' } });
    // The janitor sweeps what terminated drills left behind; RESTORE_DRILL_JANITOR_EVERY=off disables it.
    const janitorEvery = janitorInterval();
    if (janitorEvery !== undefined) {
      const retention = retentionFromConfig();
      const clientConnection = await Connection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
      await ensureJanitorSchedule(new Client({ connection: clientConnection, namespace: settings.namespace }), { taskQueue: settings.taskQueue, every: janitorEvery, retention }).finally(() => clientConnection.close());
    }
    console.log(`restore-drill worker polling ${settings.taskQueue} on ${settings.address} (${settings.namespace})`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

/**
 * Retention policies from the configuration file ($RESTORE_DRILL_CONFIG, ./restore-drill.yaml or
 * /etc/restore-drill/restore-drill.yaml). Without a file nothing is pruned; a bad file stops the
 * worker, so a typo never silently turns retention off.
 */
function retentionFromConfig(): SourceRetentionPolicy[] {
  let file: string;
  try {
    file = resolveConfigPath(undefined);
  } catch {
    console.warn('restore-drill worker: no configuration file, so no backup retention is enforced (set RESTORE_DRILL_CONFIG)');
    return [];
  }
  const policies = retentionPolicies(loadConfig(file));
  console.log(`restore-drill worker: retention from ${file}: ${policies.map((p) => `${p.source} keeps ${p.keepBackups} backup(s)${p.keepNewerThanSeconds === undefined ? '' : ` and those younger than ${p.keepNewerThanSeconds} s`}`).join('; ')}`);
  return policies;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
