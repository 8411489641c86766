/**
 * The worker's and the CLI's logging, installed once per process before any Temporal connection:
 * pino lines (adapters/logging.ts) in the chosen format and level, with the Temporal SDK's own
 * logger (and its Rust core's warnings) routed through them, and the SDK's Prometheus exporter
 * when asked for (workers/metrics.ts). Settings: --log-format / --log-level, else
 * RESTORE_DRILL_LOG_FORMAT / RESTORE_DRILL_LOG_LEVEL, else the entry point's defaults.
 */
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { LOG_FORMATS, LOG_LEVELS, createLogger, temporalLogger } from '../adapters/logging';
import type { LogFormat, LogLevelName, Logger } from '../adapters/logging';
import { DrillError, DrillErrorTypes } from '../domain/errors';

export interface LogSettings {
  format: LogFormat;
  level: LogLevelName;
}

export function logSettings(given: { format?: string; level?: string }, env: NodeJS.ProcessEnv, defaults: LogSettings): LogSettings {
  const format = (given.format ?? env.RESTORE_DRILL_LOG_FORMAT ?? defaults.format).toLowerCase();
  const level = (given.level ?? env.RESTORE_DRILL_LOG_LEVEL ?? defaults.level).toLowerCase();
  if (!(LOG_FORMATS as readonly string[]).includes(format))
    throw new DrillError(DrillErrorTypes.BadConfig, `log format ${JSON.stringify(format)}: use ${LOG_FORMATS.join(' or ')} (--log-format or RESTORE_DRILL_LOG_FORMAT)`);
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new DrillError(DrillErrorTypes.BadConfig, `log level ${JSON.stringify(level)}: use one of ${LOG_LEVELS.join(', ')} (--log-level or RESTORE_DRILL_LOG_LEVEL)`);
  return { format: format as LogFormat, level: level as LogLevelName };
}

/** Installs the Temporal runtime with our logger; returns the logger for the entry point's own lines. */
export function installLogging(settings: LogSettings, opts: { fd?: number; temporalListen?: string } = {}): Logger {
  const logger = createLogger({ ...settings, fd: opts.fd });
  // The Rust core's own lines are forwarded too, at WARN and above: below that they are the SDK's internals.
  const core = settings.level === 'error' ? 'ERROR' : 'WARN';
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core }), forward: {} },
      ...(opts.temporalListen ? { metrics: { prometheus: { bindAddress: opts.temporalListen } } } : {}),
    },
  });
  return logger;
}
