/**
 * The janitor: removes what terminated runs and crashed hosts left behind, found by label
 * (containers) or by the owner id in a folder's name (work folders, .partial and .staging
 * artifact folders). Never anything unlabelled, never a source (domain/artifacts/janitor.ts decides).
 * It also enforces each source's retention: old backups and the archived binlogs only they
 * needed (domain/artifacts/retention.ts decides).
 */
import { Context } from '@temporalio/activity';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { containerSweepDecision, folderSweepDecision, leftoverArtifactOwner } from '../../domain/artifacts/janitor';
import type { OwnerStatus } from '../../domain/artifacts/janitor';
import { MANIFEST_FILE } from '../../domain/artifacts/manifest';
import { StoreKeys, unpublishedFolders } from '../../domain/artifacts/store-layout';
import { artifactStoreOf } from '../../adapters/artifact-store';
import { MANAGED_LABEL_VALUE, SandboxLabels, sourceLockWorkflowId } from '../../domain/naming';
import { assertRetentionPolicy, decideRetention } from '../../domain/artifacts/retention';
import type { BackupVerdict, RetainedBackupInfo, SourceRetentionPolicy, UnreadableBackup } from '../../domain/artifacts/retention';
import { archivedNames, dropFromArchiveIndex, readArchiveIndex, readPublishedManifests, storedArchiveNames } from './catalog';
import { pruneReports } from '../../adapters/report-files';
import type { ActivityDeps } from '../deps';
import { binlogArchiveDir } from '../../adapters/local-layout';

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

export interface SourceRetentionResult {
  source: string;
  /** Why the source was left alone this sweep (a drill holds its lock). */
  skipped?: string;
  removedBackups: BackupVerdict[];
  keptBackups: BackupVerdict[];
  /** Backup folders left for a human: manifest missing or unreadable. */
  reported: UnreadableBackup[];
  removedBinlogs: string[];
  /** The archive's first file after the sweep. */
  binlogsKeptFrom?: string;
  binlogReason: string;
  /** Drill reports removed by keepReports (the oldest first go). */
  removedReports?: number;
}

/** The backups of a source as their manifests describe them; folders without a readable manifest are reported instead. */
async function readBackupFolders(deps: ActivityDeps, source: string): Promise<{ backups: RetainedBackupInfo[]; unreadable: UnreadableBackup[] }> {
  const backups: RetainedBackupInfo[] = [];
  const unreadable: UnreadableBackup[] = [];
  const store = await artifactStoreOf(deps.paths);
  const prefix = StoreKeys.backups(source);
  const keys = (await store.list(prefix)).map((o) => o.key.slice(prefix.length));
  for (const folder of unpublishedFolders(keys, MANIFEST_FILE))
    unreadable.push({ folder, problem: `no ${MANIFEST_FILE}: not a published backup; inspect and remove it by hand` });
  for (const m of await readPublishedManifests(deps.paths, source)) {
    if ('problem' in m) {
      unreadable.push({ folder: m.folder, problem: m.problem });
      continue;
    }
    // A team's backup adopted without coordinates holds no archive back; its manifest is all there is, kept.
    if (m.coordinates === undefined) continue;
    const b: RetainedBackupInfo = { folder: m.folder, backupId: m.backupId, createdAt: m.createdAt, finishedAt: m.finishedAt, coordinates: m.coordinates };
    if (m.gtidSet !== undefined) b.gtidSet = m.gtidSet;
    if (m.chain) b.chain = m.chain.members.slice(0, -1).map((c) => c.backupId);
    backups.push(b);
  }
  return { backups, unreadable: unreadable.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0)) };
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

/**
 * Uploads to an S3 store that never got their manifest (`<source>/backups/.partial-<id>/`): a
 * local store's are folders, swept with the work folders. Same decision as a folder's, the
 * newest object's age standing for the folder's.
 */
