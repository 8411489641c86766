/**
 * Where a restore's CPU goes on the benchmark's machine: every container's CPU seconds from its
 * cgroup (cgroup v1 `cpuacct.usage` or v2 `cpu.stat`) and the drill worker's (this process's
 * from process.cpuUsage, or a worker process's from /proc/PID/stat), sampled a few times a second. A container removed between
 * two samples loses at most one interval; the engine's restore window ends while its sandbox
 * still runs, so its numbers are whole.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CGROUP_DIRS = ['/sys/fs/cgroup/cpuacct/docker', '/sys/fs/cgroup/system.slice', '/sys/fs/cgroup/docker'];

export interface CpuSample {
  atMs: number;
  workerSeconds: number;
  /** Container name -> CPU seconds used since it started. */
  containers: Map<string, number>;
}

async function cgroupSeconds(dir: string, entry: string): Promise<number | undefined> {
  const usage = await readFile(`${dir}/${entry}/cpuacct.usage`, 'utf8').catch(() => undefined);
  if (usage !== undefined) return Number(usage) / 1e9;
  const stat = await readFile(`${dir}/${entry}/cpu.stat`, 'utf8').catch(() => undefined);
  const usec = stat && /usage_usec (\d+)/.exec(stat);
  return usec ? Number(usec[1]) / 1e6 : undefined;
}

function cpuUsageSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

/** A process's user + system CPU seconds, all its threads, from /proc/PID/stat; NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    return procStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** utime + stime (fields 14 and 15) of a /proc/PID/stat line, whose command name may hold spaces and parentheses. */
export function procStatCpuSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export class CpuSampler {
  private readonly samples: CpuSample[] = [];
  private readonly names = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  /** `workerPid`: the drill worker runs in that process; absent: in this one. */
  constructor(
    private readonly everyMs = 250,
    private readonly workerPid?: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async name(id: string): Promise<string> {
    let name = this.names.get(id);
    if (name === undefined) {
      name = await run('docker', ['inspect', '-f', '{{.Name}}', id]).then(
        (r) => r.stdout.trim().replace(/^\//, ''),
        () => '',
      );
      // Not cached while unknown: a container just created may not answer yet.
      if (name) this.names.set(id, name);
    }
    return name;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const workerSeconds = this.workerPid === undefined ? cpuUsageSeconds() : processCpuSeconds(this.workerPid);
      const containers = new Map<string, number>();
      for (const dir of CGROUP_DIRS) {
        const entries = await readdir(dir).catch(() => [] as string[]);
        for (const entry of entries) {
          const id = /^(?:docker-)?([0-9a-f]{64})(?:\.scope)?$/.exec(entry)?.[1];
          if (!id) continue;
          const seconds = await cgroupSeconds(dir, entry);
          const name = await this.name(id);
          if (seconds !== undefined && name) containers.set(name, seconds);
        }
      }
      this.samples.push({ atMs: Date.now(), workerSeconds, containers });
    } finally {
      this.busy = false;
    }
  }

  /** CPU seconds between two instants ({@link cpuBetween}). */
  between(fromMs: number, toMs: number, server: (name: string) => boolean, other: (name: string) => boolean = () => false): CpuUsed {
    return cpuBetween(this.samples, fromMs, toMs, this.everyMs, server, other);
  }
}

export interface CpuUsed {
  server: number;
  worker: number;
  other: number;
}

/**
 * CPU seconds between two instants, from the samples taken within half an interval of them:
 * this process's, the sum over containers whose name `server` accepts, and over the other
 * containers `other` accepts. A container first seen after the window's first sample counts
 * from zero (it started within the window).
 */
export function cpuBetween(samples: readonly CpuSample[], fromMs: number, toMs: number, everyMs: number, server: (name: string) => boolean, other: (name: string) => boolean = () => false): CpuUsed {
  const inWindow = samples.filter((s) => s.atMs >= fromMs - everyMs / 2 && s.atMs <= toMs + everyMs / 2);
  if (inWindow.length < 2) return { server: NaN, worker: NaN, other: NaN };
  const first = inWindow[0];
  const last = inWindow[inWindow.length - 1];
  const sum = (accept: (name: string) => boolean) => {
    let total = 0;
    for (const name of new Set(inWindow.flatMap((s) => [...s.containers.keys()]).filter(accept))) {
      const seen = inWindow.filter((s) => s.containers.has(name));
      total += seen[seen.length - 1].containers.get(name)! - (first.containers.get(name) ?? 0);
    }
    return total;
  };
  return { server: sum(server), worker: last.workerSeconds - first.workerSeconds, other: sum(other) };
}
