/**
 * The whole-stream read of a team's backup with the host's real zstd, xz and gzip, from a file
 * and from the S3 server: the plain byte count, head and trailer come back from the tools in one
 * pass, and a changed or cut stream is refused.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { inspectBackup, localBackupObject, storedBackupObject } from '../../adapters/backup-reader';
import { summariseWithTool, type ToolSummariser } from '../../adapters/decompress';
import { summariseZstdInThread, zstdBinding } from '../../adapters/zstd-thread';
import { openObjectStore } from '../../adapters/object-store';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import { KEY_FILE, S3_ENDPOINT, SECRET_FILE, removeBucket, s3Admin } from './s3-bucket';

const HEAD = [
  '-- MySQL dump 10.13  Distrib 8.0.40, for Linux (x86_64)',
  '--',
  '-- Host: localhost    Database: shop',
  '-- ------------------------------------------------------',
  '-- Server version\t8.0.40',
  '',
  '/*!40101 SET NAMES utf8mb4 */;',
  'CREATE TABLE `t` (`id` int NOT NULL, `v` varchar(40), PRIMARY KEY (`id`));',
  '',
].join('\n');
const TRAILER = '\n-- Dump completed on 2026-12-04 14:05:09\n';

let dir: string;
let plain: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rd-reader-'));
  // Several MB of rows that do not compress to nothing, so a change in the middle is far from both ends.
  const rows = Array.from({ length: 120_000 }, (_, i) => `INSERT INTO \`t\` VALUES (${i},'${((i * 7919) % 1000003).toString(36)}-${(i * 104729) % 65521}');`);
  plain = Buffer.from(HEAD + rows.join('\n') + TRAILER);
  await writeFile(path.join(dir, 'shop.sql'), plain);
  await writeFile(path.join(dir, 'shop.sql.gz'), gzipSync(plain));
  execFileSync('zstd', ['-q', '-f', path.join(dir, 'shop.sql'), '-o', path.join(dir, 'shop.sql.zst')]);
  execFileSync('xz', ['-1', '-k', '-f', path.join(dir, 'shop.sql')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function damaged(name: string, change: (bytes: Buffer) => Buffer): Promise<string> {
  const out = path.join(dir, `damaged-${name}`);
  await writeFile(out, change(await readFile(path.join(dir, name))));
  return out;
}

describe.each(['shop.sql.gz', 'shop.sql.zst', 'shop.sql.xz'])('a whole read of %s', (name) => {
  test('counts every plain byte and finds the trailer', async () => {
    const file = path.join(dir, name);
    const seen: number[] = [];
    const r = await inspectBackup(localBackupObject(file), { progress: (p) => seen.push(p.rawBytes) });
    expect(r.plainBytes).toBe(plain.length);
    expect(r.rawBytes).toBe((await stat(file)).size);
    expect(r.passed).toContain('ends with its "-- Dump completed" trailer');
    expect(seen[seen.length - 1]).toBe(r.rawBytes);
  });

  test('refuses a stream with bytes changed in the middle as ArtifactCorrupt', async () => {
    const file = await damaged(name, (b) => {
      const copy = Buffer.from(b);
      for (let i = 0; i < 8; i++) copy[Math.floor(copy.length / 2) + i] ^= 0x5a;
      return copy;
    });
    await expect(inspectBackup(localBackupObject(file))).rejects.toMatchObject({ type: 'ArtifactCorrupt' });
  });

  test('refuses a stream cut at 70% as ArtifactCorrupt', async () => {
    const file = await damaged(name, (b) => b.subarray(0, Math.floor(b.length * 0.7)));
    await expect(inspectBackup(localBackupObject(file))).rejects.toMatchObject({ type: 'ArtifactCorrupt', message: expect.stringMatching(/cut short or corrupted/) });
  });
});

test('a complete zstd stream of a dump without its trailer is DumpTruncated, not corrupt', async () => {
  const cut = path.join(dir, 'killed.sql');
  await writeFile(cut, plain.subarray(0, plain.length - TRAILER.length - 1000));
  execFileSync('zstd', ['-q', '-f', cut, '-o', `${cut}.zst`]);
  await expect(inspectBackup(localBackupObject(`${cut}.zst`))).rejects.toMatchObject({ type: 'DumpTruncated' });
});

test.each([[1_000, 'shorter than the head'], [70_000, 'longer than the head by less than the tail']])('a zstd dump %i bytes long (%s) keeps its count, format and trailer', async (bytes) => {
  const file = path.join(dir, `short-${bytes}.sql`);
  const body = Buffer.alloc(bytes - HEAD.length - TRAILER.length, 'INSERT INTO `t` VALUES (1,\'a\');\n');
  await writeFile(file, Buffer.concat([Buffer.from(HEAD), body, Buffer.from(TRAILER)]));
  execFileSync('zstd', ['-q', '-f', file, '-o', `${file}.zst`]);
  const r = await inspectBackup(localBackupObject(`${file}.zst`));
  expect(r.plainBytes).toBe(bytes);
  expect(r.format).toMatchObject({ kind: 'logical-dump', compression: 'zstd' });
  expect(r.passed).toContain('ends with its "-- Dump completed" trailer');
});

/** Processes whose command line names `file`. */
function readersOf(file: string): string[] {
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(file);
    } catch {
      return false;
    }
  })());
}

