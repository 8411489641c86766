/**
 * The whole-stream read of a team's backup with the host's real zstd, xz and gzip: the plain
 * byte count and trailer come back from the tools, and a changed or cut stream is refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { inspectBackup, localBackupObject } from '../../adapters/backup-reader';

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
