/**
 * A team's own mariabackup backup, restored from where it is (a folder or a bucket): its bytes
 * are read once, decompressed here and fed through a FIFO in the drill's work folder into
 * mbstream or tar in the tool container, which extracts into the drill's datadir and prepares
 * that copy. Nothing of the team's is written to or copied whole to disk before extraction.
 */
import type { ContainerLimits } from '../../config/schema';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { directorySha256, eachLimited } from '../../adapters/directory-files';
import { storedBackupObject } from '../../adapters/backup-reader';
import { pathInDirectory } from '../../domain/backups/directory';
import type { ExecResult } from '../../adapters/container-runtime';
import { decompressor } from '../../adapters/decompress';
import { drillWorkDir } from '../../adapters/local-layout';
import { openObjectStore } from '../../adapters/object-store';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import type { BackupObject } from '../../adapters/backup-reader';
import type { BackupManifest, BackupOrigin } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes, isDrillError } from '../../domain/errors';
import { teamPhysicalRestoreScript } from '../../domain/physical/team-backup';
import type { ActivityDeps } from '../deps';
import { feedChild, spawnTool } from './child-process';
import { RESTORE_IN_TOOL, runRestoreTool } from './restore-tool';

const STREAM_IN_TOOL = '/in';
const FIFO = 'stream';

export interface TeamRestoreRequest {
  drillId: string;
  source: string;
  image: string;
  manifest: BackupManifest & { origin: BackupOrigin };
  prepareMemoryMb?: number;
  tools?: ContainerLimits;
}

