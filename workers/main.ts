#!/usr/bin/env node
/**
 * The worker service's process entry point (systemd, containers): the same service and the same
 * configuration file as `restore-drill worker` (workers/entry.ts), found at $RESTORE_DRILL_CONFIG,
 * ./restore-drill.yaml or /etc/restore-drill/restore-drill.yaml. Logs are JSON lines on stdout
 * unless RESTORE_DRILL_LOG_FORMAT=pretty; level RESTORE_DRILL_LOG_LEVEL (default info).
 */
import type { Logger } from '../adapters/logging';
import { runConfiguredWorker } from './entry';

let logger: Logger | undefined;

runConfiguredWorker({ flags: {}, logging: { given: {}, defaults: { format: 'json', level: 'info' }, fd: 1 }, onLogger: (l) => void (logger = l) }).catch((err: unknown) => {
  if (logger) logger.error({ err }, `worker stopped: ${(err as Error)?.message ?? String(err)}`);
  else console.error(err);
  process.exit(1);
});