test('a zstd file of no backup format is refused from its head, and the whole read begun with it is stopped', async () => {
  // 1 GiB of zeros: the tool would read on for most of a second if it were left running.
  const file = path.join(dir, 'zeros.bin.zst');
  execFileSync('bash', ['-c', `head -c 1G /dev/zero | zstd -q -1 -o "${file}"`]);
  await expect(inspectBackup(localBackupObject(file))).rejects.toMatchObject({ type: 'UnknownBackupFormat' });
  await new Promise((r) => setTimeout(r, 100));
  expect(readersOf(file)).toEqual([]);
});

test('a tar through zstd is walked member by member in Node, as through gzip', async () => {
  const tar = path.join(dir, 'files.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, 'shop.sql']);
  execFileSync('zstd', ['-q', '-f', tar, '-o', `${tar}.zst`]);
  await writeFile(`${tar}.gz`, gzipSync(await readFile(tar)));
  // Its members are known only from a walk to its end: the head alone does not name them.
  for (const name of [`${tar}.zst`, `${tar}.gz`]) await expect(inspectBackup(localBackupObject(name))).rejects.toMatchObject({ type: 'UnknownBackupFormat', message: expect.stringContaining('is a tar whose members (shop.sql) are neither') });
});

describe('a whole read from the S3 server', () => {
  const bucket = `rd-reader-${Date.now().toString(36)}`;
  beforeAll(async () => {
    const s3 = await s3Admin();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const zst = await readFile(path.join(dir, 'shop.sql.zst'));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'shop.sql.zst', Body: zst }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cut.sql.zst', Body: zst.subarray(0, Math.floor(zst.length * 0.7)) }));
    } finally {
      s3.destroy();
    }
  });
  afterAll(async () => {
    await removeBucket(bucket);
  });
  const inspectStored = async (key: string) => {
    const store = await openObjectStore(parseBackupLocation(`s3://${bucket}/`, { endpoint: S3_ENDPOINT, accessKeyIdRef: { file: KEY_FILE }, secretAccessKeyRef: { file: SECRET_FILE } }));
    try {
      return await inspectBackup(storedBackupObject(store, key));
    } finally {
      store.close();
    }
  };

  test('streams a zstd dump into the tool: its count, sha256 and trailer', async () => {
    const r = await inspectStored('shop.sql.zst');
    expect(r.plainBytes).toBe(plain.length);
    expect(r.sha256).toBe(execFileSync('sha256sum', [path.join(dir, 'shop.sql.zst')]).toString().split(' ')[0]);
    expect(r.passed).toContain('ends with its "-- Dump completed" trailer');
  });

  test('refuses a zstd object cut at 70% as ArtifactCorrupt', async () => {
    await expect(inspectStored('cut.sql.zst')).rejects.toMatchObject({ type: 'ArtifactCorrupt', message: expect.stringMatching(/cut short or corrupted/) });
  });
});

/** The threads of this process: a stopped zstd thread is gone from it. */
const threadCount = () => readdirSync('/proc/self/task').length;

