/** The dockerode adapter of the container port. */
import Docker from 'dockerode';
import { PassThrough, Writable } from 'node:stream';
import { DockerStreamDemuxer } from './docker-demux';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import type { ContainerInfo, ContainerRuntime, ContainerSpec, ExecOptions, ExecResult } from './container-runtime';

const STDERR_KEEP_BYTES = 8 * 1024;
const STDOUT_KEEP_BYTES = 4 * 1024 * 1024;

/** Keeps the last `limit` bytes written to it. */
class TailBuffer extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
    done();
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 404;
}

/** Where the engine reaches Docker: DOCKER_HOST, else the default socket (docker-modem's own resolution). */
function daemonAddress(docker: Docker): string {
  const modem = docker.modem as { socketPath?: unknown; host?: string; port?: string | number; protocol?: string };
  if (typeof modem.socketPath === 'string') return `unix://${modem.socketPath}`;
  return modem.host ? `${modem.protocol ?? 'http'}://${modem.host}:${modem.port ?? ''}` : 'the Docker daemon';
}

const DAEMON_DOWN_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * The daemon is down, restarting or shutting down: its socket refuses or is gone, a request
 * is cut off ("socket hang up"), or it answers 5xx. Worth a retry, unlike a 4xx about our request.
 */
export function isDaemonUnavailable(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  const status = (err as { statusCode?: number })?.statusCode;
  return (code !== undefined && DAEMON_DOWN_CODES.has(code)) || /socket hang up/i.test((err as Error)?.message ?? '') || (status !== undefined && status >= 500);
}

export class DockerodeRuntime implements ContainerRuntime {
  private readonly address: string;

  constructor(private readonly docker: Docker = new Docker()) {
    this.address = daemonAddress(docker);
  }

