/**
 * What every command needs: the Temporal client, the task queue, the configuration file and
 * where artifacts live. Options on the command line win over the environment, which wins over
 * the configuration file.
 */
import type { Client, Connection } from '@temporalio/client';
import path from 'node:path';
import type { EnginePaths } from '../adapters/local-layout';
import { loadConfig, resolveConfigPath } from '../config/load';
import type { LoadedConfig } from '../config/load';
import { resolveTemporalSettings } from '../client/settings';
import type { DrillProgress } from '../client/workflows';
import { stderrProgress } from './progress-view';
import type { TemporalSettings } from '../client/settings';

export interface GlobalOptions {
  config?: string;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  home?: string;
  json?: boolean;
  logFormat?: string;
  logLevel?: string;
}

export interface CliContext {
  /** The global options as given (`worker` resolves its own settings from them: workers/settings.ts). */
  options: GlobalOptions;
  settings: TemporalSettings;
  json: boolean;
  /** --log-format / --log-level as given (cli/runtime.ts applies the environment and defaults). */
  logging: { format?: string; level?: string };
  /** Lazily loaded: `status`, `release` and friends work without a config file. */
  config(): LoadedConfig;
  paths(): EnginePaths;
  client(): Promise<Client>;
  close(): Promise<void>;
  /** Human progress and hints: stderr, so stdout stays the result. */
  log(line: string): void;
  /** A followed drill's phases and running work, on stderr (cli/progress-view.ts). */
  progress(): (p: DrillProgress) => void;
}

export function createContext(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  let config: LoadedConfig | undefined;
  let connection: Connection | undefined;
  const loadedConfig = (): LoadedConfig => (config ??= loadConfig(resolveConfigPath(opts.config, env)));
  // The config file may name the Temporal connection; the environment overrides it, flags override both.
  const fileTemporal = (): LoadedConfig['temporal'] => {
    try {
      return opts.config || env.RESTORE_DRILL_CONFIG ? loadedConfig().temporal : undefined;
    } catch {
      return undefined;
    }
  };
  const settings: TemporalSettings = resolveTemporalSettings(opts, fileTemporal(), env);
  return {
    options: opts,
    settings,
    json: opts.json ?? false,
    logging: { ...(opts.logFormat ? { format: opts.logFormat } : {}), ...(opts.logLevel ? { level: opts.logLevel } : {}) },
    config: loadedConfig,
    paths() {
      // Loaded when asked for (its manifest schema pulls in zod): `verify` of a file needs no engine paths.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, on first use
      const { defaultPaths, withStore } = require('../adapters/local-layout') as typeof import('../adapters/local-layout');
      const fromFile = opts.config || env.RESTORE_DRILL_CONFIG ? safeFile(loadedConfig) : undefined;
      const home = opts.home ?? env.RESTORE_DRILL_HOME ?? fromFile?.home;
      const paths = home ? defaultPaths(path.resolve(home)) : defaultPaths();
      return withStore(paths, fromFile?.store);
    },
    async client() {
      // Loaded here, not at start: commands without Temporal (verify, config validate) start faster.
      const { Client, Connection } = await import('@temporalio/client');
      connection ??= await Connection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey, connectTimeout: 10_000 });
      return new Client({ connection, namespace: settings.namespace });
    },
    async close() {
      await connection?.close();
    },
    log: (line) => console.error(line),
    progress: stderrProgress,
  };
}

function safeFile(load: () => LoadedConfig): LoadedConfig | undefined {
  try {
    return load();
  } catch {
    return undefined;
  }
}

/** Prints a result: JSON on --json, else the text rendering. */
export function emit(ctx: CliContext, value: unknown, text: () => string): void {
  if (ctx.json) console.log(JSON.stringify(value, null, 2));
  else process.stdout.write(text().replace(/\n?$/, '\n'));
}