function bindingPath(): string {
  const b = zstdBinding();
  if ('missing' in b) throw new Error(`the zstd-napi binding did not load (${b.missing}): deploy/up.sh's npm ci builds it, with g++, make and python3`);
  return b.path;
}

test('the zstd-napi binding built, so zstd is decompressed in a thread, not through a pipe', () => {
  expect(bindingPath()).toMatch(/zstd-napi/);
});

test('RESTORE_DRILL_ZSTD=tool asks for the host\'s zstd instead of the binding', () => {
  process.env.RESTORE_DRILL_ZSTD = 'tool';
  try {
    expect(zstdBinding()).toEqual({ missing: 'RESTORE_DRILL_ZSTD=tool' });
  } finally {
    delete process.env.RESTORE_DRILL_ZSTD;
  }
  expect(zstdBinding()).toEqual({ path: expect.stringMatching(/zstd-napi/) });
});

describe.each(['thread', 'tool'] as const)('the zstd summary in the %s', (via) => {
  const summarise = (opts: { tailBytes: number; headBytes?: number; file?: string; chunkBytes?: number }): ToolSummariser =>
    via === 'thread' ? summariseZstdInThread(bindingPath(), opts) : summariseWithTool('zstd', opts);
  const feed = async (tool: ToolSummariser, bytes: Buffer, chunk: number) => {
    const chunks = Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk));
    await pipeline(Readable.from(chunks), tool.input!);
  };

  test('reads a file: the plain count, its first and its last bytes', async () => {
    const tool = summarise({ tailBytes: 16_384, headBytes: 65_536, file: path.join(dir, 'shop.sql.zst') });
    expect((await tool.head).equals(plain.subarray(0, 65_536))).toBe(true);
    const s = await tool.summary;
    expect(s.plainBytes).toBe(plain.length);
    expect(s.tail.equals(plain.subarray(plain.length - 16_384))).toBe(true);
  });

  test('reads a stream of two concatenated frames written in small chunks', async () => {
    // Small output chunks in the thread and small writes: the output buffer fills mid-input and the writer waits.
    const zst = await readFile(path.join(dir, 'shop.sql.zst'));
    const tool = summarise({ tailBytes: 16_384, headBytes: 1000, chunkBytes: 4096 });
    await feed(tool, Buffer.concat([zst, zst]), 3000);
    const s = await tool.summary;
    expect(s.plainBytes).toBe(2 * plain.length);
    expect(s.tail.equals(plain.subarray(plain.length - 16_384))).toBe(true);
    expect((await tool.head).equals(plain.subarray(0, 1000))).toBe(true);
  });

  test('refuses a stream with a changed byte, naming it broken', async () => {
    const zst = Buffer.from(await readFile(path.join(dir, 'shop.sql.zst')));
    zst[Math.floor(zst.length / 2)] ^= 0x5a;
    const tool = summarise({ tailBytes: 16_384 });
    await feed(tool, zst, 65_536).catch(() => undefined);
    await expect(tool.summary).rejects.toThrow(/zstd stream is broken/);
  });

  test('refuses a stream that ends inside its frame', async () => {
    const zst = await readFile(path.join(dir, 'shop.sql.zst'));
    const tool = summarise({ tailBytes: 16_384 });
    await feed(tool, zst.subarray(0, zst.length - 10), 65_536);
    await expect(tool.summary).rejects.toThrow(/zstd stream is broken/);
  });

  test('stops when asked: the summary says so and nothing is left running', async () => {
    const file = path.join(dir, `zeros-${via}.zst`);
    execFileSync('bash', ['-c', `head -c 2G /dev/zero | zstd -q -1 -o "${file}"`]);
    const before = threadCount();
    const tool = summarise({ tailBytes: 16_384, headBytes: 65_536, file });
    await tool.head;
    tool.stop();
    await expect(tool.summary).rejects.toThrow(/zstd read stopped/);
    for (let i = 0; i < 40 && (threadCount() > before || readersOf(file).length > 0); i++) await new Promise((r) => setTimeout(r, 50));
    expect(threadCount()).toBeLessThanOrEqual(before);
    expect(readersOf(file)).toEqual([]);
  });
});