/** Extracts (or copies) and prepares a team's physical backup into `datadir`. */
export async function restoreTeamPhysical(deps: ActivityDeps, req: TeamRestoreRequest, datadir: string, signal: AbortSignal | undefined): Promise<void> {
  const { manifest } = req;
  const { origin } = manifest;
  if (manifest.archive === 'directory') return copyAndPrepare(deps, req, datadir, signal);
  if (manifest.archive !== 'mbstream' && manifest.archive !== 'tar')
    throw new DrillError(DrillErrorTypes.UnsupportedBackupFormat, `${origin.where} is a ${manifest.archive ?? 'physical'} backup, which this worker does not restore yet`);
  const inDir = path.join(drillWorkDir(deps.paths, req.drillId), 'team-stream');
  await rm(inDir, { recursive: true, force: true });
  await mkdir(inDir, { recursive: true, mode: 0o750 });
  const fifo = path.join(inDir, FIFO);
  const made = await spawnTool('mkfifo', ['-m', '0640', fifo]).done;
  if (made.code !== 0) throw new DrillError(DrillErrorTypes.ToolFailed, `mkfifo ${fifo} failed: ${made.stderr.trim()}`);
  const store = await openObjectStore(parseBackupLocation(origin.location, origin.s3 ?? {}));
  try {
    const script = teamPhysicalRestoreScript({
      archive: manifest.archive,
      input: path.posix.join(STREAM_IN_TOOL, FIFO),
      target: RESTORE_IN_TOOL,
      root: manifest.archiveRoot ?? '',
      prepared: manifest.prepared ?? false,
      useMemoryMb: req.prepareMemoryMb ?? 1024,
    });
    const tool = runRestoreTool(deps, req, { script, binds: [`${inDir}:${STREAM_IN_TOOL}:ro`, `${datadir}:${RESTORE_IN_TOOL}`], signal });
    // Settled below; until then a failure must not go unhandled.
    tool.catch(() => undefined);
    const fed = await feedFifo(storedBackupObject(store, origin.key), manifest, fifo, tool);
    const result = await tool;
    if (result.exitCode !== 0) {
      if (fed.error) throw fed.error;
      throw new DrillError(DrillErrorTypes.ToolFailed, `extracting and preparing ${origin.where} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, { details: { exitCode: result.exitCode } });
    }
    if (fed.error) throw fed.error;
    if (fed.sha256 !== manifest.sha256)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${origin.where} has sha256 ${fed.sha256} but had ${manifest.sha256} when its door checks passed: the team's job rewrote it meanwhile; drill it again`, { details: { where: origin.where } });
  } finally {
    store.close();
    await rm(inDir, { recursive: true, force: true });
  }
}

/**
 * A backup directory is copied file by file into the drill's datadir (prepare writes there; the
 * team's copy is only read), each file hashed as it passes, then prepared in the tool container.
 */
async function copyAndPrepare(deps: ActivityDeps, req: TeamRestoreRequest, datadir: string, signal: AbortSignal | undefined): Promise<void> {
  const { manifest } = req;
  const { origin } = manifest;
  const store = await openObjectStore(parseBackupLocation(origin.location, origin.s3 ?? {}));
  try {
    const root = manifest.archiveRoot ? `${manifest.archiveRoot}/` : '';
    const files = await store.listFiles(origin.key);
    const copied = await eachLimited(files, 4, async (f) => {
      const rel = pathInDirectory(origin.key, f.key);
      const target = rel.startsWith(root) ? path.join(datadir, rel.slice(root.length)) : undefined;
      const hash = createHash('sha256');
      const tap = new Transform({
        transform: (c: Buffer, _e, done) => {
          hash.update(c);
          done(null, c);
        },
      });
      if (target) await mkdir(path.dirname(target), { recursive: true });
      await pipeline(await store.openRead(f.key), tap, target ? createWriteStream(target, { mode: 0o640 }) : new Writable({ write: (_c, _e, done) => done() }));
      return { path: rel, sha256: hash.digest('hex') };
    });
    if (directorySha256(copied) !== manifest.sha256)
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${origin.where} is no longer the directory whose door checks passed (its files' sha256 changed): the team's job rewrote it meanwhile; drill it again`, { details: { where: origin.where } });
  } finally {
    store.close();
  }
  const script = teamPhysicalRestoreScript({ archive: 'directory', input: '', target: RESTORE_IN_TOOL, root: '', prepared: manifest.prepared ?? false, useMemoryMb: req.prepareMemoryMb ?? 1024 });
  const result = await runRestoreTool(deps, req, { script, binds: [`${datadir}:${RESTORE_IN_TOOL}`], signal });
  if (result.exitCode !== 0)
    throw new DrillError(DrillErrorTypes.ToolFailed, `preparing the copy of ${origin.where} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-1200)}`, { details: { exitCode: result.exitCode } });
}

/**
 * Streams the object, decompressed, into the FIFO while the tool reads it; hashes the raw bytes
 * as they pass. Once the tool has gone (done, or failed), the rest is read and discarded so
 * the hash still covers the whole object. A broken stream is returned, not thrown: the tool's
 * exit is awaited first, so no container outlives the call.
 */
async function feedFifo(object: BackupObject, manifest: BackupManifest & { origin: BackupOrigin }, fifo: string, tool: Promise<ExecResult>): Promise<{ sha256: string; error?: DrillError }> {
  const hash = createHash('sha256');
  const handle = await openForWriting(fifo, tool);
  const raw = await object.open();
  raw.on('data', (c: Buffer) => void hash.update(c));
  // A tool that failed has no use for the rest: stop reading (its own error is what the caller reports).
  let toolFailed = false;
  const stop = (): void => {
    toolFailed = true;
    raw.destroy();
  };
  void tool.then((r) => r.exitCode !== 0 && stop(), stop);
  const out = handle?.createWriteStream({ highWaterMark: 1024 * 1024 });
  // Swallowed: an EPIPE once the tool has exited is expected (tar stops at its end-of-archive blocks).
  out?.on('error', () => undefined);
  const sink = feedChild(out ?? closedSink(), out ? tool : Promise.resolve());
  try {
    await pipeline(raw, decompressor(manifest.compression ?? 'gzip'), sink);
    return { sha256: hash.digest('hex') };
  } catch (err) {
    out?.destroy();
    if (toolFailed) return { sha256: '' };
    const error = isDrillError(err)
      ? err
      : new DrillError(DrillErrorTypes.ArtifactCorrupt, `${manifest.origin.where} is no longer a complete ${manifest.compression ?? 'gzip'} stream (${(err as Error).message.slice(0, 300)}): it changed since its door checks passed; drill it again`, { cause: err });
    return { sha256: '', error };
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Opens the FIFO for writing, which blocks until the tool opens it for reading. A tool that exits
 * before (a bad image, a failed start) would leave the open waiting forever: a reader of our own
 * then releases it, and no FIFO writer is returned.
 */
async function openForWriting(fifo: string, tool: Promise<ExecResult>): Promise<FileHandle | undefined> {
  const opening = open(fifo, constants.O_WRONLY);
  let toolGone = false;
  const gone = tool.then(
    () => void (toolGone = true),
    () => void (toolGone = true),
  );
  const first = await Promise.race([opening.then(() => 'opened' as const), gone.then(() => 'gone' as const)]);
  if (first === 'opened' && !toolGone) return opening;
  const release = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK).catch(() => undefined);
  const handle = await opening.catch(() => undefined);
  await handle?.close().catch(() => undefined);
  await release?.close().catch(() => undefined);
  return undefined;
}

/** Where the bytes go when the tool never opened the FIFO: nowhere (they are still read and hashed). */
function closedSink(): Writable {
  return new Writable({ write: (_c, _e, done) => done() });
}
