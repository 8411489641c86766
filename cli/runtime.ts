/** The Temporal worker runtime for commands that run a worker in this process (worker, demo). */
import { DefaultLogger, Runtime } from '@temporalio/worker';

/** Once, before any worker: the SDK's INFO chatter would drown the drill's own progress lines. */
export function installQuietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.RESTORE_DRILL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
  } catch {
    /* installed already */
  }
}
