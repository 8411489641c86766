/**
 * How many worker threads the sandbox's applier uses for a relay-log replay. Pure: the
 * activity passes the cores it sees (the sandbox's CPU limit or the host's) and the request's
 * choice; 0 is one SQL thread applying every transaction itself.
 */
import { DrillError, DrillErrorTypes } from '../errors';
import type { Flavor } from '../types';

/** More workers than this wait on each other's locks and commit order more than they apply. */
export const MAX_APPLIER_WORKERS = 8;

/**
 * Why the request's worker count cannot be used, or undefined when it can. The drill asks this
 * as soon as it has inspected the source, before any backup or sandbox. Both flavors take the
 * same range.
 */
export function replayWorkersProblem(requested: number | undefined): string | undefined {
  if (requested === undefined) return undefined;
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_APPLIER_WORKERS) return `replayWorkers must be a whole number from 0 to ${MAX_APPLIER_WORKERS}, not ${requested}`;
  return undefined;
}

/**
 * The request's count when it names one. Otherwise MySQL: one worker per core, at most 4 (9.7
 * has no single-threaded applier any more: 0 runs one worker behind the coordinator);
 * MariaDB: one SQL thread (its optimistic parallel replication is taken only when asked for,
 * docs/performance.md).
 */
export function applierWorkers(opts: { flavor: Flavor; cores: number; requested?: number }): number {
  const { requested } = opts;
  const problem = replayWorkersProblem(requested);
  if (problem) throw new DrillError(DrillErrorTypes.BadConfig, problem);
  if (requested !== undefined) return requested;
  if (opts.flavor === 'mariadb') return 0;
  const cores = Math.floor(opts.cores);
  return cores <= 1 ? 0 : Math.min(4, cores);
}

/** The cores a sandbox may use: its CPU limit when it has one, never more than the host's. */
export function sandboxCores(hostCores: number, cpuLimit?: number): number {
  return Math.max(1, Math.floor(cpuLimit ? Math.min(cpuLimit, hostCores) : hostCores));
}
