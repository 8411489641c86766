/**
 * The benchmark: one command (`bash bench/run.sh`) builds a deterministic dataset in a source
 * container, takes the engine's backup, writes a fixed workload after it, records the ground
 * truth, then interleaves candidates for N repetitions on the same data and machine:
 *   engine-fast      the drill (Temporal worker in this process): parallel load, applier replay
 *   engine-fallback  the same drill: one gunzip | client, mysqlbinlog | client
 *   shell-script     bench/baseline-drill.sh: docker run, gunzip | client, mysqlbinlog | client, CHECKSUM TABLE
 *   load-data        bench/load-data.sh: LOAD DATA of tab-separated files, 2 sessions (restore only)
 * A run whose restored data does not match the ground truth does not count. Prints a table of
 * ratios (medians) and writes JSON and a plot to bench/results/. Never part of CI gating.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerodeRuntime } from '../adapters/docker';
import { withSession } from '../adapters/mysql';
import { awaitDrill, startDrill } from '../cli/drill-client';
import type { DrillRequestInput } from '../config/schema';
import { serverCommand } from '../domain/flavors';
import type { DrillReport } from '../domain/report';
import type { BinlogCoordinates, Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { createDrillWorker } from '../workers/drill-worker';
import { BENCH_TABLES, SIZES, datasetSql, totalRows, workloadShape, workloadSql } from './dataset';
import type { BenchSize, WorkloadKind } from './dataset';
import { renderSvg } from './plot';

const run = promisify(execFile);
const MYDUMPER_IMAGE = 'restore-drill/bench-mydumper:10.11';
/** bench/ in the checkout: run.sh starts this from the repository root. */
const BENCH_DIR = path.resolve(process.env.BENCH_DIR ?? path.join(process.cwd(), 'bench'));

interface Args {
  size: BenchSize;
  workload: WorkloadKind;
  flavors: Flavor[];
  reps: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { size: 'ci', workload: 'batch', flavors: ['mariadb', 'mysql'], reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const [key, value] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], argv[++i]];
    if (key === '--size' && (value === 'smoke' || value === 'ci' || value === '1g')) args.size = value;
    else if (key === '--flavor' && (value === 'mariadb' || value === 'mysql')) args.flavors = [value];
    else if (key === '--flavor' && value === 'both') args.flavors = ['mariadb', 'mysql'];
    else if (key === '--reps' && Number(value) >= 1) args.reps = Number(value);
    else if (key === '--workload' && (value === 'batch' || value === 'oltp')) args.workload = value;
    else throw new Error(`unknown argument ${argv[i]}; usage: bench/run.sh [--size smoke|ci|1g] [--workload batch|oltp] [--flavor mariadb|mysql|both] [--reps N]`);
  }
  return args;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Timings = Record<'ready' | 'restore' | 'replay' | 'checks' | 'cleanup' | 'restoreSide' | 'total', number> & { temporalOverhead?: number; backup?: number };

interface Sample {
  candidate: string;
  rep: number;
  match: boolean;
  timings: Timings;
}

