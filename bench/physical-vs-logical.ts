/**
 * Physical vs logical drill RTO on the same source in the same run (README, Performance):
 * a physical-ready sample source per flavor under the sample writer, then alternating
 * logical and physical checkpoint drills, each phase's seconds printed. Not a benchmark
 * harness (bench/bench.ts is): a quick comparison, never part of CI.
 *   npx tsc -p bench/tsconfig.json && node dist/bench-build/bench/physical-vs-logical.js [--students 200] [--reps 2]
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DockerodeRuntime } from '../adapters/docker';
import { awaitDrill, startDrill } from '../client/drills';
import type { Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { UniversityWriter } from '../sample/university-writer';
import { createDrillWorker } from '../workers/drill-worker';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const students = arg('students', 200);
  const reps = arg('reps', 2);
  const home = await mkdtemp(path.join(os.tmpdir(), 'rd-phys-bench-'));
  const runtime = new DockerodeRuntime();
  const native = await NativeConnection.connect({ address: '127.0.0.1:7233' });
  const connection = await Connection.connect({ address: '127.0.0.1:7233' });
  const client = new Client({ connection });
  const taskQueue = `phys-bench-${process.pid}`;
  const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths: { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') } } });
  const running = worker.run();
  const rows: string[] = [];
  try {
    for (const flavor of ['mariadb', 'mysql'] as Flavor[]) {
      const name = `bench-phys-${flavor}-${process.pid}`;
      const source = await ensureSampleSource({ runtime, flavor, name, home: path.join(home, 'sources'), seed: { students, courses: Math.max(30, Math.round(students / 10)) }, physical: true });
      const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 3 });
      const writer = new UniversityWriter(pool, { intervalMs: 5, seed: 7 });
      writer.start();
      try {
        for (let rep = 1; rep <= reps; rep++) {
          for (const method of ['logical', 'physical'] as const) {
            const handle = await startDrill({ client, taskQueue, workflowId: `phys-bench-${flavor}-${method}-${rep}-${process.pid}`, request: { source: source.spec, backup: { method } } });
            const { report, failure } = await awaitDrill(handle);
            if (failure) throw new Error(`${flavor} ${method} drill failed: ${failure.type} ${failure.message}`);
            const s = (p: string) => (report!.phases.filter((x) => x.phase === p).reduce((a, x) => a + x.seconds, 0)).toFixed(1);
            rows.push(`| ${flavor} | ${method} | ${rep} | ${(report!.backup.bytes / 1024).toFixed(0)} KiB | ${s('backup')} | ${s('verify-artifact')} | ${s('restore')} | ${s('sandbox-start')} | ${s('replay')} | ${s('checks')} | **${report!.rtoSeconds.toFixed(1)}** |`);
            console.log(rows[rows.length - 1]);
          }
        }
      } finally {
        await writer.stop();
        await pool.end();
        await runtime.remove(source.containerName);
      }
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
    await rm(home, { recursive: true, force: true });
  }
  console.log(`\n| flavor | backup | rep | artifact | backup s | verify s | restore s | sandbox-start s | replay s | checks s | RTO s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
