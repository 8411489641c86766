/** Re-reads a published physical artifact against its manifest, archive included. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createGunzip } from 'node:zlib';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DrillError, DrillErrorTypes, isDrillError } from '../../domain/errors';
import { XbstreamWalker } from '../../domain/physical/backups';
import { datadirLayout, isBackupMetadata } from '../../domain/physical/team-backup';
import { workProgress } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import { feedChild, spawnTool } from './child-process';

/** An mbstream's small metadata files, as read while it was verified. */
export interface PhysicalMetadata {
  checkpoints?: string;
  binlogInfo?: string;
}

/**
 * Re-reads a published physical artifact: sha256, a complete gzip stream, and a complete
 * archive inside it (every mbstream chunk and file, or tar listed to its end). Returns an
 * mbstream's checkpoints and binlog info files (an incremental chain is checked on them).
 */
export async function verifyPhysicalArtifact(file: string, manifest: BackupManifest): Promise<PhysicalMetadata> {
  let metadata: PhysicalMetadata = {};
  const hash = createHash('sha256');
  let read = 0;
  const started = Date.now();
  let archiveError: unknown;
  const source = createReadStream(file).on('data', (c) => { hash.update(c as Buffer); read += (c as Buffer).length; });
  try {
    await withHeartbeat(
      () => ({ phase: 'verify', read, of: manifest.bytes, work: workProgress(started, read, { bytesTotal: manifest.bytes }) }),
      async () => {
        if (manifest.archive === 'mbstream') {
          const walker = new XbstreamWalker(file, crc32, isBackupMetadata);
          await pipeline(source, createGunzip(), new Writable({ write: (c: Buffer, _e, done) => { try { walker.push(c); done(); } catch (err) { done(err as Error); } } }));
          walker.end();
          const layout = datadirLayout(walker.members());
          metadata = { ...(layout.checkpoints !== undefined ? { checkpoints: layout.checkpoints } : {}), ...(layout.binlogInfo !== undefined ? { binlogInfo: layout.binlogInfo } : {}) };
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
  return metadata;
}
