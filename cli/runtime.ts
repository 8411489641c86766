/**
 * The Temporal runtime for commands that run a worker in this process (worker, demo): logging
 * through pino on stderr (stdout is for results), in the format and level asked for
 * (workers/logging.ts).
 */
import type { Logger } from '../adapters/logging';
import { installLogging, logSettings } from '../workers/logging';
import type { LogSettings } from '../workers/logging';

/** Once, before any worker. `defaults`: `worker` logs at info; `demo` at warn, so the SDK's chatter does not drown the drill's progress lines. */
export function installCliLogging(given: { format?: string; level?: string }, defaults: LogSettings, temporalListen?: string): Logger {
  return installLogging(logSettings(given, process.env, defaults), { fd: 2, ...(temporalListen ? { temporalListen } : {}) });
}
