/**
 * A Docker daemon of a test's own, so the test can restart it: restarting the shared one would
 * break every other run on the machine. Its own socket, data root, exec root (and so its own
 * containerd), pidfile and cgroup parent; no bridge, no iptables. `teardown` always leaves
 * nothing: containers, processes, mounts, folders.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PrivateDockerd {
  /** `unix://…`, for DOCKER_HOST. */
  readonly host: string;
  readonly socketPath: string;
  readonly docker: Docker;
  /** Copies an image from the shared daemon (`docker save | docker load`). */
  loadImage(image: string): void;
  /** SIGTERM, and waits for the daemon to exit: like a daemon restart without live-restore, its containers stop. */
  stop(): Promise<void>;
  /** Starts the daemon again on the same roots and waits for its first answer. */
  start(): Promise<void>;
  /** The daemon's log so far (for failure messages). */
  log(): string;
  /** Removes every container, stops the daemon, kills what it left, unmounts and deletes its folders. */
  teardown(): Promise<void>;
}

/** Pids of processes whose command line mentions `needle`, or whose cgroup path does. */
function pidsMentioning(needle: string, file: 'cmdline' | 'cgroup'): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(path.join('/proc', pid, file)).toString('utf8').includes(needle)) out.push(Number(pid));
    } catch {
      /* exited meanwhile */
    }
  }
  return out.filter((p) => p !== process.pid);
}

/** Mount points under `dir`, deepest first (mountinfo escapes spaces as \040). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

export async function startPrivateDockerd(name: string): Promise<PrivateDockerd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `rd-dockerd-${name}-`));
  const socketPath = path.join(dir, 'docker.sock');
  const cgroupParent = `/${path.basename(dir)}`;
  const logFile = path.join(dir, 'dockerd.log');
  const docker = new Docker({ socketPath });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const args = [
    `--host=unix://${socketPath}`,
    `--data-root=${path.join(dir, 'data')}`,
    `--exec-root=${path.join(dir, 'exec')}`,
    `--pidfile=${path.join(dir, 'dockerd.pid')}`,
    // An empty config: /etc/docker/daemon.json, if any, belongs to the shared daemon.
    `--config-file=${path.join(dir, 'daemon.json')}`,
    `--cgroup-parent=${cgroupParent}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--storage-driver=overlay2',
  ];
  execFileSync('bash', ['-c', `echo '{}' > ${JSON.stringify(path.join(dir, 'daemon.json'))}`]);

  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  async function start(): Promise<void> {
    const fd = openSync(logFile, 'a');
    const proc = spawn('dockerd', args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child = proc;
    let spawnError: Error | undefined;
    exited = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', (err) => ((spawnError = err), resolve()));
    });
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (spawnError) throw new Error(`dockerd could not be started (${spawnError.message}): the test needs dockerd on PATH and root, as deploy/docker-engine.sh installs it`);
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`private dockerd exited at start:\n${log().slice(-3000)}`);
      if (await docker.ping().then(() => true, () => false)) return;
      if (Date.now() > deadline) throw new Error(`private dockerd did not answer on ${socketPath} within 120 s:\n${log().slice(-3000)}`);
      await sleep(100);
    }
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM', waitMs = 120_000): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
    clearTimeout(timer);
    if (!done) {
      proc.kill('SIGKILL');
      await exited;
    }
  }

  const daemon: PrivateDockerd = {
    host: `unix://${socketPath}`,
    socketPath,
    docker,
    loadImage(image) {
      execFileSync('bash', ['-o', 'pipefail', '-c', `docker save ${JSON.stringify(image)} | docker -H ${JSON.stringify(`unix://${socketPath}`)} load -q`], { stdio: 'pipe', timeout: 900_000 });
    },
    stop: () => stop(),
    start,
    log,
    async teardown() {
      try {
        const all = await docker.listContainers({ all: true });
        for (const c of all) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      } catch {
        /* the daemon is down: its containers are killed below */
      }
      await stop('SIGTERM', 60_000);
      // What may outlive a daemon that died: its containerd and shims (they name our exec root),
      // and container processes (they live in our cgroup parent).
      for (const pid of [...pidsMentioning(dir, 'cmdline'), ...pidsMentioning(`${cgroupParent}/`, 'cgroup')]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await sleep(500);
      for (const m of mountsUnder(dir)) {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'pipe' });
        } catch {
          /* unmounted with its parent */
        }
      }
      for (const controller of readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, cgroupParent))) {
        try {
          rmdirSync(controller);
        } catch {
          /* never created, or not a v1 hierarchy */
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (err) {
    await daemon.teardown();
    throw err;
  }
  return daemon;
}
