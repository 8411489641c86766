/**
 * Physical backups: a copy of the source's datadir instead of a dump. MariaDB: mariabackup
 * streams the datadir (mounted read-only in a tool container) as mbstream. MySQL: the clone
 * plugin writes a consistent copy into a folder the source server can write, which the worker
 * packs as tar. Both are published like a dump (artifacts/publish.ts); verify.ts re-reads
 * them, restore.ts extracts them for a sandbox.
 */
import { rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { withSession } from '../../adapters/mysql';
import type { SourceSpec } from '../../config/schema';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { attemptName, sandboxLabels, toolContainerName } from '../../domain/naming';
import { toolContainerLimits } from '../../domain/resources';
import { backupToolFailure } from '../../domain/backups/interruptions';
import { PHYSICAL_ARCHIVES, PHYSICAL_FILES, XbstreamWalker, cloneFinalizeScript, mariabackupArgs, parseCloneStatusRow, parseMariabackupBinlogPosition, physicalPrivileges } from '../../domain/physical/backups';
import { parseCheckpoints } from '../../domain/physical/chain';
import type { BackupLsn, ChainMember } from '../../domain/physical/chain';
import { datadirLayout, isBackupMetadata } from '../../domain/physical/team-backup';
import { drillWorkDir } from '../../adapters/local-layout';
import type { RecoveryPoint } from '../../domain/types';
import { publishBackup, writeCompressedArtifact } from '../artifacts/publish';
import { backupTotal, workProgress } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { endpointOf, sourceCredentials } from '../../adapters/source-connection';
import { runSourceTool } from '../source/tools';
import type { BackupRequest, PublishedBackup } from '../types';
import { decideIncrement, writeIncrementBasedir } from './chain';
import { spawnTool } from './child-process';

const CLONE_IN_TOOL = '/clone';
const BASEDIR_IN_TOOL = '/incremental-basedir';

export function physicalBackupActivities(deps: ActivityDeps) {
  /** The host folder holding the source's datadir: configured, or the source container's mount of it. */
  async function hostDatadir(source: SourceSpec, serverDatadir: string): Promise<string> {
    const p = source.physical;
    if (p?.datadir) return p.datadir;
    if (p?.container) {
      const info = await deps.runtime.inspect(p.container);
      const want = serverDatadir.replace(/\/+$/, '');
      const mount = info?.mounts.find((m) => m.destination.replace(/\/+$/, '') === want);
      if (!mount)
        throw new DrillError(DrillErrorTypes.BadConfig, `container ${p.container} of source ${source.name} has no mount at the server's datadir ${serverDatadir}: set physical.datadir to the host folder holding it`);
      return mount.source;
    }
    throw new DrillError(DrillErrorTypes.BadConfig, `a physical backup of MariaDB source ${source.name} reads its datadir: set physical.datadir (the host folder of ${serverDatadir}) or physical.container (its Docker container) in the config`);
  }

  /** `basedir`: a folder holding the base's checkpoints file, for an increment (--incremental-basedir). */
  async function mariabackupToArtifact(req: BackupRequest, file: string, basedir?: string) {
    const creds = await sourceCredentials(req.source);
    const [{ datadir }] = await withSession(endpointOf(req.source), creds, (s) => s.query<{ datadir: string }>('SELECT @@datadir AS datadir'));
    const hostDir = await hostDatadir(req.source, datadir);
    let stderr = '';
    let exitCode = 0;
    let rawSoFar = 0;
    const started = Date.now();
    // The stream is walked as it is written: its checkpoints file records the LSNs the next increment starts from.
    const walker = new XbstreamWalker(file, crc32, isBackupMetadata);
    let walkError: unknown;
    const walk = (c: Buffer): void => {
      if (walkError === undefined) {
        try {
          walker.push(c);
        } catch (err) {
          walkError = err;
        }
      }
    };
    const args = basedir ? [...mariabackupArgs(), `--incremental-basedir=${BASEDIR_IN_TOOL}`] : mariabackupArgs();
    const binds = [`${hostDir}:${datadir.replace(/\/+$/, '')}:ro`, ...(basedir ? [`${basedir}:${BASEDIR_IN_TOOL}:ro`] : [])];
    const written = await writeCompressedArtifact(file, { gzipLevel: 1, tap: walk }, async (sink, stop) => {
      const tap = new Transform({ transform: (c: Buffer, _e, done) => { rawSoFar += c.length; done(null, c); } });
      tap.pipe(sink);
      // Mounted read-only at the server's own datadir path: mariabackup takes the path from the server.
      const result = await withHeartbeat(
        () => ({ phase: 'backup', method: 'mariabackup', rawBytes: rawSoFar, work: workProgress(started, rawSoFar, backupTotal(req.facts.dataBytes)) }),
        (signal) =>
          runSourceTool(deps, { drillId: req.drillId, step: attemptName('mariabackup', req.attempt), source: req.source, image: req.facts.image, tool: 'mariabackup', args, binds }, {
            stdout: tap,
            signal: signal ? AbortSignal.any([signal, stop]) : stop,
          }),
      );
      tap.end();
      await new Promise<void>((resolve) => (tap.readableEnded ? resolve() : tap.once('end', resolve)));
      stderr = result.stderr;
      exitCode = result.exitCode;
    });
    if (exitCode !== 0)
      throw backupToolFailure({ tool: 'mariabackup', source: req.source.name, output: stderr, exitCode, otherwise: `mariabackup of source ${req.source.name} exited with ${exitCode} (its user needs ${physicalPrivileges('mariadb')}; the datadir ${hostDir} must be readable): ${stderr.trim().slice(-800)}` });
    const version = /mariabackup based on MariaDB server (\S+)/.exec(stderr)?.[1];
    if (walkError === undefined) {
      try {
        walker.end();
      } catch (err) {
        walkError = err;
      }
    }
    if (walkError !== undefined) throw walkError;
    const lsn = parseCheckpoints(datadirLayout(walker.members()).checkpoints);
    if (!lsn) throw new DrillError(DrillErrorTypes.DumpTruncated, `mariabackup's stream of source ${req.source.name} holds no readable xtrabackup_checkpoints file (backup_type, from_lsn, to_lsn): it is incomplete and is not published`);
    return { ...written, lsn, point: parseMariabackupBinlogPosition(stderr), tool: { name: 'mariabackup', ...(version ? { version } : {}) } };
  }

  /** mariabackup, as a full backup or as an increment on the source's newest one (its chain recorded). */
  async function mariabackupFullOrIncrement(req: BackupRequest, backupId: string, file: string): Promise<Awaited<ReturnType<typeof mariabackupToArtifact>> & { chain?: ChainMember[] }> {
    const decision = req.incremental ? await decideIncrement(deps.paths, req.source.name, req.incremental.maxIncrements) : undefined;
    if (decision?.take !== 'incremental') return mariabackupToArtifact(req, file);
    const baseLsn: BackupLsn = decision.base.lsn!;
    const basedir = path.join(drillWorkDir(deps.paths, req.drillId), attemptName('incremental-basedir', req.attempt));
    try {
      await writeIncrementBasedir(basedir, baseLsn);
      const taken = await mariabackupToArtifact(req, file, basedir);
      if (taken.lsn.backupType !== 'incremental' || taken.lsn.from !== baseLsn.to)
        throw new DrillError(DrillErrorTypes.BrokenBackupChain, `mariabackup took a ${taken.lsn.backupType} backup from LSN ${taken.lsn.from} on base ${decision.base.backupId}, which ends at LSN ${baseLsn.to}: it does not extend the chain and is not published`);
      return { ...taken, chain: [...decision.members, { backupId, fromLsn: taken.lsn.from, toLsn: taken.lsn.to }] };
    } finally {
      await rm(basedir, { recursive: true, force: true });
    }
  }

  async function cloneToArtifact(req: BackupRequest, backupId: string, file: string) {
    const { source } = req;
    const cloneDir = source.physical?.cloneDir;
    if (!cloneDir)
      throw new DrillError(DrillErrorTypes.BadConfig, `a physical backup of MySQL source ${source.name} clones into a folder: set physical.cloneDir.server (a folder the server can write) and physical.cloneDir.worker (the same folder as the worker sees it)`);
    const cloneName = attemptName(`rd-clone-${backupId}`, req.attempt);
    const serverDir = path.posix.join(cloneDir.server, cloneName);
    const workerDir = path.join(cloneDir.worker, cloneName);
    // A crashed attempt's clone: CLONE refuses an existing directory.
    await rm(workerDir, { recursive: true, force: true });
    const creds = await sourceCredentials(source);
    try {
      await withSession(endpointOf(source), creds, async (s) => {
        const [plugin] = await s.query<{ status: string }>("SELECT PLUGIN_STATUS AS status FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'");
        if (plugin?.status !== 'ACTIVE')
          throw new DrillError(DrillErrorTypes.BadConfig, `the clone plugin is not active on source ${source.name}; restore-drill never changes a source: have a DBA run INSTALL PLUGIN clone SONAME 'mysql_clone.so' once (and GRANT BACKUP_ADMIN ON *.* TO ${source.user}), or use backup method logical`);
        await withHeartbeat(() => ({ phase: 'backup', method: 'clone' }), () => s.query('CLONE LOCAL DATA DIRECTORY = ?', [serverDir])).catch((err: unknown) => {
          const text = `${(err as Error).message} ${String((err as { cause?: Error }).cause?.message ?? '')}`;
          if (/BACKUP_ADMIN|access denied|1227/i.test(text))
            throw new DrillError(DrillErrorTypes.BadConfig, `source user ${source.user} may not clone: GRANT BACKUP_ADMIN ON *.* TO ${source.user} (${text.trim().slice(0, 300)})`, { cause: err });
          throw backupToolFailure({ tool: 'CLONE LOCAL DATA DIRECTORY', source: source.name, output: text, otherwise: `CLONE LOCAL DATA DIRECTORY '${serverDir}' on source ${source.name} failed: ${text.trim().slice(0, 600)}`, cause: err });
        });
      });
      const st = await stat(path.join(workerDir, 'mysql.ibd')).catch(() => undefined);
      if (!st)
        throw new DrillError(DrillErrorTypes.BadConfig, `the clone written to ${serverDir} on source ${source.name} is not visible at ${workerDir} on the worker: physical.cloneDir.server and .worker must be the same folder`);
      // Finishes the clone in a throwaway server and reads its exact binlog position (cloneFinalizeScript).
      const finalized = await withHeartbeat(
        () => ({ phase: 'backup', method: 'clone', step: 'finalize' }),
        (signal) =>
          deps.runtime.run(
            {
              name: toolContainerName(req.drillId, attemptName('clone-finalize', req.attempt)),
              image: req.facts.image,
              cmd: ['bash', '-c', cloneFinalizeScript({ datadir: CLONE_IN_TOOL, gtid: req.facts.gtidMode.toUpperCase() === 'ON' })],
              labels: sandboxLabels({ role: 'tool', run: req.drillId, source: source.name, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
              binds: [`${workerDir}:${CLONE_IN_TOOL}`],
              networkMode: 'none',
              env: ['TZ=UTC'],
              ...toolContainerLimits({ configured: source.tools, hostMemoryBytes: os.totalmem() }),
            },
            { signal },
          ),
      );
      if (finalized.exitCode !== 0)
        throw new DrillError(DrillErrorTypes.ToolFailed, `the clone of source ${source.name} did not start for its first recovery (exit ${finalized.exitCode}): ${finalized.stderr.trim().slice(-800)}`);
      const point: RecoveryPoint = parseCloneStatusRow(finalized.stdout);
      const written = await writeCompressedArtifact(file, { gzipLevel: 1 }, async (sink, stop) => {
        const tar = spawnTool('tar', ['-C', workerDir, '-cf', '-', '.']);
        stop.addEventListener('abort', () => tar.stdout.destroy(), { once: true });
        await withHeartbeat(() => ({ phase: 'backup', method: 'clone', step: 'pack' }), () => pipeline(tar.stdout, sink).catch(() => undefined));
        const { code, stderr } = await tar.done;
        if (code !== 0) throw new DrillError(DrillErrorTypes.ToolFailed, `packing the clone ${workerDir} failed (tar exit ${code}): ${stderr.trim().slice(-600)}`);
      });
      return { ...written, point, tool: { name: 'clone', version: req.facts.identity.version } };
    } finally {
      await rm(workerDir, { recursive: true, force: true });
    }
  }

  return {
    /**
     * A physical backup, chosen by flavor (mariabackup / clone plugin), published like a dump
     * (artifacts/publish.ts). A retry adopts a published one.
     */
    async takePhysicalBackup(req: BackupRequest): Promise<PublishedBackup> {
      const { source, facts } = req;
      const flavor = facts.identity.flavor;
      const fileName = PHYSICAL_FILES[flavor];
      return publishBackup(deps, { drillId: req.drillId, source: source.name, fileName, what: 'the physical backup', attempt: req.attempt }, async ({ backupId, file }) => {
        const createdAt = new Date().toISOString();
        if (req.incremental && flavor !== 'mariadb')
          throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} is MySQL: its physical backups (the clone plugin) are always full; remove backup.kind: incremental`);
        const taken = flavor === 'mariadb' ? await mariabackupFullOrIncrement(req, backupId, file) : await cloneToArtifact(req, backupId, file);
        const manifest: BackupManifest = {
          format: 1,
          kind: 'physical',
          archive: PHYSICAL_ARCHIVES[flavor],
          backupId,
          source: source.name,
          createdAt,
          finishedAt: new Date().toISOString(),
          file: fileName,
          bytes: taken.bytes,
          sha256: taken.sha256,
          uncompressedBytes: taken.rawBytes,
          databases: facts.databases,
          coordinates: taken.point.coordinates,
          ...(taken.point.gtidSet ? { gtidSet: taken.point.gtidSet } : {}),
          server: { flavor, version: facts.identity.version },
          tool: taken.tool,
          ...('lsn' in taken ? { lsn: taken.lsn } : {}),
          ...('chain' in taken && taken.chain ? { chain: { baseId: taken.chain[0]!.backupId, members: taken.chain } } : {}),
        };
        return manifest;
      });
    },
  };
}
