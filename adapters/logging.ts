/**
 * The process's log: pino JSON lines (one object per line: time, level, msg, and the fields of
 * the line), or the same lines made readable for a terminal. The Temporal SDK's logger is routed
 * through it (temporalLogger), so the SDK's own lines, workflow `log` calls and activity `log`
 * calls land in one stream with the drill's id and source on them.
 * Secrets never reach a log line by construction (they are references until an activity reads
 * them); the redaction below is a second fence for keys that would name one.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino from 'pino';
import type { Logger } from 'pino';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type { Logger };

const REDACTED_KEYS = ['password', 'secret', 'token', 'apiKey', 'authorization'];

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevelName;
  /** File descriptor written to: 1 (stdout, the worker service) or 2 (stderr, the CLI, whose stdout is results). */
  fd?: number;
  /** Instead of the file descriptor (tests). */
  stream?: { write(line: string): void };
}

export function createLogger(opts: LoggerOptions): Logger {
  const sink = opts.stream ?? pino.destination({ fd: opts.fd ?? 1, sync: true });
  return pino(
    {
      level: opts.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
    },
    opts.format === 'json' ? sink : { write: (line: string) => sink.write(prettyLine(line)) },
  );
}

const SHOWN_FIRST = ['drillId', 'source'];
const LEFT_OUT = new Set(['time', 'level', 'msg', 'workflowRunId', 'namespace', 'taskQueue', 'isLocal', 'sdkComponent']);

/** `12:03:04.567 WARN  message  drillId=… source=… key=value`: one JSON line made readable. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const level = String(entry.level ?? '').toUpperCase().padEnd(5);
  const keys = [...SHOWN_FIRST.filter((k) => k in entry), ...Object.keys(entry).filter((k) => !SHOWN_FIRST.includes(k) && !LEFT_OUT.has(k))];
  const fields = keys.map((k) => `${k}=${typeof entry[k] === 'string' ? (entry[k] as string) : JSON.stringify(entry[k])}`);
  return `${time} ${level} ${String(entry.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}\n`;
}

const TEMPORAL_LEVELS: Record<LogLevel, LogLevelName> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The Temporal SDK's Logger on top of `logger`. Workflow and activity lines carry the run's
 * workflowId, reported as `drillId`; a run's `source` (from the drill's first line, or from its
 * activities' inputs) is remembered per workflow id and put on every later line of that run.
 */
export function temporalLogger(logger: Logger, remembered = 10_000): TemporalLogger {
  const sources = new Map<string, string>();
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const fields: Record<string, unknown> = { ...meta };
    // An activity's task token completes it from anywhere: no place in a log.
    delete fields.taskToken;
    const workflowId = typeof meta.workflowId === 'string' ? meta.workflowId : undefined;
    if (workflowId !== undefined) {
      fields.drillId = workflowId;
      delete fields.workflowId;
      if (typeof meta.source === 'string') {
        if (!sources.has(workflowId) && sources.size >= remembered) sources.delete(sources.keys().next().value!);
        sources.set(workflowId, meta.source);
      } else if (sources.has(workflowId)) fields.source = sources.get(workflowId);
    }
    // pino serializes an Error under `err` (message, type, stack).
    if (fields.error instanceof Error) {
      fields.err = fields.error;
      delete fields.error;
    }
    logger[TEMPORAL_LEVELS[level]](fields, message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
