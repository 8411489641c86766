/**
 * The janitor: removes what terminated runs and crashed hosts left behind, found by label
 * (containers) or by the owner id in a folder's name (work folders, .partial and .staging
 * artifact folders). Never anything unlabelled, never a source (domain/janitor.ts decides).
 */
import { Context } from '@temporalio/activity';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { containerSweepDecision, folderSweepDecision, leftoverArtifactOwner } from '../domain/janitor';
import type { OwnerStatus } from '../domain/janitor';
import { MANAGED_LABEL_VALUE, SandboxLabels } from '../domain/naming';
import type { ActivityDeps } from './deps';

export interface SweepResult {
  removedContainers: string[];
  removedFolders: string[];
  /** Labelled objects left in place, with why. */
  kept: { name: string; reason: string }[];
}

export interface SweepRequest {
  /** Ownerless folders older than this are removed (default 24 h). */
  orphanFolderMaxAgeSeconds?: number;
}

/** The owner's status through the worker's own Temporal client. */
async function ownerStatusFromTemporal(workflowId: string): Promise<OwnerStatus> {
  try {
    const d = await Context.current().client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? 'running' : 'closed';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return 'unknown';
    throw err;
  }
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
}

export function janitorActivities(deps: ActivityDeps, ownerStatus: (workflowId: string) => Promise<OwnerStatus> = ownerStatusFromTemporal) {
  return {
    async sweepOrphans(req: SweepRequest = {}): Promise<SweepResult> {
      const now = new Date();
      const maxAgeMs = (req.orphanFolderMaxAgeSeconds ?? 24 * 3600) * 1000;
      const result: SweepResult = { removedContainers: [], removedFolders: [], kept: [] };
      const statuses = new Map<string, Promise<OwnerStatus>>();
      const statusOf = (id: string) => {
        if (!statuses.has(id)) statuses.set(id, ownerStatus(id));
        return statuses.get(id)!;
      };

      for (const c of await deps.runtime.listByLabel({ [SandboxLabels.managed]: MANAGED_LABEL_VALUE })) {
        const owner = c.labels[SandboxLabels.run];
        const decision = containerSweepDecision(c.labels, owner ? await statusOf(owner) : 'unknown', now);
        if (!decision.remove) {
          result.kept.push({ name: c.name, reason: decision.reason });
          continue;
        }
        await deps.runtime.remove(c.name);
        result.removedContainers.push(`${c.name} (${decision.reason})`);
      }

      const folders: { dir: string; owner: string }[] = (await subfolders(deps.paths.workRoot)).map((dir) => ({ dir, owner: path.basename(dir) }));
      for (const sourceDir of await subfolders(deps.paths.artifactRoot))
        for (const dir of [...(await subfolders(path.join(sourceDir, 'backups'))), ...(await subfolders(path.join(sourceDir, 'binlogs')))]) {
          const owner = leftoverArtifactOwner(path.basename(dir));
          if (owner) folders.push({ dir, owner });
        }
      for (const f of folders) {
        const st = await stat(f.dir).catch(() => undefined);
        if (!st) continue;
        const decision = folderSweepDecision(await statusOf(f.owner), now.getTime() - st.mtimeMs, maxAgeMs);
        if (!decision.remove) {
          result.kept.push({ name: f.dir, reason: decision.reason });
          continue;
        }
        await rm(f.dir, { recursive: true, force: true });
        result.removedFolders.push(`${f.dir} (${decision.reason})`);
      }
      return result;
    },
  };
}
