/** Re-reads a published logical dump against its manifest. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { DUMP_STREAM_CHUNK_BYTES, checkDumpTrailer, keepDumpTail } from '../../domain/dump/format';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { workProgress } from '../../domain/progress/work';
import { withHeartbeat } from '../boundary';
import type { VerifyDepth } from '../types';

/**
 * 'full': sha256, a complete gzip stream (its CRC) and the dump trailer. 'bytes': sha256 only;
 * the parallel restore checks the gzip stream and the trailer as it reads.
 */
export async function verifyLogicalDump(dumpPath: string, manifest: BackupManifest, depth: VerifyDepth): Promise<void> {
  const hash = createHash('sha256');
  let tail: Buffer = Buffer.alloc(0);
  let read = 0;
  const started = Date.now();
  const source = () => createReadStream(dumpPath, { highWaterMark: DUMP_STREAM_CHUNK_BYTES }).on('data', (c) => { hash.update(c as Buffer); read += (c as Buffer).length; });
  await withHeartbeat(
    () => ({ phase: 'verify', depth, read, of: manifest.bytes, work: workProgress(started, read, { bytesTotal: manifest.bytes }) }),
    async () => {
      if (depth === 'bytes') {
        await pipeline(source(), new Writable({ write: (_c, _e, done) => done() }));
        return;
      }
      try {
        await pipeline(
          source(),
          createGunzip({ chunkSize: DUMP_STREAM_CHUNK_BYTES }),
          new Writable({
            write(chunk: Buffer, _e, done) {
              tail = keepDumpTail(tail, chunk);
              done();
            },
          }),
        );
      } catch (err) {
        throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} is not a complete gzip stream (${(err as Error).message}): it was truncated or corrupted after publication`, { cause: err });
      }
    },
  );
  const sha256 = hash.digest('hex');
  if (sha256 !== manifest.sha256)
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `backup file ${dumpPath} has sha256 ${sha256} but its manifest says ${manifest.sha256}: its bytes changed after publication`, { details: { actual: sha256, expected: manifest.sha256 } });
  if (depth === 'full') checkDumpTrailer(tail.toString('utf8'));
}
