/**
 * Memory and CPU limits of the containers the engine starts: the sandbox server and the tool
 * containers (dump, binlog copy, prepare). Configured per source, else derived from the
 * sandbox's buffer pool within a budget of the worker host's memory. And the one retry a
 * sandbox killed by the kernel for running out of memory gets.
 */

const MIB = 1024 * 1024;

/**
 * What a server needs besides its buffer pool: MySQL 9.7 holds about 450 MiB at idle
 * (performance_schema), MariaDB about 130 MiB; sessions, sort buffers and the restore's
 * LOAD DATA come on top.
 */
export const SANDBOX_MEMORY_OVERHEAD_MB = 1024;
/** A tool container: mysqldump and mysqlbinlog stream; mariabackup --prepare holds its --use-memory. */
export const TOOL_MEMORY_DEFAULT_MB = 2048;
/** At most this share of the worker host's memory for one container, unless configured: several drills share one worker. */
export const HOST_MEMORY_BUDGET_SHARE = 0.5;
/** Memory left to the worker and the host when an out-of-memory retry is sized. */
export const HOST_MEMORY_RESERVE_MB = 512;
/** A retry is worth it only with at least this much more memory than the limit that was too small. */
const MIN_RETRY_GROWTH = 1.25;

export interface ContainerLimits {
  memoryMb: number;
  /** Absent: no CPU limit. */
  cpus?: number;
}

/** The host budget for one container, in MiB. */
export function hostMemoryBudgetMb(hostMemoryBytes: number): number {
  return Math.floor((hostMemoryBytes * HOST_MEMORY_BUDGET_SHARE) / MIB);
}

/**
 * The memory a sandbox is sized against. A host that declares its sandboxes' memory
 * (worker.capacity.memory) gives each sandbox its share, memory / sandboxes, as the whole budget
 * (so: the host memory of which that share is {@link HOST_MEMORY_BUDGET_SHARE}); else the host's own.
 */
export function sandboxSizingMemoryBytes(opts: { hostMemoryBytes: number; capacityMemoryMb?: number; sandboxes?: number }): number {
  if (opts.capacityMemoryMb === undefined) return opts.hostMemoryBytes;
  const shareMb = opts.capacityMemoryMb / Math.max(1, opts.sandboxes ?? 1);
  return Math.floor((shareMb / HOST_MEMORY_BUDGET_SHARE) * MIB);
}

/** The sandbox's memory limit: as configured, else its buffer pool and the server's overhead, at most the host budget. */
export function sandboxMemoryLimitMb(opts: { configuredMb?: number; bufferPoolMb: number; hostMemoryBytes: number }): number {
  if (opts.configuredMb !== undefined) return opts.configuredMb;
  return Math.min(opts.bufferPoolMb + SANDBOX_MEMORY_OVERHEAD_MB, hostMemoryBudgetMb(opts.hostMemoryBytes));
}

/** A tool container's memory limit: as configured, else 2 GiB (more when a prepare is given more), at most the host budget. */
export function toolMemoryLimitMb(opts: { configuredMb?: number; prepareMemoryMb?: number; hostMemoryBytes: number }): number {
  if (opts.configuredMb !== undefined) return opts.configuredMb;
  const wanted = Math.max(TOOL_MEMORY_DEFAULT_MB, (opts.prepareMemoryMb ?? 0) + SANDBOX_MEMORY_OVERHEAD_MB);
  return Math.min(wanted, hostMemoryBudgetMb(opts.hostMemoryBytes));
}

/** A tool container's limits as the container port takes them. */
export function toolContainerLimits(opts: { configured?: { memoryMb?: number; cpus?: number }; prepareMemoryMb?: number; hostMemoryBytes: number }): { memoryBytes: number; cpus?: number } {
  const memoryMb = toolMemoryLimitMb({ configuredMb: opts.configured?.memoryMb, prepareMemoryMb: opts.prepareMemoryMb, hostMemoryBytes: opts.hostMemoryBytes });
  return { memoryBytes: memoryMb * MIB, ...(opts.configured?.cpus ? { cpus: opts.configured.cpus } : {}) };
}

export type MemoryRetry = { retry: true; memoryMb: number } | { retry: false; reason: string };

/**
 * Whether a sandbox killed for running out of memory at `limitMb` is started once more, and
 * with how much: twice the limit, at most `maxMemoryMb` (configured, else the host budget) and
 * what the host has available now less a reserve. Not worth it when that is not clearly more.
 */
export function sandboxMemoryRetry(opts: { limitMb: number; maxMemoryMb?: number; hostMemoryBytes: number; hostAvailableBytes: number }): MemoryRetry {
  const ceiling = opts.maxMemoryMb ?? hostMemoryBudgetMb(opts.hostMemoryBytes);
  const available = Math.floor(opts.hostAvailableBytes / MIB) - HOST_MEMORY_RESERVE_MB;
  const memoryMb = Math.min(2 * opts.limitMb, ceiling, available);
  if (memoryMb >= opts.limitMb * MIN_RETRY_GROWTH) return { retry: true, memoryMb };
  const bound =
    memoryMb === available
      ? `the host has ${Math.max(0, available + HOST_MEMORY_RESERVE_MB)} MiB available (${HOST_MEMORY_RESERVE_MB} MiB kept for the worker)`
      : `sandbox.maxMemory${opts.maxMemoryMb === undefined ? ` (default: half the host's ${Math.round(opts.hostMemoryBytes / MIB)} MiB)` : ''} allows ${ceiling} MiB`;
  return { retry: false, reason: `not retried with more memory: ${bound}, not clearly more than ${opts.limitMb} MiB` };
}

/** The message of a sandbox the kernel killed: its limit, where it was, and what to change. */
export function sandboxOutOfMemoryMessage(opts: { sandbox: string; limitMb: number; during: string; bufferPoolMb?: number }): string {
  const pool = opts.bufferPoolMb !== undefined ? ` with an InnoDB buffer pool of ${opts.bufferPoolMb} MiB` : '';
  return (
    `sandbox ${opts.sandbox} was killed by the kernel during the ${opts.during}: out of memory at its limit of ${opts.limitMb} MiB${pool}. ` +
    `This says nothing about the backup: give the sandbox more memory (sandbox.memory) or a smaller buffer pool (sandboxBufferPoolMb)`
  );
}
