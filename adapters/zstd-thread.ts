/**
 * zstd decompressed in this process, in a worker thread, by the optional zstd-napi binding
 * (libzstd compiled at `npm ci`). A whole-stream check then costs what `zstd -t` costs: the plain
 * bytes land in one reused buffer and are counted and dropped there, while the main thread hashes
 * the raw bytes on the other core. Through the host's `zstd` the plain bytes cross a pipe to
 * `tail`, which on 2 cores cost 0.5 s of system time per GiB (verify took 1.27x `zstd -t`).
 * When the binding did not build (no compiler on the worker host), backup-reader.ts uses the tool.
 */
import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

import type { PlainSummary, ToolSummariser } from './decompress';

/**
 * Batches of input posted to the thread and not yet decompressed, before a write waits. A
 * socket's reads (about 50 KB each) are gathered into batches of `chunkBytes`: one message per
 * MiB, not per read, and a few MiB queued so that the thread never waits on the main one.
 */
const MAX_IN_FLIGHT = 8;

interface ThreadData {
  bindingPath: string;
  file: string | undefined;
  headBytes: number;
  tailBytes: number;
  chunkBytes: number;
}

type FromThread = { type: 'head'; head: Uint8Array } | { type: 'ack' } | { type: 'done'; plainBytes: number; tail: Uint8Array } | { type: 'fail'; message: string };
type ToThread = { chunk: Uint8Array } | { end: true };

let binding: { path: string } | { missing: string } | undefined;

/**
 * Where the zstd-napi binding loads from, or why it is not used: it did not build, or
 * RESTORE_DRILL_ZSTD=tool asks for the host's zstd (to compare, or to rule the binding out).
 */
export function zstdBinding(): { path: string } | { missing: string } {
  if (process.env.RESTORE_DRILL_ZSTD === 'tool') return { missing: 'RESTORE_DRILL_ZSTD=tool' };
  if (binding) return binding;
  try {
    const resolved = require.resolve('zstd-napi/binding');
    // Loading it here fails fast (no .node file, wrong ABI) rather than in every thread.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(resolved);
    binding = { path: resolved };
  } catch (err) {
    binding = { missing: (err as Error).message.split('\n')[0]! };
  }
  return binding;
}

/**
 * The thread's whole program. It runs from its source text (`eval`), so it works the same from
 * dist/ and under ts-jest, and it may use nothing from outside its own body but `require`.
 */
function threadMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const fs = require('node:fs') as typeof import('node:fs');
  const data = workerData as ThreadData;
  const { DCtx } = require(data.bindingPath) as { DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] } };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const port = parentPort!;
  const dctx = new DCtx();
  const out = Buffer.allocUnsafe(data.chunkBytes);
  const head = Buffer.allocUnsafe(data.headBytes);
  const tail = Buffer.allocUnsafe(data.tailBytes);
  let headLength = 0;
  let headSent = data.headBytes === 0;
  let tailLength = 0;
  let plainBytes = 0;
  // ZSTD_decompressStream returns 0 only where a frame ends and is wholly flushed.
  let inFrame = false;
  let failed = false;

  const keep = (n: number) => {
    plainBytes += n;
    if (!headSent && n > 0) {
      const take = Math.min(n, data.headBytes - headLength);
      out.copy(head, headLength, 0, take);
      headLength += take;
      if (headLength === data.headBytes) sendHead();
    }
    if (n >= data.tailBytes) {
      out.copy(tail, 0, n - data.tailBytes, n);
      tailLength = data.tailBytes;
    } else if (n > 0) {
      const kept = Math.min(tailLength, data.tailBytes - n);
      tail.copyWithin(0, tailLength - kept, tailLength);
      out.copy(tail, kept, 0, n);
      tailLength = kept + n;
    }
  };
  const feed = (input: Uint8Array) => {
    let src = input;
    for (;;) {
      const [ret, produced, consumed] = dctx.decompressStream(out, src);
      src = src.subarray(consumed);
      keep(produced);
      inFrame = ret !== 0;
      // A full output buffer may leave decoded bytes inside the context: call again until it is not full.
      if (src.length === 0 && produced < out.length) return;
    }
  };
  // The head as decoded so far (all of a shorter stream), once: a copy, since `head` is reused.
  const sendHead = () => {
    if (headSent) return;
    headSent = true;
    port.postMessage({ type: 'head', head: Uint8Array.prototype.slice.call(head, 0, headLength) });
  };
  const fail = (err: unknown) => {
    failed = true;
    // What was decoded before the break is the head, as the tool's pass gives it.
    sendHead();
    port.postMessage({ type: 'fail', message: `zstd stream is broken: ${(err as Error).message}` });
  };
  const finish = () => {
    if (inFrame) return fail(new Error(`it ends inside a frame, after ${plainBytes} plain bytes (truncated)`));
    sendHead();
    port.postMessage({ type: 'done', plainBytes, tail: Uint8Array.prototype.slice.call(tail, 0, tailLength) });
  };

  if (data.file !== undefined) {
    const input = Buffer.allocUnsafe(data.chunkBytes);
    let fd: number | undefined;
    try {
      fd = fs.openSync(data.file, 'r');
      for (;;) {
        const n = fs.readSync(fd, input, 0, input.length, null);
        if (n === 0) break;
        feed(input.subarray(0, n));
      }
      finish();
    } catch (err) {
      fail(err);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    return;
  }
  port.on('message', (m: ToThread) => {
    if (failed) return;
    if ('end' in m) {
      finish();
      port.close();
      return;
    }
    try {
      feed(m.chunk);
      port.postMessage({ type: 'ack' });
    } catch (err) {
      fail(err);
      port.close();
    }
  });
}

