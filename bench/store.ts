/**
 * The same drill with the artifact store in a local folder and in S3 (the rclone server of
 * deploy/s3.sh, credentials by reference), alternating on one MariaDB sample source under the
 * sample writer: each drill's total and RTO, then the medians and the S3/local ratio (the
 * issue's bound: 1.15). A quick comparison, never part of CI.
 *   npx tsc -p bench/tsconfig.json && node dist/bench-build/bench/store.js [--students 2000] [--reps 3]
 */
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ArtifactStoreConfig } from '../adapters/artifact-store';
import { DockerodeRuntime } from '../adapters/docker';
import { awaitDrill, startDrill } from '../client/drills';
import { ensureSampleSource } from '../sample/source-container';
import { UniversityWriter } from '../sample/university-writer';
import { createDrillWorker } from '../workers/drill-worker';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const students = arg('students', 2000);
  const reps = arg('reps', 3);
  const rdHome = process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill');
  const keyRef = { file: path.join(rdHome, 's3-credentials', 'access-key-id') };
  const secretRef = { file: path.join(rdHome, 's3-credentials', 'secret-access-key') };
  const endpoint = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
  const bucket = `rd-store-bench-${Date.now().toString(36)}`;
  const admin = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: await readFile(keyRef.file, 'utf8'), secretAccessKey: await readFile(secretRef.file, 'utf8') },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const s3: ArtifactStoreConfig = { location: `s3://${bucket}/bench/`, s3: { endpoint, accessKeyIdRef: keyRef, secretAccessKeyRef: secretRef } };

  const home = await mkdtemp(path.join(os.tmpdir(), 'rd-store-bench-'));
  const runtime = new DockerodeRuntime();
  const native = await NativeConnection.connect({ address: '127.0.0.1:7233' });
  const connection = await Connection.connect({ address: '127.0.0.1:7233' });
  const client = new Client({ connection });
  const stores = { local: undefined, s3 } as const;
  const workers = await Promise.all(
    (Object.keys(stores) as (keyof typeof stores)[]).map(async (kind) => {
      const taskQueue = `store-bench-${kind}-${process.pid}`;
      const paths = { artifactRoot: path.join(home, kind, 'artifacts'), workRoot: path.join(home, kind, 'work'), ...(stores[kind] ? { store: stores[kind] } : {}) };
      const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths } });
      return { kind, taskQueue, worker, running: worker.run() };
    }),
  );
  const totals: Record<string, number[]> = { local: [], s3: [] };
  const rtos: Record<string, number[]> = { local: [], s3: [] };
  const source = await ensureSampleSource({ runtime, flavor: 'mariadb', name: `bench-store-${process.pid}`, home: path.join(home, 'sources'), seed: { students, courses: Math.max(30, Math.round(students / 10)) } });
  const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 3 });
  const writer = new UniversityWriter(pool, { intervalMs: 5, seed: 7 });
  writer.start();
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const w of rep % 2 === 1 ? workers : [...workers].reverse()) {
        const handle = await startDrill({ client, taskQueue: w.taskQueue, workflowId: `store-bench-${w.kind}-${rep}-${process.pid}`, request: { source: source.spec } });
        const { report, failure } = await awaitDrill(handle);
        if (failure) throw new Error(`${w.kind} drill failed: ${failure.type} ${failure.message}`);
        totals[w.kind]!.push(report!.totalSeconds);
        rtos[w.kind]!.push(report!.rtoSeconds);
        console.log(`${w.kind} rep ${rep}: total ${report!.totalSeconds.toFixed(2)} s, RTO ${report!.rtoSeconds.toFixed(2)} s, backup ${(report!.backup.bytes / 1024).toFixed(0)} KiB`);
      }
    }
  } finally {
    await writer.stop();
    await pool.end();
    await runtime.remove(source.containerName);
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running));
    await connection.close();
    await native.close();
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (listed.Contents?.length) await admin.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: listed.Contents.map((o) => ({ Key: o.Key! })) } }));
    admin.destroy();
    await rm(home, { recursive: true, force: true });
  }
  const ratio = (m: Record<string, number[]>) => (median(m.s3!) / median(m.local!)).toFixed(3);
  console.log(`\n| store | median total s | median RTO s |\n| --- | --- | --- |\n| local | ${median(totals.local!).toFixed(2)} | ${median(rtos.local!).toFixed(2)} |\n| s3 | ${median(totals.s3!).toFixed(2)} | ${median(rtos.s3!).toFixed(2)} |\n| s3 / local | ${ratio(totals)} | ${ratio(rtos)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
