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
 * Why the request's worker count cannot be used on this flavor, or undefined when it can. The
 * drill asks this as soon as it knows the source's flavor, before any backup or sandbox.
 */
export function replayWorkersProblem(flavor: Flavor, requested: number | undefined): string | undefined {
  if (requested === undefined) return undefined;
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_APPLIER_WORKERS) return `replayWorkers must be a whole number from 0 to ${MAX_APPLIER_WORKERS}, not ${requested}`;
  if (flavor === 'mariadb' && requested > 0)
    return `replayWorkers ${requested} is not available on MariaDB: its parallel replication crashes the server on relay logs made of a source's binlog files; use 0 or leave it out`;
  return undefined;
}

/**
 * MySQL: the request's count when it names one, otherwise one worker per core, at most 4 (9.7
 * has no single-threaded applier any more: 0 runs one worker behind the coordinator).
 * MariaDB: always one SQL thread. Its parallel replication crashes the server (signal 11 in
 * apply_event_and_update_pos_for_parallel, 10.11.18 and 11.8, optimistic mode) on relay logs
 * that are a source's binlog files, which is what this replay hands it (docs/performance.md).
 */
export function applierWorkers(opts: { flavor: Flavor; cores: number; requested?: number }): number {
  const { requested } = opts;
  const problem = replayWorkersProblem(opts.flavor, requested);
  if (problem) throw new DrillError(DrillErrorTypes.BadConfig, problem);
  if (opts.flavor === 'mariadb') return 0;
  if (requested !== undefined) return requested;
  const cores = Math.floor(opts.cores);
  return cores <= 1 ? 0 : Math.min(4, cores);
}

/** The cores a sandbox may use: its CPU limit when it has one, never more than the host's. */
export function sandboxCores(hostCores: number, cpuLimit?: number): number {
  return Math.max(1, Math.floor(cpuLimit ? Math.min(cpuLimit, hostCores) : hostCores));
}
