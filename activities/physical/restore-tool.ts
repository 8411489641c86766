/** The tool container a physical restore extracts and prepares in: the flavor's image, no network, the drill's label. */
import type { ExecResult } from '../../adapters/container-runtime';
import { sandboxLabels, toolContainerName } from '../../domain/naming';
import type { ActivityDeps } from '../deps';

/** Where the tool container sees the drill's datadir folder. */
export const RESTORE_IN_TOOL = '/restore';

/** Runs a restore script in the flavor's image (mbstream, mariabackup), without network, labelled as the drill's tool container. */
export function runRestoreTool(deps: ActivityDeps, req: { drillId: string; source: string; image: string }, run: { script: string; binds: string[]; signal: AbortSignal | undefined }): Promise<ExecResult> {
  return deps.runtime.run(
    {
      name: toolContainerName(req.drillId, 'prepare'),
      image: req.image,
      cmd: ['bash', '-c', run.script],
      labels: sandboxLabels({ role: 'tool', run: req.drillId, source: req.source, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
      binds: run.binds,
      networkMode: 'none',
      env: ['TZ=UTC'],
    },
    { signal: run.signal },
  );
}

