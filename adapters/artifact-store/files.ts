/** What both stores do with bytes on the worker's disk: hash them as they stream, write small files atomically. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { MiB } from '../../domain/artifacts/store-layout';
import type { MovedBytes } from './types';

/** sha256 and byte count of what streams through. */
export function hashing(): { transform: Transform; done: () => MovedBytes } {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { transform, done: () => ({ bytes, sha256: hash.digest('hex') }) };
}

export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

export async function writeAtomically(file: string, body: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  const tmp = tempName(file);
  await writeFile(tmp, body, { mode: 0o640 });
  await rename(tmp, file);
}

export async function fileBytes(file: string): Promise<MovedBytes> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export const PRUNING = '.pruning-';

export function splitPrefix(prefix: string): { parent: string; name: string } {
  const trimmed = prefix.replace(/\/$/, '');
  const at = trimmed.lastIndexOf('/');
  return { parent: trimmed.slice(0, at + 1), name: trimmed.slice(at + 1) };
}
