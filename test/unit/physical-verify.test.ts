/**
 * verifyPhysicalArtifact on tar artifacts, with the real `tar` and gzip streams on local files
 * (no Docker, no server): the check reads the whole archive and names what is wrong. And the
 * stream that feeds tar (feedChild): back-pressure without piling up listeners, and no wait
 * on a child that has gone.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { feedChild } from '../../activities/physical/child-process';
import { verifyPhysicalArtifact } from '../../activities/physical/verify';
import type { BackupManifest } from '../../domain/artifacts/manifest';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'verify-physical-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function manifestOf(file: string, bytes: Buffer): BackupManifest {
  return {
    format: 1,
    kind: 'physical',
    archive: 'tar',
    backupId: 'b1',
    source: 'unit',
    createdAt: '2026-11-22T00:00:00Z',
    finishedAt: '2026-11-22T00:00:01Z',
    file: path.basename(file),
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    uncompressedBytes: 1,
    databases: [],
    coordinates: { file: 'mysql-bin.000001', position: 4 },
    server: { flavor: 'mysql', version: '9.7.0' },
    tool: { name: 'clone' },
  };
}

/** A tar of a folder with `files` files of incompressible bytes (so the gzip stream is as large as the data). */
function tarOf(name: string, files: number, bytesEach: number): Buffer {
  const src = path.join(dir, name);
  mkdirSync(src, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(path.join(src, `f${i}.ibd`), randomBytes(bytesEach));
  return execFileSync('tar', ['-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

function publish(name: string, gz: Buffer): { file: string; manifest: BackupManifest } {
  const file = path.join(dir, `${name}.tar.gz`);
  writeFileSync(file, gz);
  return { file, manifest: manifestOf(file, readFileSync(file)) };
}

async function errorOf(work: () => Promise<unknown>): Promise<{ type?: string; message: string } | undefined> {
  try {
    await work();
    return undefined;
  } catch (err) {
    return err as { type?: string; message: string };
  }
}

test('a large complete archive verifies (48 MiB through tar, whose pipe fills many times)', async () => {
  const { file, manifest } = publish('large', gzipSync(tarOf('large', 6, 8 << 20), { level: 1 }));
  expect(await errorOf(() => verifyPhysicalArtifact(file, manifest))).toBeUndefined();
}, 60_000);

test('a complete gzip stream around a cut tar archive is refused as truncated', async () => {
  const tar = tarOf('cut', 3, 1 << 20);
  const { file, manifest } = publish('cut', gzipSync(tar.subarray(0, Math.floor(tar.length / 2)), { level: 1 }));
  const error = await errorOf(() => verifyPhysicalArtifact(file, manifest));
  expect(error?.type).toBe('DumpTruncated');
  expect(error?.message).toMatch(/not a complete tar archive.*take a new backup/s);
}, 60_000);

test('a gzip stream that stops short is refused as corrupt, and a changed byte by its sha256', async () => {
  const gz = gzipSync(tarOf('short', 2, 1 << 20), { level: 1 });
  const short = publish('short', gz.subarray(0, gz.length - 1000));
  expect((await errorOf(() => verifyPhysicalArtifact(short.file, short.manifest)))?.message).toMatch(/not a complete gzip stream/);

  const flipped = Buffer.from(gz);
  flipped[Math.floor(flipped.length / 2)] ^= 0xff;
  const changed = publish('changed', gz);
  writeFileSync(changed.file, flipped);
  const error = await errorOf(() => verifyPhysicalArtifact(changed.file, changed.manifest));
  expect(error?.type).toBe('ArtifactCorrupt');
  expect(error?.message).toMatch(/has sha256 [0-9a-f]{64} but its manifest says/);
}, 60_000);

/** A child's stdin stand-in: a small buffer, drained one chunk per turn of the event loop, or never after `stopAfter` chunks. */
function slowStdin(stopAfter = Infinity): { stdin: Writable; received: () => number } {
  let bytes = 0;
  let chunks = 0;
  const stdin = new Writable({
    highWaterMark: 1024,
    write: (c: Buffer, _e, done) => {
      bytes += c.length;
      if (++chunks < stopAfter) setImmediate(done);
    },
  });
  return { stdin, received: () => bytes };
}

const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, (_, i) => Buffer.alloc(size, i)));

test('feedChild waits on a full pipe with one listener of each kind, however often it fills', async () => {
  const { stdin, received } = slowStdin();
  const before = { close: stdin.listenerCount('close'), drain: stdin.listenerCount('drain') };
  const feed = feedChild(stdin, new Promise(() => undefined));
  // Counted at every write, while the feed runs: ending the stdin at the end fires and drops its close listeners.
  let fills = 0;
  const most = { close: 0, drain: 0 };
  const write = stdin.write.bind(stdin);
  stdin.write = ((c: Buffer) => {
    const ok = write(c);
    if (!ok) fills++;
    most.close = Math.max(most.close, stdin.listenerCount('close') - before.close);
    most.drain = Math.max(most.drain, stdin.listenerCount('drain') - before.drain);
    return ok;
  }) as typeof stdin.write;
  await pipeline(chunks(300, 4096), feed);
  expect(fills).toBeGreaterThan(100);
  expect(received()).toBe(300 * 4096);
  expect(most).toEqual({ close: 1, drain: 1 });
});

test('feedChild stops waiting when the child is gone and discards the rest', async () => {
  const { stdin, received } = slowStdin(10);
  let childExits!: () => void;
  const gone = new Promise<void>((r) => (childExits = r));
  const fed = pipeline(chunks(300, 4096), feedChild(stdin, gone));
  // The stand-in has stopped reading: the feed waits, until the child is reported gone.
  await new Promise((r) => setTimeout(r, 50));
  expect(received()).toBe(10 * 4096);
  childExits();
  await expect(fed).resolves.toBeUndefined();
  expect(received()).toBe(10 * 4096);
});
