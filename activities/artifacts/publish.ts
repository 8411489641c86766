/**
 * Publishing a backup: its artifact is written gzip-compressed and hashed under `.partial-<id>`,
 * then published with its manifest last (one rename in a local store), so a crash leaves only a
 * `.partial` folder or prefix and a reader never sees half a backup. A retry adopts the published one.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { attemptName } from '../../domain/naming';
import type { ActivityDeps } from '../deps';
import type { PublishedBackup } from '../types';
import { artifactStoreOf } from '../../adapters/artifact-store';
import { drillWorkDir, safeSegment } from '../../adapters/local-layout';
import { StoreKeys } from '../../domain/artifacts/store-layout';
import { keepAsStaged } from './staging';

export interface WrittenArtifact {
  /** Compressed bytes, as published, and their sha256. */
  bytes: number;
  sha256: string;
  /** Bytes before compression. */
  rawBytes: number;
}

/**
 * gzip + sha256 + file, in one pipeline with backpressure: a slow disk pauses the producer
 * instead of filling the worker's memory. A write failure (a full disk) aborts `stop`, which
 * the producer passes to its tool, and is thrown once the producer returns: it never becomes
 * an unhandled rejection that kills the worker. `tap` sees every raw chunk.
 */
export async function writeCompressedArtifact(
  file: string,
  opts: { gzipLevel: number; tap?: (chunk: Buffer) => void },
  produce: (sink: Writable, stop: AbortSignal) => Promise<void>,
): Promise<WrittenArtifact> {
  const hash = createHash('sha256');
  let bytes = 0;
  let rawBytes = 0;
  const counting = new Transform({ transform: (c: Buffer, _e, done) => { rawBytes += c.length; opts.tap?.(c); done(null, c); } });
  const hashing = new Transform({ transform: (c: Buffer, _e, done) => { hash.update(c); bytes += c.length; done(null, c); } });
  const stop = new AbortController();
  let writeError: Error | undefined;
  const written = pipeline(counting, createGzip({ level: opts.gzipLevel }), hashing, createWriteStream(file, { mode: 0o640 })).catch((err: Error) => {
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

/**
 * Publishes the drill's backup of `source`: `write` fills the partial folder (its artifact at
 * `file`) and returns the manifest. `what` names the backup in a disk-full error. Each
 * `attempt` (a backup taken again after an interruption) writes its own partial folder; a
 * failed attempt's is removed, so only a complete backup is ever published. The store
 * publishes the folder with its manifest last (adapters/artifact-store/): one rename in a
 * local folder; on S3 the objects under the partial prefix, then the manifest.
 */
export async function publishBackup(
  deps: ActivityDeps,
  req: { drillId: string; source: string; fileName: string; what: string; attempt?: number },
  write: (partial: { backupId: string; file: string }) => Promise<BackupManifest>,
): Promise<PublishedBackup> {
  const store = await artifactStoreOf(deps.paths);
  const backupId = safeSegment(req.drillId);
  const prefix = StoreKeys.backup(req.source, backupId);
  const manifestKey = StoreKeys.manifest(req.source, backupId);
  const published = (manifest: BackupManifest): PublishedBackup => ({
    manifestPath: store.ref(manifestKey),
    backupDir: store.ref(prefix).replace(/\/$/, ''),
    dumpPath: store.ref(`${prefix}${req.fileName}`),
    manifest,
  });
  const existing = await store.read(manifestKey);
  if (existing !== undefined) return published(parseManifest(existing.toString('utf8'), store.ref(manifestKey)));

  const tempPrefix = `${StoreKeys.backups(req.source)}${attemptName(`.partial-${backupId}`, req.attempt)}/`;
  const partialDir = store.stagingDir(tempPrefix, drillWorkDir(deps.paths, req.drillId));
  await rm(partialDir, { recursive: true, force: true });
  await mkdir(partialDir, { recursive: true, mode: 0o750 });
  try {
    const manifest = await write({ backupId, file: path.join(partialDir, req.fileName) });
    await writeFile(path.join(partialDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o640 });
    await store.publishFolder(partialDir, { prefix, tempPrefix, last: MANIFEST_FILE });
    if (store.kind !== 'local') await keepAsStaged(deps, req.drillId, partialDir, manifest);
    return published(manifest);
  } catch (err) {
    await rm(partialDir, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
      throw new DrillError(DrillErrorTypes.DiskFull, `the disk holding ${partialDir} is full: ${req.what} of source ${req.source} was not published; free space there or move RESTORE_DRILL_HOME`, { cause: err });
    throw err;
  }
}
