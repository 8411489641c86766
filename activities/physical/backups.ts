/**
 * Physical backups: a copy of the source's datadir instead of a dump. MariaDB: mariabackup
 * streams the datadir (mounted read-only in a tool container) as mbstream. MySQL: the clone
 * plugin writes a consistent copy into a folder the source server can write, which the worker
 * packs as tar. Both are gzip-compressed and hashed while they stream and published by one
 * rename with their manifest, like a dump. A restore never touches the published artifact:
 * it is extracted into the drill's work folder and mounted as the sandbox's datadir.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { withSession } from '../../adapters/mysql';
import type { SourceSpec } from '../../config/schema';
import { DrillError, DrillErrorTypes, isDrillError } from '../../domain/errors';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { sandboxLabels, sandboxName, toolContainerName } from '../../domain/naming';
import {
  PHYSICAL_ARCHIVES,
  PHYSICAL_FILES,
  XbstreamWalker,
  cloneFinalizeScript,
  mariabackupArgs,
  mariabackupRestoreScript,
  parseCloneStatusRow,
  parseMariabackupBinlogPosition,
  physicalPrivileges,
} from '../../domain/physical/backups';
import type { RecoveryPoint } from '../../domain/types';
import type { PublishedBackup, SourceFacts } from '../dump/backup';
import { endpointOf, sourceCredentials } from '../dump/backup';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { drillWorkDir, safeSegment, sourceArtifactDir } from '../deps';
import { assertOwnSandbox } from '../sandbox/sandbox';
import { runSourceTool } from '../source/tools';

const CLONE_IN_TOOL = '/clone';
const BACKUP_IN_TOOL = '/backup';
const RESTORE_IN_TOOL = '/restore';

/** Where a physical restore puts the datadir the sandbox mounts. */
export function restoredDatadir(deps: ActivityDeps, drillId: string): string {
  return path.join(drillWorkDir(deps.paths, drillId), 'datadir');
}