function phase(report: DrillReport, name: string): number {
  return report.phases.filter((p) => p.phase === name && p.outcome === 'ok').reduce((sum, p) => sum + p.seconds, 0);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const size = SIZES[args.size];
  const work = path.join(BENCH_DIR, 'work');
  const resultsDir = path.join(BENCH_DIR, 'results');
  await mkdir(resultsDir, { recursive: true });
  // A fresh archive and artifact store every run: a re-created source reuses binlog names.
  await rm(work, { recursive: true, force: true });
  const runtime = new DockerodeRuntime();
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `bench-${process.pid}-${Date.now().toString(36)}`;
  const paths = { artifactRoot: path.join(work, 'artifacts'), workRoot: path.join(work, 'drills') };
  const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths } });
  const running = worker.run();
  const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  const shape = workloadShape(size, args.workload);
  const results: Record<string, unknown> = { size: args.size, workload: args.workload, sizeSpec: size, reps: args.reps, startedAt: new Date().toISOString(), flavors: {} };

  try {
    for (const flavor of args.flavors) {
      const name = `bench-src-${flavor}`;
      await rm(path.join(work, flavor), { recursive: true, force: true });
      await mkdir(path.join(work, flavor), { recursive: true });
      const existing = await runtime.inspect(name);
      if (existing) await runtime.remove(name);
      const source = await ensureSampleSource({ runtime, flavor, name, home: path.join(work, 'sources') });
      const admin = <T = Record<string, unknown>>(sql: string) => withSession({ socket: source.socketPath }, { user: 'root' }, (s) => s.query<T>(sql));
      const statusSql = flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
      const status = async (): Promise<BinlogCoordinates> => {
        const [row] = await admin<{ File: string; Position: number }>(statusSql);
        return { file: row.File, position: Number(row.Position) };
      };

      log(`${flavor}: generating ${totalRows(size).toLocaleString('en')} rows (${args.size})`);
      let t = Date.now();
      await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
        for (const sql of datasetSql(size)) await s.query(sql);
      });
      log(`${flavor}: dataset in ${((Date.now() - t) / 1000).toFixed(1)} s`);

      const spec = { ...source.spec, databases: ['bench'] };
      const drill = async (prefix: string, request: Omit<DrillRequestInput, 'source'>) => {
        const handle = await startDrill({ client, taskQueue, workflowId: `bench-${prefix}-${flavor}-${Date.now().toString(36)}`, request: { source: spec, ...request } });
        const { report, failure } = await awaitDrill(handle);
        if (!report) throw new Error(`bench drill ${prefix} failed without a report: ${failure?.message}`);
        return { report, failure };
      };

      // The engine's own backup, before the workload: every candidate restores this dump.
      const first = await drill('backup', { target: { kind: 'checkpoint' }, replayMethod: 'applier' });
      if (first.report.outcome !== 'passed') throw new Error(`the initial drill did not pass: ${JSON.stringify(first.report.failure ?? first.report.checks.filter((c) => !c.passed))}`);
      const manifest = path.join(path.dirname(first.report.backup.artifactPath), 'manifest.json');
      const dump = first.report.backup.artifactPath;
      const start = first.report.backup.coordinates!;
      const dumpBytes = Number((await run('bash', ['-c', `gunzip -c '${dump}' | wc -c`])).stdout.trim());
      log(`${flavor}: backup ${(dumpBytes / 1e6).toFixed(0)} MB uncompressed, taken in ${phase(first.report, 'backup').toFixed(1)} s`);

      // The LOAD DATA baseline's input: tab-separated files of the same snapshot (the source is quiet).
      const tableList = BENCH_TABLES.map((x) => `bench.${x}`).join(', ');
      const truthAtBackup = path.join(work, flavor, 'truth-backup.tsv');
      const checksums = async () => (await admin<{ Table: string; Checksum: string }>(`CHECKSUM TABLE ${tableList}`)).map((r) => `${r.Table}\t${r.Checksum}`).join('\n') + '\n';
      await writeFile(truthAtBackup, await checksums());
      const tabDir = path.join(work, flavor, 'tab');
      const schemaDir = path.join(work, flavor, 'schema');
      await mkdir(tabDir, { recursive: true });
      await mkdir(schemaDir, { recursive: true });
      const dumpTool = flavor === 'mysql' ? 'mysqldump' : 'mariadb-dump';
      await run('docker', ['exec', name, 'bash', '-c', `rm -rf /var/lib/mysql-files/* && ${dumpTool} --user=root --socket=/sock/mysqld.sock --tab=/var/lib/mysql-files --default-character-set=utf8mb4 bench ${BENCH_TABLES.join(' ')}`]);
      await run('docker', ['cp', `${name}:/var/lib/mysql-files/.`, tabDir]);
      await run('bash', ['-c', `cd '${tabDir}' && { echo 'CREATE DATABASE IF NOT EXISTS bench; USE bench;'; cat *.sql; } > '${schemaDir}/schema.sql' && rm -f *.sql`]);
      // The myloader baseline's input: a mydumper directory of the same snapshot, when the tool image exists.
      const mydumperDir = path.join(work, flavor, 'mydumper');
      await mkdir(mydumperDir, { recursive: true });
      const hasMydumper = await run('docker', ['run', '--rm', '--network', 'none', '-v', `${path.dirname(source.socketPath)}:/sock`, '-v', `${mydumperDir}:/out`, MYDUMPER_IMAGE, 'mydumper', '--socket=/sock/mysqld.sock', '--user=root', '--database=bench', '--outputdir=/out', '--threads=2', '--rows=250000']).then(
        () => true,
        (err) => (log(`${flavor}: mydumper failed, the myloader baseline is skipped: ${String(err.stderr ?? err).trim().slice(-300)}`), false),
      );

      t = Date.now();
      await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
        for (const sql of workloadSql(size, args.workload)) await s.query(sql);
      });
      const stop = await status();
      log(`${flavor}: ${args.workload} workload of ${shape.transactions} transactions (${shape.rowEvents} row events) in ${((Date.now() - t) / 1000).toFixed(1)} s, stop ${stop.file}:${stop.position}`);

      // Ground truth at the target, read from the quiesced source.
      const truthRows = await admin<{ Table: string; Checksum: string }>(`CHECKSUM TABLE ${BENCH_TABLES.map((x) => `bench.${x}`).join(', ')}`);
      const truthFile = path.join(work, flavor, 'truth.tsv');
      await writeFile(truthFile, truthRows.map((r) => `${r.Table}\t${r.Checksum}`).join('\n') + '\n');
      const [gtid] = flavor === 'mysql' ? await admin<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g') : await admin<{ g: string }>('SELECT @@GLOBAL.gtid_binlog_pos AS g');
      const binlogDir = path.join(work, flavor, 'binlogs');
      await mkdir(binlogDir, { recursive: true });
      const names = (await run('docker', ['exec', name, 'bash', '-c', 'cd /var/lib/mysql && ls | grep -E "^mysql-bin\\.[0-9]+$"'])).stdout.trim().split('\n');
      for (const n of names.filter((x) => x >= start.file && x <= stop.file)) await run('docker', ['cp', `${name}:/var/lib/mysql/${n}`, path.join(binlogDir, n)]);
      const serverScript = path.join(work, flavor, 'sandbox-server.sh');
      await writeFile(serverScript, serverCommand(flavor, 'sandbox', 4242)[2]);

      const samples: Sample[] = [];
      const engine = async (fast: boolean, rep: number) => {
        const wall = Date.now();
        const methods = fast ? ({ restoreMethod: 'parallel', replayMethod: 'applier' } as const) : ({ restoreMethod: 'client', replayMethod: 'client' } as const);
        const { report } = await drill(`${fast ? 'fast' : 'fallback'}-r${rep}`, { backup: { manifest }, target: { kind: 'checkpoint' }, ...methods });
        const reachedStop = report.recoveryPoint?.coordinates?.file === stop.file && report.recoveryPoint?.coordinates?.position === stop.position;
        const timings: Timings = {
          ready: phase(report, 'sandbox-start'),
          restore: phase(report, 'restore'),
          replay: phase(report, 'replay'),
          checks: phase(report, 'checks'),
          cleanup: phase(report, 'cleanup'),
          restoreSide: 0,
          total: (Date.now() - wall) / 1000,
        };
        timings.restoreSide = timings.ready + timings.restore + timings.replay + timings.checks + timings.cleanup;
        timings.temporalOverhead = report.totalSeconds - report.phases.reduce((sum, p) => sum + p.seconds, 0);
        samples.push({ candidate: fast ? 'engine-fast' : 'engine-fallback', rep, match: report.outcome === 'passed' && reachedStop, timings });
      };
      const script = async (rep: number) => {
        const out = await run('bash', [path.join(BENCH_DIR, 'baseline-drill.sh'), flavor, spec.image!, dump, binlogDir, start.file, String(start.position), stop.file, String(stop.position), truthFile, serverScript], { maxBuffer: 16 << 20 });
        const j = JSON.parse(out.stdout.trim().split('\n').pop()!);
        samples.push({ candidate: 'shell-script', rep, match: j.match === true, timings: { ...j, restoreSide: j.total } });
      };
      const loadData = async (rep: number) => {
        const out = await run('bash', [path.join(BENCH_DIR, 'load-data.sh'), flavor, spec.image!, tabDir, path.join(schemaDir, 'schema.sql'), truthAtBackup, serverScript], { maxBuffer: 16 << 20 });
        const j = JSON.parse(out.stdout.trim().split('\n').pop()!);
        samples.push({ candidate: 'load-data', rep, match: j.match === true, timings: { ready: j.ready, restore: j.restore, replay: NaN, checks: NaN, cleanup: NaN, restoreSide: NaN, total: j.ready + j.restore } });
      };
      const myloader = async (rep: number) => {
        const out = await run('bash', [path.join(BENCH_DIR, 'myloader.sh'), flavor, spec.image!, mydumperDir, truthAtBackup, serverScript, MYDUMPER_IMAGE], { maxBuffer: 16 << 20 });
        const j = JSON.parse(out.stdout.trim().split('\n').pop()!);
        samples.push({ candidate: 'myloader', rep, match: j.match === true, timings: { ready: j.ready, restore: j.restore, replay: NaN, checks: NaN, cleanup: NaN, restoreSide: NaN, total: j.ready + j.restore } });
      };
      // The OLTP workload measures replay: the restore-only baselines are left out of it.
      const candidates = ['engine-fast', 'engine-fallback', 'shell-script', ...(args.workload === 'batch' ? ['load-data', ...(hasMydumper ? ['myloader'] : [])] : [])];
      for (let rep = 1; rep <= args.reps; rep++) {
        // Interleaved, rotating the order each repetition: no candidate always runs on a warm cache.
        for (let k = 0; k < candidates.length; k++) {
          const which = candidates[(k + rep - 1) % candidates.length];
          log(`${flavor}: rep ${rep} ${which}`);
          if (which === 'shell-script') await script(rep);
          else if (which === 'load-data') await loadData(rep);
          else if (which === 'myloader') await myloader(rep);
          else await engine(which === 'engine-fast', rep);
          const s = samples[samples.length - 1];
          log(`${flavor}:   ${s.match ? 'match' : 'MISMATCH (not counted)'} ${Object.entries(s.timings).map(([k2, v]) => `${k2}=${Number(v).toFixed(2)}`).join(' ')}`);
        }
      }

      const counted = (c: string) => samples.filter((s) => s.candidate === c && s.match);
      const med = (c: string, k: keyof Timings) => median(counted(c).map((s) => Number(s.timings[k] ?? NaN)));
      const rows = totalRows(size);
      const summary = {
        dumpBytes,
        rows,
        workload: args.workload,
        transactions: shape.transactions,
        rowEvents: shape.rowEvents,
        start,
        stop,
        gtidAtTarget: gtid?.g,
        backupSeconds: phase(first.report, 'backup'),
        medians: Object.fromEntries(candidates.map((c) => [c, { counted: counted(c).length, ready: med(c, 'ready'), restore: med(c, 'restore'), replay: med(c, 'replay'), checks: med(c, 'checks'), cleanup: med(c, 'cleanup'), restoreSide: med(c, 'restoreSide'), total: med(c, 'total'), temporalOverhead: med(c, 'temporalOverhead') }])),
        samples,
      };
      const m = summary.medians;
      const fast = m['engine-fast'];
      const ratios = {
        replayVsMysqlbinlogClient: m['shell-script'].replay / fast.replay,
        replayVsEngineFallback: m['engine-fallback'].replay / fast.replay,
        restoreVsMysqldumpClient: m['shell-script'].restore / fast.restore,
        restoreVsEngineFallback: m['engine-fallback'].restore / fast.restore,
        restoreVsLoadData: m['load-data'] ? m['load-data'].restore / fast.restore : NaN,
        restoreVsMyloader: m.myloader ? m.myloader.restore / fast.restore : NaN,
        drillVsShellScript: fast.restoreSide / m['shell-script'].total,
        wholeDrillVsShellScript: fast.total / m['shell-script'].total,
        sandboxReadySeconds: fast.ready,
        restoreMBps: dumpBytes / 1e6 / fast.restore,
        restoreRowsPerSecond: rows / fast.restore,
        loadDataMBps: m['load-data'] ? dumpBytes / 1e6 / m['load-data'].restore : NaN,
        replayTransactionsPerSecond: shape.transactions / fast.replay,
        mysqlbinlogClientTransactionsPerSecond: shape.transactions / m['shell-script'].replay,
      };
      (results.flavors as Record<string, unknown>)[flavor] = { ...summary, ratios };
      await writeFile(path.join(resultsDir, 'partial.json'), JSON.stringify(results, null, 2));
      await runtime.remove(name);
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
  }

  results.finishedAt = new Date().toISOString();
  const stamp = `${args.size}-${args.workload}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  const jsonPath = path.join(resultsDir, `bench-${stamp}.json`);
  await writeFile(jsonPath, JSON.stringify(results, null, 2));
  await writeFile(path.join(resultsDir, 'latest.json'), JSON.stringify(results, null, 2));
  const svg = renderSvg(results as never);
  const svgPath = path.join(resultsDir, 'latest.svg');
  await writeFile(svgPath, svg);
  const png = await run('rsvg-convert', ['-o', path.join(resultsDir, 'latest.png'), svgPath]).then(() => 'latest.png', () => 'latest.svg (install librsvg2-bin for a PNG)');
  printTable(results);
  process.stdout.write(`\nresults: ${jsonPath}\nplot: bench/results/${png}\n`);
}

function printTable(results: Record<string, unknown>): void {
  const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const lines = [
    '',
    '| flavor | replay vs mysqlbinlog\\|client (≥5x) | restore vs mysqldump\\|client (≥2x) | restore vs LOAD DATA (≥0.85x) | restore vs myloader (≥1.1x) | restore side of drill / shell script (≤0.5) | whole drill / shell script | sandbox ready s (<2) | restore MB/s, rows/s | replay tx/s fast / mysqlbinlog | Temporal overhead s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [flavor, f] of Object.entries(results.flavors as Record<string, { ratios: Record<string, number>; medians: Record<string, Record<string, number>> }>)) {
    const r = f.ratios;
    lines.push(
      `| ${flavor} | ${fmt(r.replayVsMysqlbinlogClient, 1)}x | ${fmt(r.restoreVsMysqldumpClient)}x | ${fmt(r.restoreVsLoadData)}x | ${fmt(r.restoreVsMyloader)} | ${fmt(r.drillVsShellScript)} | ${fmt(r.wholeDrillVsShellScript)} | ${fmt(r.sandboxReadySeconds)} | ${fmt(r.restoreMBps, 1)}, ${fmt(r.restoreRowsPerSecond, 0)} | ${fmt(r.replayTransactionsPerSecond, 0)} / ${fmt(r.mysqlbinlogClientTransactionsPerSecond, 0)} | ${fmt(f.medians['engine-fast'].temporalOverhead)} |`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
