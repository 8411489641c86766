/**
 * The small container port the engine needs. One adapter (dockerode, adapters/docker.ts)
 * implements it; unit tests may fake it. Shape learned from testcontainers' container-runtime.
 */
import type { Readable, Writable } from 'node:stream';

export interface ContainerSpec {
  name: string;
  image: string;
  cmd: string[];
  labels: Record<string, string>;
  /** `host-path:container-path[:ro]` */
  binds: string[];
  /** Sandboxes and tool containers that reach a server through a socket use 'none'. */
  networkMode: 'none' | 'host';
  env?: string[];
  user?: string;
  /** Memory limit (swap included: none beyond it); the kernel kills the container past it. */
  memoryBytes?: number;
  /** CPU limit in cores (Docker's NanoCpus); absent: none. */
  cpus?: number;
  shmBytes?: number;
  /** Whether the daemon starts it again after it exits or the daemon restarts (Docker's default: never). */
  restartPolicy?: 'no' | 'always' | 'unless-stopped';
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  running: boolean;
  networkMode: string;
  /** Set when the container has exited. */
  exitCode?: number;
  mounts: { source: string; destination: string; rw: boolean }[];
  /** Its memory limit (absent: none) and CPU limit in cores (absent: none). */
  memoryBytes?: number;
  cpus?: number;
  /** The kernel killed it for running out of memory at its limit (Docker's State.OOMKilled). */
  oomKilled?: boolean;
}

export interface ExecOptions {
  env?: string[];
  /**
   * Receives stdout with backpressure (the container's output pauses while it is full); the
   * caller ends it. When neither this nor `onStdout` is given, stdout is collected (bounded).
   */
  stdout?: Writable;
  /** Receives stdout chunks as they arrive, without backpressure: for small outputs only. */
  onStdout?: (chunk: Buffer) => void;
  stdin?: Readable;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  /** The last few KiB of stderr: enough for the error, never unbounded. */
  stderr: string;
}

export interface ContainerRuntime {
  ping(): Promise<void>;
  imageExists(image: string): Promise<boolean>;
  /** Pull when missing; throws DrillError(ImageMissing) when neither present nor pullable. */
  ensureImage(image: string): Promise<void>;
  inspect(name: string): Promise<ContainerInfo | undefined>;
  /** Creates and starts. Throws if the name is taken: callers adopt through `inspect` first. */
  createAndStart(spec: ContainerSpec): Promise<ContainerInfo>;
  start(name: string): Promise<void>;
  /** Changes a container's memory and CPU limits, running or stopped. */
  updateLimits(name: string, limits: { memoryBytes: number; cpus?: number }): Promise<void>;
  /** Removes with its anonymous volumes; "already gone" is success. */
  remove(name: string): Promise<void>;
  exec(name: string, cmd: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Runs a one-shot container to completion, streaming stdout; the container is removed after. */
  run(spec: ContainerSpec, options?: ExecOptions): Promise<ExecResult>;
  listByLabel(labels: Record<string, string>): Promise<ContainerInfo[]>;
  logs(name: string, tailLines: number): Promise<string>;
}