  /** Docker's failures as DrillErrors: a daemon that is down or restarting is Transient (the engine retries), anything else ToolFailed. */
  private failure(action: string, err: unknown): DrillError {
    const message = (err as Error)?.message ?? String(err);
    if (isDaemonUnavailable(err))
      return new DrillError(DrillErrorTypes.Transient, `Docker ${action} failed: the Docker daemon on ${this.address} is unavailable (${message}); the engine retries once it answers again`, {
        cause: err,
        details: { daemon: this.address },
      });
    return new DrillError(DrillErrorTypes.ToolFailed, `Docker ${action} failed: ${message}`, { cause: err, details: { daemon: this.address } });
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw new DrillError(DrillErrorTypes.Transient, `the Docker engine on ${this.address} does not answer (${(err as Error).message}); start it with deploy/docker-engine.sh`, { cause: err });
    }
  }

  async imageExists(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.failure(`inspect of image ${image}`, err);
    }
  }

  async ensureImage(image: string): Promise<void> {
    if (await this.imageExists(image)) return;
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) => this.docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw new DrillError(DrillErrorTypes.ImageMissing, `image ${image} is not present and could not be pulled (${(err as Error).message}); build it with deploy/images.sh or load it with docker load`, { cause: err, details: { image } });
    }
  }

  async inspect(name: string): Promise<ContainerInfo | undefined> {
    try {
      const c = await this.docker.getContainer(name).inspect();
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        image: c.Config.Image,
        labels: c.Config.Labels ?? {},
        running: c.State.Running,
        networkMode: c.HostConfig.NetworkMode ?? '',
        exitCode: c.State.Running ? undefined : c.State.ExitCode,
        mounts: (c.Mounts ?? []).map((m) => ({ source: m.Source, destination: m.Destination, rw: m.RW })),
        ...(c.HostConfig.Memory ? { memoryBytes: c.HostConfig.Memory } : {}),
        ...(c.HostConfig.NanoCpus ? { cpus: c.HostConfig.NanoCpus / 1e9 } : {}),
        ...(c.State.OOMKilled ? { oomKilled: true } : {}),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.failure(`inspect of ${name}`, err);
    }
  }

  private createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
    return {
      name: spec.name,
      Image: spec.image,
      Cmd: spec.cmd,
      Entrypoint: [],
      Labels: spec.labels,
      Env: spec.env,
      User: spec.user,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        NetworkMode: spec.networkMode,
        Binds: spec.binds,
        Memory: spec.memoryBytes,
        // No swap beyond the limit: a container over it is killed (OOMKilled), not slowed down.
        MemorySwap: spec.memoryBytes,
        NanoCpus: spec.cpus ? Math.round(spec.cpus * 1e9) : undefined,
        ShmSize: spec.shmBytes,
        RestartPolicy: spec.restartPolicy ? { Name: spec.restartPolicy } : undefined,
      },
    };
  }

  async createAndStart(spec: ContainerSpec): Promise<ContainerInfo> {
    try {
      const container = await this.docker.createContainer(this.createOptions(spec));
      await this.startClearingStaleEndpoint(container, spec.name);
    } catch (err) {
      throw this.failure(`create of ${spec.name}`, err);
    }
    const info = await this.inspect(spec.name);
    if (!info) throw new DrillError(DrillErrorTypes.Transient, `container ${spec.name} vanished right after it was created`);
    return info;
  }

  /**
   * Starts a container. A Docker daemon stopped while it started one can keep that container's
   * network endpoint after it restarts ("endpoint with name X already exists in network none"),
   * and then no container of that name starts again: the stale endpoint is force-disconnected
   * (Docker's own remedy) and the start tried once more.
   */
  private async startClearingStaleEndpoint(container: Docker.Container, name: string): Promise<void> {
    try {
      await container.start();
    } catch (err) {
      const stale = /endpoint with name \S+ already exists in network (\S+)/.exec(String((err as Error).message));
      if (!stale) throw err;
      await this.docker.getNetwork(stale[1]).disconnect({ Container: name, Force: true }).catch(() => undefined);
      await container.start();
    }
  }

  async start(name: string): Promise<void> {
    try {
      await this.startClearingStaleEndpoint(this.docker.getContainer(name), name);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 304) return; // already started
      throw this.failure(`start of ${name}`, err);
    }
  }

  async updateLimits(name: string, limits: { memoryBytes: number; cpus?: number }): Promise<void> {
    try {
      await this.docker.getContainer(name).update({ Memory: limits.memoryBytes, MemorySwap: limits.memoryBytes, NanoCpus: limits.cpus ? Math.round(limits.cpus * 1e9) : 0 });
    } catch (err) {
      throw this.failure(`update of ${name}'s limits`, err);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true, v: true });
    } catch (err) {
      if (isNotFound(err)) return;
      // 409: removal already in progress; the engine finishes it.
      if ((err as { statusCode?: number }).statusCode === 409) return;
      throw this.failure(`removal of ${name}`, err);
    }
  }

  async exec(name: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(name);
    let exec: Docker.Exec;
    try {
      exec = await container.exec({ Cmd: cmd, Env: options.env, AttachStdout: true, AttachStderr: true, AttachStdin: options.stdin !== undefined, Tty: false });
    } catch (err) {
      throw this.failure(`exec in ${name}`, err);
    }
    let stream: NodeJS.ReadWriteStream & { destroy(): void };
    try {
      stream = (await exec.start({ hijack: true, stdin: options.stdin !== undefined })) as typeof stream;
    } catch (err) {
      throw this.failure(`exec in ${name}`, err);
    }
    const { stdoutSink, stdoutText } = this.stdoutSink(options);
    const stderr = new TailBuffer(STDERR_KEEP_BYTES);
    stream.pipe(new DockerStreamDemuxer(stdoutSink, stderr));
    if (options.stdin) options.stdin.pipe(stream);
    const onAbort = () => {
      // Docker has no "kill exec": kill the process it started, which runs on this host.
      void exec.inspect().then((i) => { if (i.Pid) try { process.kill(i.Pid, 'SIGKILL'); } catch { /* already gone */ } });
      stream.destroy();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
      const inspected = await exec.inspect();
      return { exitCode: inspected.ExitCode ?? -1, stdout: stdoutText(), stderr: stderr.text() };
    } catch (err) {
      throw this.failure(`exec in ${name}`, err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async run(spec: ContainerSpec, options: ExecOptions = {}): Promise<ExecResult> {
    await this.remove(spec.name); // a leftover of a crashed attempt: its output is worthless now
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(this.createOptions(spec));
    } catch (err) {
      throw this.failure(`create of ${spec.name}`, err);
    }
    const onAbort = () => void container.kill().catch(() => undefined);
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const { stdoutSink, stdoutText } = this.stdoutSink(options);
      const stderr = new TailBuffer(STDERR_KEEP_BYTES);
      // A daemon that goes away cuts the stream: wait() then fails too, and says so.
      const drained = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      stream.pipe(new DockerStreamDemuxer(stdoutSink, stderr));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      await container.start();
      const waited = (await container.wait()) as { StatusCode: number };
      await drained;
      // The kernel's kill at the memory limit: said in the output every tool failure quotes.
      const oom = waited.StatusCode !== 0 && spec.memoryBytes && (await container.inspect().catch(() => undefined))?.State.OOMKilled;
      const oomNote = oom ? `\n[killed by the kernel: out of memory at the tool container's limit of ${Math.round(spec.memoryBytes! / 1024 / 1024)} MiB; raise tools.memory]` : '';
      return { exitCode: waited.StatusCode, stdout: stdoutText(), stderr: stderr.text() + oomNote };
    } catch (err) {
      throw this.failure(`run of ${spec.name}`, err);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await this.remove(spec.name);
    }
  }

  async listByLabel(labels: Record<string, string>): Promise<ContainerInfo[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({ all: true, filters: JSON.stringify(filters) });
    } catch (err) {
      throw this.failure(`listing of containers labelled ${filters.label.join(', ')}`, err);
    }
    const infos = await Promise.all(list.map((c) => this.inspect(c.Id)));
    return infos.filter((i): i is ContainerInfo => i !== undefined);
  }

  async logs(name: string, tailLines: number): Promise<string> {
    try {
      const buf = (await this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail: tailLines, follow: false })) as unknown as Buffer;
      const out = new TailBuffer(64 * 1024);
      const err = new TailBuffer(64 * 1024);
      const pt = new PassThrough();
      const done = new Promise<void>((r) => pt.on('end', r));
      this.docker.modem.demuxStream(pt, out, err);
      pt.end(buf);
      await done;
      return out.text() + err.text();
    } catch (e) {
      if (isNotFound(e)) return '';
      throw this.failure(`logs of ${name}`, e);
    }
  }

  private stdoutSink(options: ExecOptions): { stdoutSink: Writable; stdoutText: () => string } {
    if (options.stdout) return { stdoutSink: options.stdout, stdoutText: () => '' };
    if (options.onStdout) {
      const onStdout = options.onStdout;
      const sink = new Writable({ write(chunk: Buffer, _e, done) { onStdout(chunk); done(); } });
      return { stdoutSink: sink, stdoutText: () => '' };
    }
    const collected = new TailBuffer(STDOUT_KEEP_BYTES);
    return { stdoutSink: collected, stdoutText: () => collected.text() };
  }
}
