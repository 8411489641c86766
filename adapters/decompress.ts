/**
 * Decompression of a backup's byte stream. gzip runs in-process (zlib); zstd, xz and bzip2 through
 * the worker host's own tools (Node 20's zlib has none of them), which deploy/up.sh installs.
 * Every stream reports a broken or cut input as an error, never as a short clean end.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
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

/** What a whole-stream check keeps of the plain bytes. */
export interface PlainSummary {
  plainBytes: number;
  tail: Buffer;
}

/**
 * Decompresses in the host tool and keeps only the plain byte count and the last `tailBytes`,
 * both computed outside Node (`tail -c`; the count from `zstd -v`, or `dd` for xz and bzip2):
 * the plain bytes never cross into Node, whose reading of the tool's pipe, not the tool, was
 * the limit (verify of a zstd dump took 1.8x `zstd -t`). For a whole-stream check.
 */
export function summariseWithTool(compression: 'zstd' | 'xz' | 'bzip2', tailBytes: number, file?: string): { input: Writable | undefined; summary: Promise<PlainSummary> } {
  const [cmd, ...args] = TOOLS[compression];
  // zstd -v ends with "/*stdin*\ : N bytes"; xz and bzip2 say nothing exact, so dd counts ("N bytes (…) copied").
  const verbose = compression === 'zstd';
  // A local file is named to the tool, which reads it itself: its raw bytes need not cross Node's pipe either.
  const script = `set -o pipefail; "$@" ${file ? '-- "$RD_FILE" ' : ''}| ${verbose ? '' : 'dd bs=1M | '}tail -c "$TAIL_BYTES"`;
  const child = spawn('bash', ['-c', script, 'summarise', cmd!, ...(verbose ? [...args.filter((a) => a !== '-dcq'), '-dcv'] : args)], {
    stdio: [file ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, TAIL_BYTES: String(tailBytes), ...(file ? { RD_FILE: file } : {}) },
  });
  const collect = (stream: Readable): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => resolve(Buffer.concat(chunks)));
      stream.on('close', () => resolve(Buffer.concat(chunks)));
    });
  const [tail, stderr] = [collect(child.stdout!), collect(child.stderr!)];
  const summary = new Promise<PlainSummary>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`bash could not run (${err.message})`)));
    child.on('close', (code, sig) => {
      void Promise.all([tail, stderr]).then(([t, e]) => {
        const said = e.toString('utf8');
        if (code !== 0) return reject(new Error(`${compression} stream is broken: ${cmd} ${sig ? `was killed by ${sig}` : `exited ${code}`}${said.trim() ? `: ${said.trim().slice(-2000)}` : ''}`));
        const count = (verbose ? /:\s*(\d+) bytes\s*$/m : /^(\d+) bytes .*copied/m).exec(said)?.[1];
        if (count === undefined) return reject(new Error(`${compression} stream: the plain byte count was not in what ${verbose ? cmd : 'dd'} printed (${JSON.stringify(said.slice(-200))})`));
        resolve({ plainBytes: Number(count), tail: t });
      });
    });
  });
  // A rejected summary is awaited by the caller; this only keeps an early reject from being "unhandled".
  summary.catch(() => undefined);
  const input = child.stdin ?? undefined;
  // The tool exits on a broken stream before reading it all: later writes fail with EPIPE, which the summary names.
  input?.on('error', () => undefined);
  return { input, summary };
}