/**
 * The same contract as the host tool's summariser (decompress.ts): the plain byte count, the
 * first `headBytes` as soon as decoded and the last `tailBytes`, from a local file the thread
 * reads itself or from a stream written to `input` (an object in a bucket).
 */
export function summariseZstdInThread(bindingPath: string, opts: { tailBytes: number; headBytes?: number; file?: string; chunkBytes?: number }): ToolSummariser {
  const data: ThreadData = { bindingPath, file: opts.file, headBytes: opts.headBytes ?? 0, tailBytes: opts.tailBytes, chunkBytes: opts.chunkBytes ?? 1024 * 1024 };
  const worker = new Worker(`(${threadMain.toString()})()`, { eval: true, workerData: data });
  let stopped = false;
  let failure: Error | undefined;
  let inFlight = 0;
  let waiting: ((err?: Error) => void) | undefined;
  let headDone: (b: Buffer) => void = () => undefined;
  const head = new Promise<Buffer>((resolve) => (headDone = resolve));
  let settle: { resolve(s: PlainSummary): void; reject(e: Error): void } | undefined;
  const summary = new Promise<PlainSummary>((resolve, reject) => (settle = { resolve, reject }));
  // A rejected summary is awaited by the caller; this only keeps an early reject from being "unhandled".
  summary.catch(() => undefined);
  const release = () => {
    const w = waiting;
    waiting = undefined;
    w?.(failure);
  };
  let ended = false;
  const end = (err: Error | undefined, result?: PlainSummary) => {
    if (ended) return;
    ended = true;
    if (err) {
      failure ??= err;
      headDone(Buffer.alloc(0));
      settle!.reject(err);
    } else settle!.resolve(result!);
    release();
    void worker.terminate();
  };
  worker.on('message', (m: FromThread) => {
    if (m.type === 'head') headDone(Buffer.from(m.head.buffer, m.head.byteOffset, m.head.byteLength));
    else if (m.type === 'ack') {
      inFlight -= 1;
      if (inFlight < MAX_IN_FLIGHT) release();
    } else if (m.type === 'done') end(undefined, { plainBytes: m.plainBytes, tail: Buffer.from(m.tail.buffer, m.tail.byteOffset, m.tail.byteLength) });
    else end(new Error(m.message));
  });
  worker.on('error', (err) => end(new Error(`zstd thread failed: ${err.message}`)));
  worker.on('exit', () => {
    if (stopped) end(new Error('zstd read stopped'));
    else end(new Error('zstd thread exited before it finished'));
  });
  // The batch being gathered: a buffer the thread will own once posted (transferred, not copied).
  let batch = new Uint8Array(data.chunkBytes);
  let batched = 0;
  const post = () => {
    const full = batch.subarray(0, batched);
    worker.postMessage({ chunk: full } satisfies ToThread, [full.buffer]);
    batch = new Uint8Array(data.chunkBytes);
    batched = 0;
    inFlight += 1;
  };
  const input =
    opts.file !== undefined
      ? undefined
      : new Writable({
          write(chunk: Buffer, _enc, done) {
            if (failure) return done(failure);
            for (let at = 0; at < chunk.length; ) {
              const n = Math.min(chunk.length - at, batch.length - batched);
              batch.set(chunk.subarray(at, at + n), batched);
              batched += n;
              at += n;
              if (batched === batch.length) post();
            }
            if (inFlight < MAX_IN_FLIGHT) done();
            else waiting = done;
          },
          final(done) {
            if (failure) return done(failure);
            if (batched > 0) post();
            worker.postMessage({ end: true } satisfies ToThread);
            done();
          },
        });
  // The thread stops reading a broken stream: later writes fail, and the summary names why.
  input?.on('error', () => undefined);
  return {
    input,
    head,
    summary,
    stop() {
      if (stopped) return;
      stopped = true;
      input?.destroy();
      void worker.terminate();
    },
  };
}
