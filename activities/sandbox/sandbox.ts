/**
 * Sandbox activities: the throwaway server a backup is restored into. Named from the
 * workflow id and labelled, so a retry adopts the one it made and nothing else is ever
 * written to. No network: reached only through its socket in a bind-mounted folder.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { log } from '@temporalio/activity';
import type { ContainerInfo } from '../../adapters/container-runtime';
import { waitUntilAnswering, withSession } from '../../adapters/mysql';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { RESTARTS_IN_PLACE, bisectStartRedoLogMb } from '../../domain/bisect/snapshots';
import { CONTAINER_DATADIR, CONTAINER_SOCKET_DIR, SANDBOX_HOOK_DIR_NAME, quiesceScript, sandboxBufferPoolMb, serverCommand } from '../../domain/flavors';
import { sandboxAdminInitSql } from '../../domain/physical/backups';
import { MANAGED_LABEL_VALUE, SandboxLabels, checkSocketPathLength, sandboxLabels, sandboxName } from '../../domain/naming';
import { sandboxMemoryLimitMb, sandboxMemoryRetry, sandboxOutOfMemoryMessage, sandboxSizingMemoryBytes } from '../../domain/resources';
import type { MemoryRetry } from '../../domain/resources';
import type { Flavor } from '../../domain/types';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../types';
import { binlogArchiveDir, drillWorkDir } from '../../adapters/local-layout';
import { stagedBackupDir } from '../artifacts/staging';
import { localArchiveDir } from '../artifacts/catalog';

export const SANDBOX_BACKUP_DIR = '/backup';
export const SANDBOX_BINLOG_DIR = '/binlogs';
const SANDBOX_SERVER_ID = 4242;
const MIB = 1024 * 1024;
/** How long (x 200 ms) a failure waits for Docker to record a sandbox's exit before deciding it was not killed. */
const OOM_SETTLE_POLLS = 10;

export interface CreateSandboxRequest {
  drillId: string;
  source: string;
  flavor: Flavor;
  image: string;
  /** Host folders mounted read-only: the backup's folder and the binlog archive (default: the source's archive). */
  backupDir: string;
  binlogDir?: string;
  ttlSeconds: number;
  /** A physically restored datadir (host path) mounted as the server's own: no load, no init. */
  datadir?: string;
  /** The source's data and index bytes, else the backup artifact's size: the buffer pool is sized to hold what the restore loads (domain/flavors.ts sandboxBufferPoolMb). */
  sourceDataBytes?: number;
  artifactBytes?: number;
  /** The source's configured sandbox buffer pool (MiB), instead of the size derived from the artifact. */
  bufferPoolMb?: number;
  /** The container's memory limit (MiB) and CPU limit (cores); absent: derived (domain/resources.ts). An adopted sandbox is given these limits. */
  memoryMb?: number;
  cpus?: number;
  /**
   * A bisect's sandbox: its server restarts in place for snapshots and rewinds, and a small
   * restore starts with the small redo log every snapshot copies (domain/bisect/snapshots.ts).
   */
  bisect?: boolean;
}

/**
 * The typed failure of a sandbox the kernel killed at its memory limit, when it was: whatever
 * else failed because of it (a lost connection, a tool's exit) is not a fact about the backup.
 */
export async function sandboxOutOfMemory(deps: ActivityDeps, name: string, during: string): Promise<DrillError | undefined> {
  let info = await deps.runtime.inspect(name).catch(() => undefined);
  // The sessions see the kill a moment before Docker has recorded the container's exit.
  for (let i = 0; i < OOM_SETTLE_POLLS && info?.running; i++) {
    await new Promise((r) => setTimeout(r, 200));
    info = await deps.runtime.inspect(name).catch(() => undefined);
  }
  if (!info?.oomKilled || info.running) return undefined;
  const limitMb = info.memoryBytes ? Math.round(info.memoryBytes / MIB) : 0;
  const bufferPoolMb = Number(info.labels[SandboxLabels.bufferPoolMb]) || undefined;
  return new DrillError(DrillErrorTypes.SandboxOutOfMemory, sandboxOutOfMemoryMessage({ sandbox: name, limitMb, during, bufferPoolMb }), { details: { sandbox: name, limitMb, ...(bufferPoolMb ? { bufferPoolMb } : {}) } });
}

/** Runs `work`; a failure it meets because the kernel killed the sandbox for lack of memory becomes SandboxOutOfMemory. */
export async function failingOutOfMemory<T>(deps: ActivityDeps, name: string, during: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw (await sandboxOutOfMemory(deps, name, during)) ?? err;
  }
}

/**
 * Refuses any container the engine did not create and label as this drill's sandbox:
 * the only thing restore-drill ever writes to.
 */
