/** The tool container a physical restore extracts and prepares in: the flavor's image, no network, the drill's label. */
import os from 'node:os';
import type { ExecResult } from '../../adapters/container-runtime';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import type { ContainerLimits } from '../../config/schema';
import { toolContainerLimits } from '../../domain/resources';
import { sandboxLabels, toolContainerName } from '../../domain/naming';
import type { ActivityDeps } from '../deps';

/** Where the tool container sees the drill's datadir folder. */
export const RESTORE_IN_TOOL = '/restore';

/**
 * Runs a restore script in the flavor's image (mbstream, mariabackup), without network, labelled
 * as the drill's tool container; `step` names it (default `prepare`), one per stage of a chain.
 */
export function runRestoreTool(
  deps: ActivityDeps,
  req: { drillId: string; source: string; image: string; tools?: ContainerLimits; prepareMemoryMb?: number },
  run: { script: string; binds: string[]; signal: AbortSignal | undefined; step?: string },
): Promise<ExecResult> {
  return deps.runtime.run(
    {
      name: toolContainerName(req.drillId, run.step ?? 'prepare'),
      image: req.image,
      cmd: ['bash', '-c', run.script],
      labels: sandboxLabels({ role: 'tool', run: req.drillId, source: req.source, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
      binds: run.binds,
      networkMode: 'none',
      env: ['TZ=UTC'],
      // mariabackup --prepare holds --use-memory: the default limit grows with it.
      ...toolContainerLimits({ configured: req.tools, prepareMemoryMb: req.prepareMemoryMb, hostMemoryBytes: os.totalmem() }),
    },
    { signal: run.signal },
  );
}


/**
 * A restore tool's exit: 0 passes; 137 (SIGKILL: `docker kill`, the kernel's OOM killer, a daemon
 * going down) is Transient, since the restore starts again from the published artifacts;
 * anything else is the tool's verdict on its input (ToolFailed).
 */
export function checkRestoreToolExit(result: ExecResult, what: string): void {
  if (result.exitCode === 0) return;
  if (result.exitCode === 137)
    throw new DrillError(DrillErrorTypes.Transient, `${what} was killed (exit 137: docker kill, the kernel's OOM killer or a daemon restart); the restore starts again from the published artifacts`, { details: { exitCode: 137 } });
  throw new DrillError(DrillErrorTypes.ToolFailed, `${what} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, { details: { exitCode: result.exitCode } });
}
