/**
 * A physical restore never touches the published artifact: it is extracted into the drill's
 * work folder (and, for mariabackup, prepared there) and mounted as the sandbox's datadir.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerLimits } from '../../config/schema';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { sandboxName } from '../../domain/naming';
import { mariabackupRestoreScript } from '../../domain/physical/backups';
import { chainExtractScript, chainIncrementScript } from '../../domain/physical/chain';
import { drillWorkDir } from '../../adapters/local-layout';
import { stagedFile } from '../artifacts/staging';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { assertOwnSandbox } from '../sandbox/sandbox';
import { spawnTool } from './child-process';
import { restoreTeamPhysical } from './team-restore';
import { RESTORE_IN_TOOL, checkRestoreToolExit, runRestoreTool } from './restore-tool';
import { chainArtifacts } from './chain';

const CHAIN_IN_TOOL = '/chain';
const BACKUPS_IN_TOOL = '/backups';

const BACKUP_IN_TOOL = '/backup';
/**
 * Where a physical restore puts the datadir the sandbox mounts. A chain's lies in `chain/`
 * beside its extracted increments: `mariabackup --prepare --incremental-dir` renames files from
 * the increment into the datadir, which fails across two mounts (EXDEV), so one folder holds both.
 */
export function restoredDatadir(deps: ActivityDeps, drillId: string, chain = false): string {
  return path.join(drillWorkDir(deps.paths, drillId), ...(chain ? ['chain', 'datadir'] : ['datadir']));
}

export function physicalRestoreActivities(deps: ActivityDeps) {
  return {
    /**
     * Extracts a verified physical artifact into the drill's work folder (the published file
     * stays as it is) and, for mariabackup, prepares it; the sandbox then mounts the folder as
     * its datadir. Removes the drill's own sandbox first: a retry starts from the artifact.
     */
    async restorePhysicalBackup(given: { drillId: string; source: string; image: string; artifactPath: string; manifest: BackupManifest; prepareMemoryMb?: number; tools?: ContainerLimits }): Promise<{ datadir: string; seconds: number }> {
      const started = Date.now();
      // In S3: the artifact (and its chain's) staged on this host, checked against their manifests.
      const req = given.manifest.origin ? given : { ...given, artifactPath: await stagedFile(deps, given.artifactPath, given.drillId) };
      const name = sandboxName(req.drillId);
      const info = await deps.runtime.inspect(name);
      if (info) {
        assertOwnSandbox({ ...info, networkMode: 'none' }, name, req.drillId);
        await deps.runtime.remove(name);
      }
      const datadir = restoredDatadir(deps, req.drillId, req.manifest.chain !== undefined && !req.manifest.origin);
      await rm(datadir, { recursive: true, force: true });
      await mkdir(datadir, { recursive: true, mode: 0o750 });
      if (req.manifest.origin) {
        // A team's backup: streamed from where it is into the tool container, never written whole to disk first.
        await withHeartbeat(() => ({ phase: 'restore', method: 'mariabackup', seconds: Math.round((Date.now() - started) / 1000) }), (signal) => restoreTeamPhysical(deps, { ...req, manifest: { ...req.manifest, origin: req.manifest.origin! } }, datadir, signal));
      } else if (req.manifest.chain) {
        await prepareChain(deps, { ...req, chain: req.manifest.chain }, datadir, started);
      } else if (req.manifest.archive === 'mbstream') {
        const result = await withHeartbeat(
          () => ({ phase: 'restore', method: 'mariabackup', seconds: Math.round((Date.now() - started) / 1000) }),
          (signal) =>
            runRestoreTool(deps, req, {
              script: mariabackupRestoreScript({ artifact: path.posix.join(BACKUP_IN_TOOL, path.basename(req.artifactPath)), target: RESTORE_IN_TOOL, useMemoryMb: req.prepareMemoryMb ?? 1024 }),
              binds: [`${path.dirname(req.artifactPath)}:${BACKUP_IN_TOOL}:ro`, `${datadir}:${RESTORE_IN_TOOL}`],
              signal,
            }),
        );
        checkRestoreToolExit(result, `extracting and preparing ${req.artifactPath}`);
      } else {
        const tar = spawnTool('tar', ['-xzf', req.artifactPath, '-C', datadir]);
        const { code, stderr } = await withHeartbeat(() => ({ phase: 'restore', method: 'clone' }), () => tar.done);
        if (code !== 0) throw new DrillError(DrillErrorTypes.ToolFailed, `extracting ${req.artifactPath} failed (tar exit ${code}): ${stderr.trim().slice(-600)}`);
      }
      return { datadir, seconds: (Date.now() - started) / 1000 };
    },
  };
}

/**
 * An increment's chain (verified and its LSNs checked before this runs): every stream extracted
 * into the drill's folder and the full prepared, then each increment applied in its own stage
 * and tool container. Only copies are written: a stage killed half way fails the attempt, and
 * the next one removes them and starts again from the published streams, which are only read.
 */
async function prepareChain(
  deps: ActivityDeps,
  req: { drillId: string; source: string; image: string; artifactPath: string; prepareMemoryMb?: number; chain: NonNullable<BackupManifest['chain']> },
  datadir: string,
  started: number,
): Promise<void> {
  const chainDir = path.dirname(datadir);
  const increments = path.join(chainDir, 'increments');
  await rm(increments, { recursive: true, force: true });
  await mkdir(increments, { recursive: true, mode: 0o750 });
  const backupsDir = path.dirname(path.dirname(req.artifactPath));
  const inTool = (file: string) => path.posix.join(BACKUPS_IN_TOOL, path.relative(backupsDir, file).split(path.sep).join('/'));
  const useMemoryMb = req.prepareMemoryMb ?? 1024;
  const target = path.posix.join(CHAIN_IN_TOOL, path.basename(datadir));
  const incrementsInTool = path.posix.join(CHAIN_IN_TOOL, 'increments');
  const binds = [`${backupsDir}:${BACKUPS_IN_TOOL}:ro`, `${chainDir}:${CHAIN_IN_TOOL}`];
  const count = req.chain.members.length - 1;
  let stage = 'extract the chain and prepare the full backup';
  const stages = [
    { step: 'prepare', what: `extracting the chain of ${req.artifactPath} and preparing its full backup ${req.chain.baseId}`, script: chainExtractScript({ artifacts: chainArtifacts(req.artifactPath, req.chain).map(inTool), target, increments: incrementsInTool, useMemoryMb }) },
    ...req.chain.members.slice(1).map((m, i) => ({
      step: `prepare-inc-${i + 1}`,
      what: `applying increment ${i + 1} of ${count} (${m.backupId}) to the prepared full backup`,
      script: chainIncrementScript({ n: i + 1, target, increments: incrementsInTool, useMemoryMb }),
    })),
  ];
  try {
    for (const s of stages) {
      stage = s.what;
      const result = await withHeartbeat(() => ({ phase: 'restore', method: 'mariabackup', stage, seconds: Math.round((Date.now() - started) / 1000) }), (signal) => runRestoreTool(deps, req, { script: s.script, binds, signal, step: s.step }));
      checkRestoreToolExit(result, s.what);
    }
  } finally {
    await rm(increments, { recursive: true, force: true });
  }
}