export function assertOwnSandbox(info: ContainerInfo | undefined, name: string, drillId: string): ContainerInfo {
  if (!info) throw new DrillError(DrillErrorTypes.UnsafeTarget, `restore target ${name} does not exist; only a sandbox created by this drill can be restored into`);
  const l = info.labels;
  if (l[SandboxLabels.managed] !== MANAGED_LABEL_VALUE || l[SandboxLabels.role] !== 'sandbox' || l[SandboxLabels.run] !== drillId)
    throw new DrillError(DrillErrorTypes.UnsafeTarget, `refusing to write to container ${name}: it is not a restore-drill sandbox of drill ${drillId} (labels ${JSON.stringify(l)})`, { details: { name } });
  if (info.networkMode !== 'none')
    throw new DrillError(DrillErrorTypes.UnsafeTarget, `refusing to write to container ${name}: it has network mode ${info.networkMode}, a sandbox has none`);
  return info;
}

/** What this host's sandboxes are sized against: their share of its declared capacity, else its memory. */
function sandboxMemoryBytes(deps: ActivityDeps): number {
  return sandboxSizingMemoryBytes({ hostMemoryBytes: os.totalmem(), capacityMemoryMb: deps.placement?.memoryMb, sandboxes: deps.placement?.sandboxes });
}

export function sandboxSocketDir(deps: ActivityDeps, drillId: string): string {
  return path.join(drillWorkDir(deps.paths, drillId), 'sandbox-sock');
}

