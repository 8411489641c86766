/**
 * Decompression of a backup's byte stream. gzip runs in-process (zlib); zstd, xz and bzip2 through
 * the worker host's own tools (Node 20's zlib has none of them), which deploy/up.sh installs.
 * Every stream reports a broken or cut input as an error, never as a short clean end.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';

import type { Compression } from '../domain/backups/format';

export type { Compression };

const CHUNK_BYTES = 1024 * 1024;
const TOOLS: Record<'zstd' | 'xz' | 'bzip2', string[]> = { zstd: ['zstd', '-dcq'], xz: ['xz', '-dcq'], bzip2: ['bzip2', '-dcq'] };

/** A transform from compressed to plain bytes. */
export function decompressor(compression: Compression): Duplex {
  if (compression === 'none') return new PassThrough({ highWaterMark: CHUNK_BYTES });
  if (compression === 'gzip') return createGunzip({ chunkSize: CHUNK_BYTES });
  return toolDecompressor(compression, TOOLS[compression]);
}

function toolDecompressor(name: string, [cmd, ...args]: string[]): Duplex {
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString('utf8')).slice(-2000)));
  const exited = new Promise<Error | undefined>((resolve) => {
    child.on('error', (err) => resolve(new Error(`${cmd} could not run (${err.message}): install it on the worker host (deploy/up.sh does)`)));
    child.on('close', (code, sig) => resolve(code === 0 ? undefined : new Error(`${name} stream is broken: ${cmd} ${sig ? `was killed by ${sig}` : `exited ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`)));
  });
  // The plain side ends only when the tool has exited cleanly: a cut stream is an error, not a short end.
  const plain = new PassThrough({ highWaterMark: CHUNK_BYTES });
  child.stdout.pipe(plain, { end: false });
  child.stdout.on('end', () => void exited.then((err) => (err ? plain.destroy(err) : plain.end())));
  child.stdin.on('error', (err) => plain.destroy(err));
  const stream = Duplex.from({ writable: child.stdin, readable: plain });
  // A reader that stops early (a head read) must not leave the tool waiting on its stdin.
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  stream.on('close', stop);
  plain.on('close', stop);
  return stream;
}