/** A child process's stdout, and its exit (code and stderr tail) once it ends. */
function spawnTool(cmd: string, args: string[], stdin?: 'pipe'): { stdout: Readable; stdin: Writable | null; done: Promise<{ code: number; stderr: string }>; kill(): void } {
  const child = spawn(cmd, args, { stdio: [stdin ?? 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const done = new Promise<{ code: number; stderr: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, stderr: `${cmd}: ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
  return { stdout: child.stdout!, stdin: child.stdin, done, kill: () => void (child.exitCode === null && child.kill('SIGKILL')) };
}

/** gzip + sha256 + file, with backpressure; the producer is stopped when writing fails. */
async function writeArtifact(file: string, produce: (sink: Writable, stop: AbortSignal) => Promise<void>): Promise<{ bytes: number; rawBytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let rawBytes = 0;
  const counting = new Transform({ transform: (c: Buffer, _e, done) => { rawBytes += c.length; done(null, c); } });
  const hashing = new Transform({ transform: (c: Buffer, _e, done) => { hash.update(c); bytes += c.length; done(null, c); } });
  const stop = new AbortController();
  let writeError: Error | undefined;
  const written = pipeline(counting, createGzip({ level: 1 }), hashing, createWriteStream(file, { mode: 0o640 })).catch((err: Error) => {
    writeError = err;
    stop.abort();
  });
  try {
    await produce(counting, stop.signal);
  } finally {
    if (!counting.destroyed && !counting.writableEnded) counting.end();
    await written;
  }
  if (writeError) throw writeError;
  return { bytes, rawBytes, sha256: hash.digest('hex') };
}

export function physicalActivities(deps: ActivityDeps) {
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

  async function mariabackupToArtifact(req: { drillId: string; source: SourceSpec; facts: SourceFacts }, file: string) {
    const creds = await sourceCredentials(req.source);
    const [{ datadir }] = await withSession(endpointOf(req.source), creds, (s) => s.query<{ datadir: string }>('SELECT @@datadir AS datadir'));
    const hostDir = await hostDatadir(req.source, datadir);
    let stderr = '';
    let exitCode = 0;
    let rawSoFar = 0;
    const written = await writeArtifact(file, async (sink, stop) => {
      const tap = new Transform({ transform: (c: Buffer, _e, done) => { rawSoFar += c.length; done(null, c); } });
      tap.pipe(sink);
      // Mounted read-only at the server's own datadir path: mariabackup takes the path from the server.
      const result = await withHeartbeat(
        () => ({ phase: 'backup', method: 'mariabackup', rawBytes: rawSoFar }),
        (signal) =>
          runSourceTool(deps, { drillId: req.drillId, step: 'mariabackup', source: req.source, image: req.facts.image, tool: 'mariabackup', args: mariabackupArgs(), binds: [`${hostDir}:${datadir.replace(/\/+$/, '')}:ro`] }, {
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
      throw new DrillError(DrillErrorTypes.ToolFailed, `mariabackup of source ${req.source.name} exited with ${exitCode} (its user needs ${physicalPrivileges('mariadb')}; the datadir ${hostDir} must be readable): ${stderr.trim().slice(-800)}`, { details: { exitCode } });
    const version = /mariabackup based on MariaDB server (\S+)/.exec(stderr)?.[1];
    return { ...written, point: parseMariabackupBinlogPosition(stderr), tool: { name: 'mariabackup', ...(version ? { version } : {}) } };
  }

  async function cloneToArtifact(req: { drillId: string; source: SourceSpec; facts: SourceFacts }, backupId: string, file: string) {
    const { source } = req;
    const cloneDir = source.physical?.cloneDir;
    if (!cloneDir)
      throw new DrillError(DrillErrorTypes.BadConfig, `a physical backup of MySQL source ${source.name} clones into a folder: set physical.cloneDir.server (a folder the server can write) and physical.cloneDir.worker (the same folder as the worker sees it)`);
    const serverDir = path.posix.join(cloneDir.server, `rd-clone-${backupId}`);
    const workerDir = path.join(cloneDir.worker, `rd-clone-${backupId}`);
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
          throw new DrillError(DrillErrorTypes.ToolFailed, `CLONE LOCAL DATA DIRECTORY '${serverDir}' on source ${source.name} failed: ${text.trim().slice(0, 600)}`, { cause: err });
        });
      });
      const st = await stat(path.join(workerDir, 'mysql.ibd')).catch(() => undefined);
      if (!st)
        throw new DrillError(DrillErrorTypes.BadConfig, `the clone written to ${serverDir} on source ${source.name} is not visible at ${workerDir} on the worker: physical.cloneDir.server and .worker must be the same folder`);
      // Finishes the clone in a throwaway server and reads its exact binlog position (domain/physical.ts).
      const finalized = await withHeartbeat(
        () => ({ phase: 'backup', method: 'clone', step: 'finalize' }),
        (signal) =>
          deps.runtime.run(
            {
              name: toolContainerName(req.drillId, 'clone-finalize'),
              image: req.facts.image,
              cmd: ['bash', '-c', cloneFinalizeScript({ datadir: CLONE_IN_TOOL, gtid: req.facts.gtidMode.toUpperCase() === 'ON' })],
              labels: sandboxLabels({ role: 'tool', run: req.drillId, source: source.name, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
              binds: [`${workerDir}:${CLONE_IN_TOOL}`],
              networkMode: 'none',
              env: ['TZ=UTC'],
            },
            { signal },
          ),
      );
      if (finalized.exitCode !== 0)
        throw new DrillError(DrillErrorTypes.ToolFailed, `the clone of source ${source.name} did not start for its first recovery (exit ${finalized.exitCode}): ${finalized.stderr.trim().slice(-800)}`);
      const point: RecoveryPoint = parseCloneStatusRow(finalized.stdout);
      const written = await writeArtifact(file, async (sink, stop) => {
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
     * A physical backup, chosen by flavor (mariabackup / clone plugin), published like a dump:
     * under `.partial-…`, then one rename with its manifest. A retry adopts a published one.
     */
    async takePhysicalBackup(req: { drillId: string; source: SourceSpec; facts: SourceFacts }): Promise<PublishedBackup> {
      const { source, facts } = req;
      const flavor = facts.identity.flavor;
      const backupId = safeSegment(req.drillId);
      const backupsDir = path.join(sourceArtifactDir(deps.paths, source.name), 'backups');
      const finalDir = path.join(backupsDir, backupId);
      const manifestPath = path.join(finalDir, MANIFEST_FILE);
      const fileName = PHYSICAL_FILES[flavor];
      const existing = await readFile(manifestPath, 'utf8').catch(() => undefined);
      if (existing !== undefined) return { manifestPath, backupDir: finalDir, dumpPath: path.join(finalDir, fileName), manifest: parseManifest(existing, manifestPath) };

      const partialDir = path.join(backupsDir, `.partial-${backupId}`);
      await rm(partialDir, { recursive: true, force: true });
      await mkdir(partialDir, { recursive: true, mode: 0o750 });
      const createdAt = new Date().toISOString();
      try {
        const file = path.join(partialDir, fileName);
        const taken = flavor === 'mariadb' ? await mariabackupToArtifact(req, file) : await cloneToArtifact(req, backupId, file);
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
        };
        await writeFile(path.join(partialDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o640 });
        await rename(partialDir, finalDir);
        return { manifestPath, backupDir: finalDir, dumpPath: path.join(finalDir, fileName), manifest };
      } catch (err) {
        await rm(partialDir, { recursive: true, force: true });
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
          throw new DrillError(DrillErrorTypes.DiskFull, `the disk holding ${backupsDir} is full: the physical backup of source ${source.name} was not published; free space there or move RESTORE_DRILL_HOME`, { cause: err });
        throw err;
      }
    },

    /**
     * Extracts a verified physical artifact into the drill's work folder (the published file
     * stays as it is) and, for mariabackup, prepares it; the sandbox then mounts the folder as
     * its datadir. Removes the drill's own sandbox first: a retry starts from the artifact.
     */
    async restorePhysicalBackup(req: { drillId: string; source: string; image: string; artifactPath: string; manifest: BackupManifest; prepareMemoryMb?: number }): Promise<{ datadir: string; seconds: number }> {
      const started = Date.now();
      const name = sandboxName(req.drillId);
      const info = await deps.runtime.inspect(name);
      if (info) {
        assertOwnSandbox({ ...info, networkMode: 'none' }, name, req.drillId);
        await deps.runtime.remove(name);
      }
      const datadir = restoredDatadir(deps, req.drillId);
      await rm(datadir, { recursive: true, force: true });
      await mkdir(datadir, { recursive: true, mode: 0o750 });
      if (req.manifest.archive === 'mbstream') {
        const result = await withHeartbeat(
          () => ({ phase: 'restore', method: 'mariabackup', seconds: Math.round((Date.now() - started) / 1000) }),
          (signal) =>
            deps.runtime.run(
              {
                name: toolContainerName(req.drillId, 'prepare'),
                image: req.image,
                cmd: ['bash', '-c', mariabackupRestoreScript({ artifact: path.posix.join(BACKUP_IN_TOOL, path.basename(req.artifactPath)), target: RESTORE_IN_TOOL, useMemoryMb: req.prepareMemoryMb ?? 1024 })],
                labels: sandboxLabels({ role: 'tool', run: req.drillId, source: req.source, expires: new Date(Date.now() + 6 * 3600_000).toISOString() }),
                binds: [`${path.dirname(req.artifactPath)}:${BACKUP_IN_TOOL}:ro`, `${datadir}:${RESTORE_IN_TOOL}`],
                networkMode: 'none',
                env: ['TZ=UTC'],
              },
              { signal },
            ),
        );
        if (result.exitCode !== 0)
          throw new DrillError(DrillErrorTypes.ToolFailed, `extracting and preparing ${req.artifactPath} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, { details: { exitCode: result.exitCode } });
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
 * A Writable that feeds a child process's stdin with back-pressure and, once the child is gone
 * (`gone` settles, or its stdin closes or fails), discards the rest instead of waiting for a
 * reader that will never come: tar may exit on a truncated archive while a write waits. One
 * listener of each kind for the whole stream: a listener per wait would pile up, one for
 * every time the pipe fills.
 */
export function feedChild(stdin: Writable, gone: Promise<unknown>): Writable {
  let childGone = false;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const leave = () => {
    childGone = true;
    wake();
  };
  stdin.on('drain', wake);
  stdin.on('close', leave);
  stdin.on('error', leave);
  void gone.then(leave, leave);
  return new Writable({
    write: (c: Buffer, _e, done) => {
      if (childGone || stdin.destroyed || stdin.write(c)) return done();
      waiting = done;
    },
    final: (done) => {
      if (!childGone && !stdin.destroyed) stdin.end();
      done();
    },
  });
}

/**
 * Re-reads a published physical artifact: sha256, a complete gzip stream, and a complete
 * archive inside it (every mbstream chunk and file, or tar listed to its end).
 */
export async function verifyPhysicalArtifact(file: string, manifest: BackupManifest): Promise<void> {
  const hash = createHash('sha256');
  let read = 0;
  let archiveError: unknown;
  const source = createReadStream(file).on('data', (c) => { hash.update(c as Buffer); read += (c as Buffer).length; });
  try {
    await withHeartbeat(
      () => ({ phase: 'verify', read, of: manifest.bytes }),
      async () => {
        if (manifest.archive === 'mbstream') {
          const walker = new XbstreamWalker(file);
          await pipeline(source, createGunzip(), new Writable({ write: (c: Buffer, _e, done) => { try { walker.push(c); done(); } catch (err) { done(err as Error); } } }));
          walker.end();
        } else {
          // -i: read to the end of the stream; plain `tar -t` stops at the end-of-archive blocks and
          // closes its stdin before the record padding is fed ("Premature close" on the gunzip pipe).
          const tar = spawnTool('tar', ['-itf', '-'], 'pipe');
          tar.stdout.resume();
          const stdin = tar.stdin!;
          // tar stops reading at its end-of-archive blocks; the rest of the gzip stream is still
          // read to its end (so its CRC is checked), and discarded.
          const toTar = feedChild(stdin, tar.done);
          let exit: { code: number; stderr: string };
          try {
            [, exit] = await Promise.all([pipeline(source, createGunzip(), toTar), tar.done]);
          } finally {
            // A broken gzip stream never ends tar's input: it must not outlive the check.
            stdin.destroy();
            tar.kill();
          }
          if (exit.code !== 0) throw new DrillError(DrillErrorTypes.DumpTruncated, `physical backup ${file} is not a complete tar archive (${exit.stderr.trim().slice(-300)}); take a new backup`);
        }
      },
    );
  } catch (err) {
    archiveError = err;
    // Read the rest, so a changed byte is named by its hash rather than by where gzip tripped.
    if (!source.destroyed) source.destroy();
    await pipeline(createReadStream(file, { start: read }), new Writable({ write: (c: Buffer, _e, done) => { hash.update(c); done(); } })).catch(() => undefined);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.sha256)
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `physical backup ${file} has sha256 ${sha256} but its manifest says ${manifest.sha256}: its bytes changed after publication`, { details: { actual: sha256, expected: manifest.sha256 } });
  if (archiveError) {
    if (isDrillError(archiveError)) throw archiveError;
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `physical backup ${file} is not a complete gzip stream (${(archiveError as Error).message}): it was truncated or corrupted after publication`, { cause: archiveError });
  }
}
