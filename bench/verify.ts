/**
 * `restore-drill verify` against the tools a team would otherwise run on the same file: `gzip -t`
 * and `zstd -t`, from disk and from the S3 server (deploy/s3.sh). Candidates interleaved per
 * repetition; ratios printed; JSON and a PNG saved under bench/results/.
 *
 *   bash bench/verify.sh [--mib 512] [--reps 3] [--save NAME]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { median } from './summary';
import { barChart, svgToPng } from './plot';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const HOME = process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill');
const ENDPOINT = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
const KEY_FILE = path.join(HOME, 's3-credentials', 'access-key-id');
const SECRET_FILE = path.join(HOME, 's3-credentials', 'secret-access-key');
// Where deploy/s3.sh builds it (deploy/lib.sh's RD_CACHE).
const RCLONE = path.join(process.env.RESTORE_DRILL_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'restore-drill'), 'bin', 'rclone');

const OBJECTS = ['bench.sql.gz', 'bench.sql.zst'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
}

/** A mysqldump-shaped file: header, tables of extended INSERTs with text and numbers, the trailer. */
async function writeDump(file: string, mib: number): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  await write('-- MySQL dump 10.13  Distrib 9.7.4, for Linux (x86_64)\n--\n-- Host: localhost    Database: bench\n-- ------------------------------------------------------\n-- Server version\t9.7.4\n\n/*!40101 SET NAMES utf8mb4 */;\n');
  let bytes = 0;
  let id = 0;
  for (let t = 0; bytes < mib * 1024 * 1024; t++) {
    await write(`\n--\n-- Table structure for table \`t${t}\`\n--\n\nCREATE TABLE \`t${t}\` (\`id\` int NOT NULL, \`name\` varchar(64), \`amount\` decimal(12,2), \`note\` text, PRIMARY KEY (\`id\`)) ENGINE=InnoDB;\n\nLOCK TABLES \`t${t}\` WRITE;\n`);
    for (let s = 0; s < 64 && bytes < mib * 1024 * 1024; s++) {
      const rows: string[] = [];
      for (let r = 0; r < 500; r++, id++) rows.push(`(${id},'customer ${(id * 7919) % 100003}',${((id * 31) % 100000) / 100},'order note ${id.toString(36)} ${'x'.repeat(id % 40)}')`);
      const line = `INSERT INTO \`t${t}\` VALUES ${rows.join(',')};\n`;
      bytes += line.length;
      await write(line);
    }
    await write('UNLOCK TABLES;\n');
  }
  await write('/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n-- Dump completed on 2026-12-04 10:00:00\n');
  await new Promise<void>((resolve) => out.end(resolve));
}

