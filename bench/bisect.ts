/**
 * Bisect against one full replay of the same range (docs/bisect.md, "What it costs"): one sample
 * source, one backup, N single-row transactions with an UPDATE without WHERE at 60 % of them;
 * then a PITR-style drill replaying the whole range from that backup (its replay phase is the
 * full replay) and a bisect finding the UPDATE (its search phase: every replay, query,
 * snapshot and rewind after the restore). Writes bench/results/bisect-<flavor>-<N>.json and .png.
 * Not part of CI.
 *   npx tsc -p bench/tsconfig.json && node dist/bench-build/bench/bisect.js [--flavor mariadb] [--transactions 100000]
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DockerodeRuntime } from '../adapters/docker';
import { awaitBisect, startBisect } from '../client/bisect';
import { awaitDrill, startDrill } from '../client/drills';
import type { Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { progressQuery } from '../client/workflows';
import { createDrillWorker } from '../workers/drill-worker';
import { drillTimeline } from './history';
import { barChart, svgToPng } from './plot';

/**
 * Where the search's time went: per activity type, the attempts and their seconds (the
 * restarts inside snapshot and rewind; replay and query inside a scan), and the time no
 * activity ran (workflow tasks, scheduling).
 */
function searchBreakdown(timeline: ReturnType<typeof drillTimeline>) {
  const kinds = ['snapshotSandbox', 'rewindSandbox', 'scanBisectPoints', 'replayBisectStep', 'evaluateBisectQuery'];
  const spans = timeline.spans.filter((sp) => kinds.includes(sp.activity));
  if (spans.length === 0) return undefined;
  const from = Math.min(...spans.map((sp) => sp.startMs));
  const to = Math.max(...spans.map((sp) => sp.endMs));
  const activities: Record<string, { count: number; seconds: number; replaySeconds?: number; points?: number }> = {};
  for (const sp of spans) {
    const a = (activities[sp.activity] ??= { count: 0, seconds: 0 });
    a.count++;
    a.seconds += (sp.endMs - sp.startMs) / 1000;
    const r = sp.result as { replaySeconds?: number; results?: unknown[] } | undefined;
    if (typeof r?.replaySeconds === 'number') a.replaySeconds = (a.replaySeconds ?? 0) + r.replaySeconds;
    if (Array.isArray(r?.results)) a.points = (a.points ?? 0) + r.results.length;
  }
  const busy = Object.values(activities).reduce((t, a) => t + a.seconds, 0);
  return { seconds: (to - from) / 1000, activities, betweenActivitiesSeconds: (to - from) / 1000 - busy };
}

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const flavor = arg('flavor', 'mariadb') as Flavor;
  const n = Number(arg('transactions', '100000'));
  const home = await mkdtemp(path.join(os.tmpdir(), 'rd-bisect-bench-'));
  const runtime = new DockerodeRuntime();
  const paths = { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') };
  const native = await NativeConnection.connect({ address: '127.0.0.1:7233' });
  const connection = await Connection.connect({ address: '127.0.0.1:7233' });
  const client = new Client({ connection });
  const taskQueue = `bisect-bench-${process.pid}`;
  const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths } });
  const running = worker.run();
  const source = await ensureSampleSource({ runtime, flavor, name: `bench-bisect-${flavor}-${process.pid}`, home: path.join(home, 'sources'), seed: { students: 200, courses: 30 } });
  const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 8 });
  try {
    for (const sql of ['CREATE DATABASE shop', 'CREATE TABLE shop.prices (id INT PRIMARY KEY, price DECIMAL(8,2) NOT NULL)', 'CREATE TABLE shop.events (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL)', 'INSERT INTO shop.prices VALUES (1, 10), (2, 20), (3, 30)'])
      await pool.query(sql);
    // The backup: taken and published by a first drill, before the transactions.
    const first = await awaitDrill(await startDrill({ client, taskQueue, workflowId: `bench-backup-${process.pid}`, request: { source: source.spec } }));
    const manifest = first.report?.recovery?.baseBackup.manifestPath;
    if (!manifest) throw new Error(`the first drill published no backup: ${first.failure?.type} ${first.failure?.message}`);
    const culpritAt = Math.floor(n * 0.6);
    const began = Date.now();
    for (let i = 0; i < n; i += 64) {
      if (i <= culpritAt && culpritAt < i + 64) await pool.query('UPDATE shop.prices SET price = 0');
      await Promise.all(Array.from({ length: Math.min(64, n - i) }, (_, k) => pool.query('INSERT INTO shop.events (n) VALUES (?)', [i + k])));
    }
    console.error(`${n} transactions written in ${((Date.now() - began) / 1000).toFixed(0)} s`);

    const drill = await startDrill({ client, taskQueue, workflowId: `bench-full-replay-${process.pid}`, request: { source: source.spec, backup: { manifest }, target: { kind: 'latest' } } });
    const { report, failure } = await awaitDrill(drill);
    if (!report) throw new Error(`the full replay failed: ${failure?.type} ${failure?.message}`);
    const phase = (phases: { phase: string; seconds: number }[], name: string) => phases.filter((p) => p.phase === name).reduce((a, p) => a + p.seconds, 0);
    const fullReplaySeconds = phase(report.phases, 'replay');

    const handle = await startBisect({ client, taskQueue, workflowId: `bench-bisect-${process.pid}`, request: { drill: { source: source.spec, backup: { manifest }, target: { kind: 'latest' } }, query: 'SELECT COUNT(*) FROM shop.prices WHERE price = 0', expect: 'zero' } });
    const { answer, failure: bisectFailure } = await awaitBisect(handle);
    if (!answer) throw new Error(`the bisect failed: ${bisectFailure?.type} ${bisectFailure?.message}`);
    const progress = await handle.query(progressQuery);
    const searchSeconds = phase(progress.phases, 'bisect');
    const breakdown = searchBreakdown(drillTimeline(await handle.fetchHistory()));
    const result = {
      flavor,
      transactions: answer.window.transactions,
      culprit: { index: answer.culprit.index, gtid: answer.culprit.gtid },
      fullReplaySeconds,
      restoreSeconds: phase(report.phases, 'restore'),
      bisectSearchSeconds: searchSeconds,
      bisectTotalSeconds: answer.cost.seconds,
      ratioSearchToFullReplay: searchSeconds / fullReplaySeconds,
      cost: answer.cost,
      ...(breakdown ? { breakdown } : {}),
    };
    console.log(JSON.stringify(result, null, 2));
    const out = path.join(path.resolve(__dirname, '../../..'), 'bench/results', `bisect-${flavor}-${n}`);
    writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(
      `${out}.svg`,
      barChart(
        { 'one full replay': fullReplaySeconds, 'bisect search': searchSeconds, 'restore (once)': result.restoreSeconds },
        `bisect of ${result.transactions} transactions (${flavor}): search ${result.ratioSearchToFullReplay.toFixed(2)}x one full replay`,
        (label) => label.startsWith('bisect'),
      ),
    );
    svgToPng(`${out}.svg`, `${out}.png`);
  } finally {
    await pool.end();
    await runtime.remove(source.containerName);
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
