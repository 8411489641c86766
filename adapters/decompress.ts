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

export interface ToolSummariser {
  /** The tool's stdin, for a stream; undefined when it reads a file itself. */
  input: Writable | undefined;
  /** The first `headBytes` plain bytes (all of a shorter stream), as soon as the tool has them out. */
  head: Promise<Buffer>;
  summary: Promise<PlainSummary>;
  /** Ends the tool early (a reader that needs no more); the summary then rejects. */
  stop(): void;
}

/**
 * Decompresses in the host tool and keeps only the plain byte count, the first `headBytes` and
 * the last `tailBytes`, all computed outside Node (`head -c`, then `tail -c` on the rest; the
 * count from `zstd -v`, or `dd` for xz and bzip2): the plain bytes never cross into Node, whose
 * reading of the tool's pipe, not the tool, was the limit (verify of a zstd dump took 1.8x
 * `zstd -t`). The head comes from the same pass, so no second decompressor starts for it.
 */
export function summariseWithTool(compression: 'zstd' | 'xz' | 'bzip2', opts: { tailBytes: number; headBytes?: number; file?: string }): ToolSummariser {
  const { tailBytes, headBytes = 0, file } = opts;
  const [cmd, ...args] = TOOLS[compression];
  // zstd -v ends with "/*stdin*\ : N bytes"; xz and bzip2 say nothing exact, so dd counts ("N bytes (…) copied").
  const verbose = compression === 'zstd';
  // The tool's pid goes first to stderr (the subshell execs it), so stop() can end the pass at its source.
  // A local file is named to the tool, which reads it itself: its raw bytes need not cross Node's pipe either.
  // GNU head -c reads exactly its count from a pipe, so tail -c sees every byte after the head.
  const sink = headBytes > 0 ? '{ head -c "$HEAD_BYTES"; tail -c "$TAIL_BYTES"; }' : 'tail -c "$TAIL_BYTES"';
  const script = `set -o pipefail; { echo "rd-tool-pid $BASHPID" >&2; exec "$@" ${file ? '-- "$RD_FILE"' : ''}; } | ${verbose ? '' : 'dd bs=1M | '}${sink}`;
  const child = spawn('bash', ['-c', script, 'summarise', cmd!, ...(verbose ? [...args.filter((a) => a !== '-dcq'), '-dcv'] : args)], {
    stdio: [file ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, TAIL_BYTES: String(tailBytes), HEAD_BYTES: String(headBytes), ...(file ? { RD_FILE: file } : {}) },
  });
  let toolPid: number | undefined;
  let stopped = false;
  const killTool = () => {
    if (toolPid === undefined) return;
    try {
      process.kill(toolPid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const out: Buffer[] = [];
  let outBytes = 0;
  let err = '';
  let headDone: (b: Buffer) => void = () => undefined;
  const head = new Promise<Buffer>((resolve) => (headDone = resolve));
  child.stdout!.on('data', (c: Buffer) => {
    out.push(c);
    outBytes += c.length;
    if (headBytes > 0 && outBytes >= headBytes) headDone(Buffer.concat(out).subarray(0, headBytes));
  });
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString('utf8')).slice(-4000);
    if (toolPid === undefined) {
      const pid = /rd-tool-pid (\d+)\n/.exec(err)?.[1];
      if (pid !== undefined) toolPid = Number(pid);
      if (stopped) killTool();
    }
  });
  const closed = (stream: Readable) => new Promise<void>((resolve) => stream.on('close', () => resolve()));
  const streamsClosed = Promise.all([closed(child.stdout!), closed(child.stderr!)]);
  const summary = new Promise<PlainSummary>((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`bash could not run (${e.message})`)));
    child.on('close', (code, sig) => {
      void streamsClosed.then(() => {
        const all = Buffer.concat(out);
        headDone(all.subarray(0, headBytes));
        const said = err.replace(/^rd-tool-pid \d+\n/m, '');
        if (stopped) return reject(new Error(`${compression} read stopped`));
        if (code !== 0) return reject(new Error(`${compression} stream is broken: ${cmd} ${sig ? `was killed by ${sig}` : `exited ${code}`}${said.trim() ? `: ${said.trim().slice(-2000)}` : ''}`));
        const count = (verbose ? /:\s*(\d+) bytes\s*$/m : /^(\d+) bytes .*copied/m).exec(said)?.[1];
        if (count === undefined) return reject(new Error(`${compression} stream: the plain byte count was not in what ${verbose ? cmd : 'dd'} printed (${JSON.stringify(said.slice(-200))})`));
        // What came out is the head, then tail's last bytes of the rest: the stream's tail is the end of both together.
        resolve({ plainBytes: Number(count), tail: all.subarray(Math.max(0, all.length - tailBytes)) });
      });
    });
  });
  // A rejected summary is awaited by the caller; this only keeps an early reject from being "unhandled".
  summary.catch(() => undefined);
  const input = child.stdin ?? undefined;
  // The tool exits on a broken stream before reading it all: later writes fail with EPIPE, which the summary names.
  input?.on('error', () => undefined);
  return {
    input,
    head,
    summary,
    stop() {
      if (stopped) return;
      stopped = true;
      killTool();
      input?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