function seconds(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(-400)}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function main(): Promise<void> {
  const mib = Number(arg('mib', '512'));
  const reps = Number(arg('reps', '3'));
  const save = arg('save', 'verify-latest');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rd-bench-verify-'));
  let s3: S3Client | undefined;
  let bucket: string | undefined;
  try {
    const sql = path.join(dir, 'bench.sql');
    await writeDump(sql, mib);
    execFileSync('gzip', ['-k', '-6', sql]);
    execFileSync('zstd', ['-q', '-3', sql, '-o', `${sql}.zst`]);
    bucket = `rd-bench-verify-${Date.now().toString(36)}`;
    s3 = new S3Client({ endpoint: ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: (await readFile(KEY_FILE, 'utf8')).trim(), secretAccessKey: (await readFile(SECRET_FILE, 'utf8')).trim() } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const f of OBJECTS) {
      const file = path.join(dir, f);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: f, Body: createReadStream(file), ContentLength: (await stat(file)).size }));
    }
    const s3Flags = ['--endpoint', ENDPOINT, '--access-key-id-ref', `file:${KEY_FILE}`, '--secret-access-key-ref', `file:${SECRET_FILE}`];
    // A shell user's check of the same object in the bucket: rclone downloads it (keys in its
    // environment, never in arguments) into the tool; the S3 server shares this host's cores.
    const rcloneEnv = {
      ...process.env,
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_BENCH_ENDPOINT: ENDPOINT,
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: (await readFile(KEY_FILE, 'utf8')).trim(),
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: (await readFile(SECRET_FILE, 'utf8')).trim(),
      RCLONE_CONFIG: '/dev/null',
    };
    const fromBucket = (object: string, tool: string): [string, string[], NodeJS.ProcessEnv] => ['bash', ['-c', `set -o pipefail; "${RCLONE}" cat "bench:${bucket}/${object}" | ${tool}`], rcloneEnv];
    const candidates: Record<string, [string, string[], NodeJS.ProcessEnv?]> = {
      'gzip -t': ['gzip', ['-t', `${sql}.gz`]],
      'rclone cat | gzip -t': fromBucket('bench.sql.gz', 'gzip -t'),
      'verify gzip (disk)': [process.execPath, [MAIN, 'verify', `${sql}.gz`]],
      'verify gzip (S3)': [process.execPath, [MAIN, 'verify', `s3://${bucket}/bench.sql.gz`, ...s3Flags]],
      'zstd -t': ['zstd', ['-qt', `${sql}.zst`]],
      'rclone cat | zstd -t': fromBucket('bench.sql.zst', 'zstd -qt'),
      'verify zstd (disk)': [process.execPath, [MAIN, 'verify', `${sql}.zst`]],
      'verify zstd (S3)': [process.execPath, [MAIN, 'verify', `s3://${bucket}/bench.sql.zst`, ...s3Flags]],
      // The previous path, kept as a baseline: the host's zstd with its plain bytes piped to tail.
      'verify zstd via tool (disk)': [process.execPath, [MAIN, 'verify', `${sql}.zst`], { ...process.env, RESTORE_DRILL_ZSTD: 'tool' }],
      'verify zstd via tool (S3)': [process.execPath, [MAIN, 'verify', `s3://${bucket}/bench.sql.zst`, ...s3Flags], { ...process.env, RESTORE_DRILL_ZSTD: 'tool' }],
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
    for (let r = 0; r < reps; r++) for (const [name, [cmd, args, env]] of Object.entries(candidates)) samples[name]!.push(seconds(cmd, args, env));
    const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    const ratios = {
      'verify gzip (disk) / gzip -t': med['verify gzip (disk)']! / med['gzip -t']!,
      'verify gzip (S3) / gzip -t': med['verify gzip (S3)']! / med['gzip -t']!,
      'verify zstd (disk) / zstd -t': med['verify zstd (disk)']! / med['zstd -t']!,
      'verify zstd (S3) / zstd -t': med['verify zstd (S3)']! / med['zstd -t']!,
      'verify gzip (S3) / rclone cat | gzip -t': med['verify gzip (S3)']! / med['rclone cat | gzip -t']!,
      'verify zstd (S3) / rclone cat | zstd -t': med['verify zstd (S3)']! / med['rclone cat | zstd -t']!,
      'verify zstd via tool (disk) / zstd -t': med['verify zstd via tool (disk)']! / med['zstd -t']!,
      'verify zstd via tool (S3) / rclone cat | zstd -t': med['verify zstd via tool (S3)']! / med['rclone cat | zstd -t']!,
    };
    const sizes = { plainBytes: (await stat(sql)).size, gzipBytes: (await stat(`${sql}.gz`)).size, zstdBytes: (await stat(`${sql}.zst`)).size };
    for (const [k, v] of Object.entries(med)) console.log(`${k.padEnd(28)} median ${v.toFixed(2)} s  (${samples[k]!.map((x) => x.toFixed(2)).join(', ')})`);
    for (const [k, v] of Object.entries(ratios)) console.log(`${k.padEnd(50)} ${v.toFixed(2)}x  (target <= 1.2x)`);
    const result = { date: new Date().toISOString(), host: { cpus: os.cpus().length, node: process.version }, mib, reps, sizes, samples, medians: med, ratios };
    const out = path.join(ROOT, 'bench/results', save);
    writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`${out}.svg`, barChart(med, `restore-drill verify vs gzip -t / zstd -t, ${mib} MiB dump, median of ${reps}`, (label) => label.startsWith('verify')));
    if (svgToPng(`${out}.svg`, `${out}.png`)) await rm(`${out}.svg`);
    console.log(`saved ${out}.json and ${out}.png`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    // The bench's own bucket goes with it (2 x 200 MB on the S3 server's disk otherwise).
    if (s3 && bucket) {
      for (const Key of OBJECTS) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