async function sweepStoredPartials(deps: ActivityDeps, maxAgeMs: number, now: Date, statusOf: (id: string) => Promise<OwnerStatus>, result: SweepResult): Promise<void> {
  const store = await artifactStoreOf(deps.paths);
  if (store.kind === 'local') return;
  const partials = new Map<string, { source: string; owner: string; keys: string[]; newest: number }>();
  for (const o of await store.list('')) {
    const m = /^([^/]+)\/backups\/(\.partial-[^/]+)\//.exec(o.key);
    const owner = m && leftoverArtifactOwner(m[2]!);
    if (!m || !owner) continue;
    const prefix = `${m[1]}/backups/${m[2]}/`;
    const entry = partials.get(prefix) ?? { source: m[1]!, owner, keys: [], newest: 0 };
    entry.keys.push(o.key);
    entry.newest = Math.max(entry.newest, o.modified.getTime());
    partials.set(prefix, entry);
  }
  for (const [prefix, p] of partials) {
    const decision = folderSweepDecision(await statusOf(p.owner), now.getTime() - p.newest, maxAgeMs);
    if (!decision.remove) {
      result.kept.push({ name: store.ref(prefix), reason: decision.reason });
      continue;
    }
    await store.remove(p.keys);
    result.removedFolders.push(`${store.ref(prefix)} (${decision.reason})`);
    deps.metrics?.janitorRemoved(p.source, 'folders', 1);
  }
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
        deps.metrics?.janitorRemoved(c.labels[SandboxLabels.source] ?? '', 'containers', 1);
      }

      // A drill's work folder does not name its source: counted under source "".
      const folders: { dir: string; owner: string; source: string }[] = (await subfolders(deps.paths.workRoot)).map((dir) => ({ dir, owner: path.basename(dir), source: '' }));
      for (const sourceDir of await subfolders(deps.paths.artifactRoot))
        for (const dir of [...(await subfolders(path.join(sourceDir, 'backups'))), ...(await subfolders(path.join(sourceDir, 'binlogs')))]) {
          const owner = leftoverArtifactOwner(path.basename(dir));
          if (owner) folders.push({ dir, owner, source: path.basename(sourceDir) });
        }
      await sweepStoredPartials(deps, maxAgeMs, now, statusOf, result);
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
        deps.metrics?.janitorRemoved(f.source, 'folders', 1);
      }
      return result;
    },

    /**
     * Applies each source's retention policy: removes the backups the policy lets go (each
     * unpublished by one rename first, so no reader sees half a folder) and the archived binlog
     * files before the oldest kept backup's start file, after rewriting the archive's index
     * atomically. A source whose drill is running (its source lock is held) is skipped.
     */
    async enforceRetention(req: { policies: SourceRetentionPolicy[] }): Promise<SourceRetentionResult[]> {
      const results: SourceRetentionResult[] = [];
      for (const policy of req.policies) assertRetentionPolicy(policy, policy.source);
      for (const policy of req.policies) {
        const source = policy.source;
        const report: SourceRetentionResult = { source, removedBackups: [], keptBackups: [], reported: [], removedBinlogs: [], binlogReason: '' };
        results.push(report);
        const lockHeld = async () => (await ownerStatus(sourceLockWorkflowId(source))) === 'running';
        if (await lockHeld()) {
          report.skipped = `a drill of ${source} is running (${sourceLockWorkflowId(source)} is held): retention waits for the next sweep`;
          continue;
        }
        const store = await artifactStoreOf(deps.paths);
        const archiveDir = binlogArchiveDir(deps.paths, source);
        // A sweep that died half-way leaves unpublished .pruning-* folders: finish removing them.
        await store.finishRemovals(StoreKeys.backups(source));

        const { backups, unreadable } = await readBackupFolders(deps, source);
        const index = await readArchiveIndex(deps.paths, source);
        const decision = decideRetention({
          backups,
          unreadable,
          archivedFiles: [...(store.kind === 'local' ? await archivedNames(archiveDir) : await storedArchiveNames(deps.paths, source)), ...index.files.map((f) => f.file)],
          policy,
          now: new Date(),
        });
        Object.assign(report, { keptBackups: decision.keepBackups, reported: decision.reported, binlogReason: decision.binlogReason });
        if (decision.binlogsKeptFrom !== undefined) report.binlogsKeptFrom = decision.binlogsKeptFrom;
        // Narrow the window in which a drill could start between the decision and the removal.
        if (await lockHeld()) {
          report.skipped = `a drill of ${source} started during the sweep: retention waits for the next sweep`;
          report.keptBackups = [];
          continue;
        }
        // Backups first: a crash after this leaves extra binlogs (harmless), never a backup without its binlogs.
        for (const b of decision.removeBackups) {
          await store.removeFolder(`${StoreKeys.backups(source)}${b.folder}/`, MANIFEST_FILE);
          report.removedBackups.push(b);
        }
        if (policy.keepReports !== undefined) report.removedReports = await pruneReports(deps.paths, source, policy.keepReports);
        if (decision.removeBinlogs.length > 0) {
          const removing = new Set(decision.removeBinlogs);
          // The index first: it never names a file the archive lacks for long, and a crash leaves only unindexed extra files.
          await dropFromArchiveIndex(deps.paths, source, (file) => removing.has(file));
          if (store.kind !== 'local') await store.remove(decision.removeBinlogs.map((file) => `${StoreKeys.binlogs(source)}${file}`));
          for (const file of decision.removeBinlogs) {
            await rm(path.join(archiveDir, file), { force: true }); // this host's copy
            report.removedBinlogs.push(file);
          }
        }
        deps.metrics?.janitorRemoved(source, 'backups', report.removedBackups.length);
        deps.metrics?.janitorRemoved(source, 'binlogs', report.removedBinlogs.length);
        deps.metrics?.janitorRemoved(source, 'reports', report.removedReports ?? 0);
      }
      return results;
    },
  };
}