export function sandboxActivities(deps: ActivityDeps) {
  return {
    async createSandbox(req: CreateSandboxRequest): Promise<SandboxHandle> {
      const name = sandboxName(req.drillId);
      const socketDir = sandboxSocketDir(deps, req.drillId);
      const socketPath = path.join(socketDir, 'mysqld.sock');
      checkSocketPathLength(socketPath);
      let info = await deps.runtime.inspect(name);
      let adopted = info !== undefined;
      let replaced: string | undefined;
      const expiresAt = new Date(Date.now() + req.ttlSeconds * 1000).toISOString();
      const hostMemoryBytes = sandboxMemoryBytes(deps);
      const bufferPoolMb = sandboxBufferPoolMb({ configuredMb: req.bufferPoolMb, sourceDataBytes: req.sourceDataBytes, artifactBytes: req.artifactBytes, hostMemoryBytes });
      const limits = { memoryMb: sandboxMemoryLimitMb({ configuredMb: req.memoryMb, bufferPoolMb, hostMemoryBytes }), ...(req.cpus ? { cpus: req.cpus } : {}) };
      if (info) {
        assertOwnSandbox(info, name, req.drillId);
        // Restarted after the kernel killed it at its memory limit: with the limit asked for now.
        if (info.memoryBytes !== limits.memoryMb * MIB || info.cpus !== limits.cpus) await deps.runtime.updateLimits(name, { memoryBytes: limits.memoryMb * MIB, cpus: limits.cpus });
        if (!info.running) {
          try {
            await deps.runtime.start(name);
          } catch (err) {
            // A daemon that does not answer: retried (Transient). One that answers but cannot
            // start this container: replace it. Nothing in it outlives an attempt: the restore is
            // redone from the dump, and a physically restored datadir lives on the host.
            if (!(await deps.runtime.ping().then(() => true, () => false))) throw err;
            replaced = `Docker could not start it again: ${(err as Error).message.slice(0, 400)}`;
            log.warn(`replacing sandbox ${name}: ${replaced}`);
            await deps.runtime.remove(name);
            info = undefined;
            adopted = false;
          }
        }
      }
      if (!info) {
        await deps.runtime.ensureImage(req.image);
        await mkdir(socketDir, { recursive: true });
        // The archive may not exist yet: the sandbox can start before the binlogs are archived.
        const binlogDir = req.binlogDir ? await localArchiveDir(deps.paths, req.binlogDir) : binlogArchiveDir(deps.paths, req.source);
        await mkdir(binlogDir, { recursive: true });
        // Restarted in place, the server runs hooks the worker writes here: only the worker may write them.
        if (req.bisect) await mkdir(path.join(socketDir, SANDBOX_HOOK_DIR_NAME), { recursive: true, mode: 0o755 });
        // The server inside may run as another uid (official images): let it create its socket
        // (sticky: nobody else may rename or remove what the worker made there).
        await chmod(socketDir, 0o1777);
        info = await deps.runtime.createAndStart({
          name,
          image: req.image,
          // A restored datadir carries the source's accounts: the init file gives the engine its own socket-only root (domain/physical/backups.ts).
          cmd: serverCommand(req.flavor, 'sandbox', SANDBOX_SERVER_ID, {
            ...(req.datadir ? { initSql: sandboxAdminInitSql(req.flavor) } : {}),
            bufferPoolMb,
            ...(req.bisect ? { redoLogMb: bisectStartRedoLogMb(req), restartInPlace: true } : {}),
          }),
          labels: {
            ...sandboxLabels({ role: 'sandbox', run: req.drillId, source: req.source, expires: expiresAt }),
            [SandboxLabels.bufferPoolMb]: String(bufferPoolMb),
            ...(req.bisect ? { [SandboxLabels.restarts]: RESTARTS_IN_PLACE } : {}),
          },
          binds: [
            `${socketDir}:${CONTAINER_SOCKET_DIR}`,
            `${await stagedBackupDir(deps, req.backupDir, req.drillId, 'folder')}:${SANDBOX_BACKUP_DIR}:ro`,
            `${binlogDir}:${SANDBOX_BINLOG_DIR}:ro`,
            ...(req.datadir ? [`${req.datadir}:${CONTAINER_DATADIR}`] : []),
          ],
          networkMode: 'none',
          env: ['TZ=UTC'],
          shmBytes: 64 * 1024 * 1024,
          memoryBytes: limits.memoryMb * MIB,
          cpus: limits.cpus,
        });
      }
      const readyMs = await withHeartbeat(
        () => ({ phase: 'sandbox', name }),
        () =>
          waitUntilAnswering({ socket: socketPath }, { user: 'root' }, 120_000, async (attempt) => {
            if (attempt % 10 !== 0) return;
            const now = await deps.runtime.inspect(name);
            if (now && !now.running) {
              const oom = await sandboxOutOfMemory(deps, name, 'start');
              if (oom) throw oom;
              const logs = await deps.runtime.logs(name, 30);
              throw new DrillError(DrillErrorTypes.ToolFailed, `sandbox ${name} exited with ${now.exitCode} before it answered: ${logs.trim().slice(-1500)}`);
            }
          }),
      );
      return { name, containerId: info.id, flavor: req.flavor, socketPath, image: req.image, expiresAt, readyMs, adopted, ...(replaced ? { replaced } : {}), ...limits, bufferPoolMb, ...(deps.placement ? { host: deps.placement.host } : {}) };
    },

    /** Whether the drill's sandbox exists and runs: tells a failed restore from a killed sandbox. */
    async inspectSandbox(req: { drillId: string }): Promise<{ exists: boolean; running: boolean }> {
      const info = await deps.runtime.inspect(sandboxName(req.drillId));
      return { exists: info !== undefined, running: info?.running ?? false };
    },

    /**
     * Whether a sandbox the kernel killed at `limitMb` is started once more, and with how much
     * memory: decided against what this worker's host has now (domain/resources.ts).
     */
    async sandboxMemoryRetry(req: { drillId: string; limitMb: number; maxMemoryMb?: number }): Promise<MemoryRetry> {
      return sandboxMemoryRetry({ limitMb: req.limitMb, maxMemoryMb: req.maxMemoryMb, hostMemoryBytes: sandboxMemoryBytes(deps), hostAvailableBytes: os.freemem() });
    },

    /**
     * Stops what a crashed attempt left running in the sandbox (the restore or replay client a
     * dead worker exec'd keeps writing), so the next attempt starts from a clean state.
     */
    async quiesceSandbox(req: { drillId: string }): Promise<{ killedConnections: number }> {
      const name = sandboxName(req.drillId);
      assertOwnSandbox(await deps.runtime.inspect(name), name, req.drillId);
      await deps.runtime.exec(name, ['bash', '-c', quiesceScript()]);
      const socket = path.join(sandboxSocketDir(deps, req.drillId), 'mysqld.sock');
      return withSession({ socket }, { user: 'root' }, async (s) => {
        const rows = await s.query<{ id: number }>(
          "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Slave_SQL', 'Slave_IO') AND USER NOT IN ('system user', 'event_scheduler')",
        );
        for (const r of rows) await s.query(`KILL ${Number(r.id)}`).catch(() => undefined);
        // A replay through the server's own applier keeps running without its worker.
        for (const stop of ['STOP ALL SLAVES', 'STOP REPLICA']) await s.query(stop).catch(() => undefined);
        return { killedConnections: rows.length };
      });
    },

    /** Removes the drill's sandbox and its scratch folder; "already gone" is success. Only ever removes a labelled sandbox. */
    async removeSandbox(req: { drillId: string }): Promise<{ removed: boolean }> {
      const name = sandboxName(req.drillId);
      const info = await deps.runtime.inspect(name);
      if (info) {
        assertOwnSandbox({ ...info, networkMode: 'none' }, name, req.drillId);
        await deps.runtime.remove(name);
      }
      await rm(drillWorkDir(deps.paths, req.drillId), { recursive: true, force: true });
      return { removed: info !== undefined };
    },
  };
}
