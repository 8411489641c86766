/**
 * What a worker host runs with, from one place for both entry points (`restore-drill worker` and
 * `node dist/workers/main.js`): the command line's flags, then the environment, then the
 * configuration file, then the defaults. Pure: the file is read by the caller.
 */
import os from 'node:os';
import path from 'node:path';
import { defaultPaths, withStore } from '../adapters/local-layout';
import type { EnginePaths } from '../adapters/local-layout';
import { resolveTemporalSettings } from '../client/settings';
import type { TemporalChoices, TemporalSettings } from '../client/settings';
import type { ConfigFile } from '../config/file-schema';

export interface WorkerFlags extends TemporalChoices {
  home?: string;
}

export interface HostCapacity {
  /** Sandboxes this host runs at once: a drill waits for a host with a free one. */
  sandboxes: number;
  /** Memory all its sandboxes may use together, in MiB; absent: the engine's default share of the host. */
  memoryMb?: number;
}

export interface WorkerHostSettings {
  temporal: TemporalSettings;
  paths: EnginePaths;
  /** Where the home came from, for the start line. */
  home: string;
  /** This host's name: its own task queue is `<taskQueue>@<host>`. */
  host: string;
  capacity: HostCapacity;
}

export const DEFAULT_SANDBOXES_PER_HOST = 2;

/** A machine's host name as a task queue and label accept it (letters, digits, _ . -). */
export function hostNameOf(machine: string): string {
  return machine.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63) || 'worker';
}

export function workerHostSettings(opts: { flags?: WorkerFlags; config?: ConfigFile; env?: NodeJS.ProcessEnv; machineHost?: string }): WorkerHostSettings {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  const config = opts.config;
  const home = path.resolve(flags.home ?? env.RESTORE_DRILL_HOME ?? config?.home ?? path.join(env.HOME ?? '/root', '.restore-drill'));
  const base = defaultPaths(home);
  const worker = config?.worker;
  return {
    temporal: resolveTemporalSettings(flags, config?.temporal, env),
    paths: withStore({ artifactRoot: base.artifactRoot, workRoot: worker?.workDir ?? base.workRoot }, config?.store),
    home,
    host: worker?.host ?? env.RESTORE_DRILL_HOST ?? hostNameOf(opts.machineHost ?? os.hostname()),
    capacity: {
      sandboxes: worker?.capacity.sandboxes ?? DEFAULT_SANDBOXES_PER_HOST,
      ...(worker?.capacity.memory !== undefined ? { memoryMb: worker.capacity.memory } : {}),
    },
  };
}
