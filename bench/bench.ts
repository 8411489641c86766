/**
 * The benchmark: one command (`bash bench/run.sh`) builds a deterministic dataset in a source
 * container, takes the engine's backup, writes a fixed workload after it, records the ground
 * truth, then interleaves candidates for N repetitions on the same data and machine:
 *   engine-fast      the drill (its Temporal worker in a process of its own, bench/drill-worker-process.ts,
 *                    or in this one with --worker inline): parallel load, applier replay
 *   engine-fallback  the same drill: one gunzip | client, mysqlbinlog | client
 *   engine-physical  the drill from a physical backup of the same snapshot (mariabackup, MySQL clone)
 *   engine-team-dump the drill of a team's mysqldump | gzip of the same snapshot, where it lies
 *   shell-script     bench/baseline-drill.sh: docker run, gunzip | client, mysqlbinlog | client, CHECKSUM TABLE
 *   load-data        bench/load-data.sh: LOAD DATA of tab-separated files, 2 sessions (restore only)
 *   myloader         bench/myloader.sh: myloader -t 2 of a mydumper directory (restore only)
 * then two series of engine-fast drills: several drills at once on the one worker, and drill
 * time against data size and binlog volume. A run whose restored data does not match the
 * ground truth does not count. Prints a table of ratios (medians) and writes JSON and a plot
 * to bench/results/. Never part of CI gating.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { execFile, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DockerodeRuntime } from '../adapters/docker';
import { withSession } from '../adapters/mysql';
import { awaitDrill, startDrill } from '../client/drills';
import type { DrillRequestInput, SourceSpec } from '../config/schema';
import { sandboxBufferPoolMb, serverCommand } from '../domain/flavors';
import type { DrillReport } from '../domain/report/report';
import type { BinlogCoordinates, Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { createDrillWorker } from '../workers/drill-worker';
import { BENCH_TABLES, SIZES, datasetSql, scaledSize, totalRows, workloadShape, workloadSql } from './dataset';
import type { BenchSize, WorkloadKind } from './dataset';
import { CpuSampler } from './cpu';
import { checkPartsOf, drillTimeline, restorePhasesOf } from './history';
import { renderSvg, svgToPng } from './plot';
import { candidateMedians, concurrencySeries, growthPoint, ratiosOf, renderTable } from './summary';
import type { ConcurrencySample, FlavorResult, GrowthPoint, Sample, Timings } from './summary';

const run = promisify(execFile);
const MYDUMPER_IMAGE = 'restore-drill/bench-mydumper:10.11';
/** bench/ in the checkout: run.sh starts this from the repository root. */
const BENCH_DIR = path.resolve(process.env.BENCH_DIR ?? path.join(process.cwd(), 'bench'));
/** The growth series: fractions of the chosen data size and of the workload (1 is the main run). */
const GROWTH_FACTORS = [0.25, 0.5] as const;

const USAGE =
  'usage: bench/run.sh [--size smoke|ci|1g] [--workload batch|oltp] [--flavor mariadb|mysql|both] [--reps N] [--concurrency 1,2,4|none] [--growth on|off] [--physical on|off] [--fallback on|off] [--worker process|inline] [--save NAME]';

interface Args {
  size: BenchSize;
  workload: WorkloadKind;
  flavors: Flavor[];
  reps: number;
  /** Drills started together in the concurrency series; empty: no series. */
  concurrency: number[];
  growth: boolean;
  /** The engine-physical candidate (a physical backup of the same snapshot). */
  physical: boolean;
  /** The engine-fallback candidate (the engine's own slow paths: 2x the time of the others at 1 GB). */
  fallback: boolean;
  /**
   * Where the engine's drill worker runs: `process`, a process of its own, as on a worker host
   * (default; the drill worker alone, without the host's placement); `inline`, in the bench's own process, whose heap also holds the whole run's
   * state (every earlier result was measured so, until 2026-12-07).
   */
  worker: 'process' | 'inline';
  /** Also write bench/results/NAME.{json,png}: the outputs meant to be committed. */
  save?: string;
}

function parseArgs(argv: string[]): Args {
  const envSize = process.env.BENCH_SIZE;
  const args: Args = { size: envSize === 'smoke' || envSize === '1g' ? envSize : 'ci', workload: 'batch', flavors: ['mariadb', 'mysql'], reps: 3, concurrency: [1, 2, 4], growth: true, physical: true, fallback: true, worker: 'process' };
  for (let i = 0; i < argv.length; i++) {
    const [key, value] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], argv[++i]];
    if (key === '--size' && (value === 'smoke' || value === 'ci' || value === '1g')) args.size = value;
    else if (key === '--flavor' && (value === 'mariadb' || value === 'mysql')) args.flavors = [value];
    else if (key === '--flavor' && value === 'both') args.flavors = ['mariadb', 'mysql'];
    else if (key === '--reps' && Number.isInteger(Number(value)) && Number(value) >= 1) args.reps = Number(value);
    else if (key === '--workload' && (value === 'batch' || value === 'oltp')) args.workload = value;
    else if (key === '--concurrency' && value === 'none') args.concurrency = [];
    else if (key === '--concurrency' && /^\d+(,\d+)*$/.test(value ?? '') && value.split(',').every((n) => Number(n) >= 1)) args.concurrency = [...new Set(value.split(',').map(Number))].sort((a, b) => a - b);
    else if (key === '--growth' && (value === 'on' || value === 'off')) args.growth = value === 'on';
    else if (key === '--physical' && (value === 'on' || value === 'off')) args.physical = value === 'on';
    else if (key === '--fallback' && (value === 'on' || value === 'off')) args.fallback = value === 'on';
    else if (key === '--worker' && (value === 'process' || value === 'inline')) args.worker = value;
    else if (key === '--save' && /^[a-z0-9][a-z0-9-]*$/.test(value ?? '')) args.save = value;
    else throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
  }
  // A smoke run proves the harness end to end: one repetition unless asked for more.
  if (args.size === 'smoke' && !argv.some((a) => a.startsWith('--reps'))) args.reps = 1;
  return args;
}

function phase(report: DrillReport, name: string): number {
  return report.phases.filter((p) => p.phase === name && p.outcome === 'ok').reduce((sum, p) => sum + p.seconds, 0);
}

const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const describeTimings = (t: Timings) =>
  Object.entries(t)
    .map(([k, v]) => (typeof v === 'number' ? `${k}=${v.toFixed(2)}` : Object.keys(v ?? {}).length ? `${k}=${JSON.stringify(v)}` : ''))
    .filter(Boolean)
    .join(' ');

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
  // One worker for every drill, the concurrent ones included.
  const drillWorker = args.worker === 'process' ? await startWorkerProcess({ address, taskQueue, ...paths }) : await startInlineWorker(native, taskQueue, runtime, paths);
  const shape = workloadShape(size, args.workload);
  const results: Record<string, unknown> & { flavors: Record<string, unknown> } = {
    size: args.size,
    workload: args.workload,
    sizeSpec: size,
    reps: args.reps,
    concurrencyLevels: args.concurrency,
    growthFactors: args.growth ? [...GROWTH_FACTORS, 1] : [],
    worker: args.worker,
    startedAt: new Date().toISOString(),
    flavors: {},
  };
  let drillSeq = 0;
  const cpu = new CpuSampler(250, drillWorker.pid);
  cpu.start();
  /** Source containers this run created: removed at the end, also when a step fails. */
  const sources: string[] = [];

  try {
    for (const flavor of args.flavors) {
      // Per run: a source name is also its drill lock and archive, and two benchmarks on one machine must not share them.
      const name = `bench-src-${flavor}-${process.pid}`;
      await rm(path.join(work, flavor), { recursive: true, force: true });
      await mkdir(path.join(work, flavor), { recursive: true });
      sources.push(name);
      // Physical-ready: MariaDB's datadir in a host folder mariabackup reads, MySQL's clone plugin.
      const source = await ensureSampleSource({ runtime, flavor, name, home: path.join(work, 'sources'), physical: args.physical });
      const session = <T>(fn: (s: { query: <R = Record<string, unknown>>(sql: string) => Promise<R[]> }) => Promise<T>) => withSession({ socket: source.socketPath }, { user: 'root' }, fn);
      const admin = <T = Record<string, unknown>>(sql: string) => session((s) => s.query<T>(sql));
      const runSql = (statements: string[]) => session(async (s) => void (await statements.reduce((p, sql) => p.then(() => s.query(sql).then(() => undefined)), Promise.resolve())));
      const statusSql = flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
      const status = async (): Promise<BinlogCoordinates> => {
        const [row] = await admin<{ File: string; Position: number }>(statusSql);
        return { file: row.File, position: Number(row.Position) };
      };
      const tableList = BENCH_TABLES.map((x) => `bench.${x}`).join(', ');
      const checksums = async () => (await admin<{ Table: string; Checksum: string }>(`CHECKSUM TABLE ${tableList}`)).map((r) => `${r.Table}\t${r.Checksum}`).join('\n') + '\n';
      const gtidNow = async () => (await admin<{ g: string }>(flavor === 'mysql' ? 'SELECT @@GLOBAL.gtid_executed AS g' : 'SELECT @@GLOBAL.gtid_binlog_pos AS g'))[0]?.g;
      /** The ground truth at the source's current (quiet) point: checksums, GTID, binlog position. */
      const groundTruth = async () => ({ checksums: await checksums(), gtid: await gtidNow(), position: await status() });
      const spec = { ...source.spec, databases: ['bench'] };

      const drill = async (label: string, request: Omit<DrillRequestInput, 'source'>, sourceSpec: SourceSpec = spec) => {
        const handle = await startDrill({ client, taskQueue, workflowId: `bench-${label}-${flavor}-${process.pid}-${(drillSeq++).toString(36)}-${Date.now().toString(36)}`, request: { source: sourceSpec, ...request } });
        const { report, failure } = await awaitDrill(handle);
        if (!report) throw new Error(`bench drill ${label} failed without a report: ${failure?.message}`);
        return { report, timeline: drillTimeline(await handle.fetchHistory()) };
      };
      /** An engine drill to the checkpoint; it counts only if it passed and stopped at `stop`. */
      const engineSample = async (candidate: string, rep: number, request: Omit<DrillRequestInput, 'source'>, stop: BinlogCoordinates, sourceSpec?: SourceSpec): Promise<Sample> => {
        const wall = Date.now();
        const { report, timeline } = await drill(`${candidate}-r${rep}`, { target: { kind: 'checkpoint' }, ...request }, sourceSpec);
        const reachedStop = report.recoveryPoint?.coordinates?.file === stop.file && report.recoveryPoint?.coordinates?.position === stop.position;
        const timings: Timings = {
          ready: phase(report, 'sandbox-start'),
          restore: phase(report, 'restore'),
          replay: phase(report, 'replay'),
          checks: phase(report, 'checks'),
          cleanup: phase(report, 'cleanup'),
          restoreSide: 0,
          total: (Date.now() - wall) / 1000,
          rto: report.rtoSeconds,
          temporalOverhead: timeline.overheadSeconds,
          restoreParts: restorePhasesOf(timeline),
          checkParts: checkPartsOf(timeline),
        };
        // The restore's CPU: the sandbox server's and the drill worker's (the restore's reader and converter, and whatever else the worker ran meanwhile).
        const restoreSpan = timeline.spans.filter((s) => s.activity === 'restoreLogicalDump' && s.outcome === 'completed').pop();
        if (restoreSpan) {
          const used = cpu.between(restoreSpan.startMs, restoreSpan.endMs, (n) => n.startsWith('rd-sandbox-'));
          timings.restoreCpu = { server: used.server, worker: used.worker };
        }
        timings.restoreSide = timings.ready + timings.restore + timings.replay + timings.checks + timings.cleanup;
        timings.other = Math.max(0, timeline.wallSeconds - timings.restoreSide - timeline.overheadSeconds);
        const sideline = ['sandbox-start', 'restore', 'replay', 'checks', 'cleanup'];
        timings.otherPhases = Object.fromEntries(report.phases.filter((p) => !sideline.includes(p.phase)).map((p) => [p.phase, p.seconds]));
        if (report.outcome !== 'passed') log(`${flavor}:   ${candidate} failed: ${JSON.stringify(report.failure ?? report.checks.filter((c) => !c.passed)).slice(0, 600)}`);
        return { candidate, rep, match: report.outcome === 'passed' && reachedStop, timings };
      };
      const takeBackup = async (label: string, extra: Omit<DrillRequestInput, 'source' | 'target'> = {}) => {
        // Untimed preparation: the backups' own drills compare with CHECKSUM TABLE (the faster check).
        const { report } = await drill(label, { target: { kind: 'checkpoint' }, replayMethod: 'applier', checksum: 'server', ...extra });
        if (report.outcome !== 'passed') throw new Error(`the ${label} drill did not pass: ${JSON.stringify(report.failure ?? report.checks.filter((c) => !c.passed))}`);
        const dumpBytes = extra.backup?.method === 'physical' ? NaN : Number((await run('bash', ['-c', `gunzip -c '${report.backup.artifactPath}' | wc -c`])).stdout.trim());
        return { report, manifest: path.join(path.dirname(report.backup.artifactPath), 'manifest.json'), dump: report.backup.artifactPath, start: report.backup.coordinates!, dumpBytes };
      };
      // The shell script compares with CHECKSUM TABLE: the engine's fast drill does the same (checks.checksum: server).
      const fastMethods = { restoreMethod: 'parallel', replayMethod: 'applier', checksum: 'server' } as const;
      const fastSamples = async (what: string, manifest: string, stop: BinlogCoordinates): Promise<Sample[]> => {
        const out: Sample[] = [];
        for (let rep = 1; rep <= args.reps; rep++) {
          out.push(await engineSample('engine-fast', rep, { backup: { manifest }, ...fastMethods }, stop));
          log(`${flavor}: ${what} rep ${rep}: ${out[out.length - 1].match ? 'match' : 'MISMATCH (not counted)'} ${describeTimings(out[out.length - 1].timings)}`);
        }
        return out;
      };

      // Growth with data size: the same dataset at fractions of its rows, the same workload after its backup.
      const dataSize: GrowthPoint[] = [];
      if (args.growth) {
        for (const factor of GROWTH_FACTORS) {
          const scaled = scaledSize(size, factor);
          log(`${flavor}: growth: dataset at ${factor}x (${totalRows(scaled).toLocaleString('en')} rows)`);
          await runSql([...datasetSql(scaled), 'FLUSH BINARY LOGS']);
          const b = await takeBackup(`growth-backup-${factor}`);
          await runSql(workloadSql(scaled, args.workload));
          const truth = await groundTruth();
          const samples = await fastSamples(`growth data ${factor}x`, b.manifest, truth.position);
          dataSize.push(growthPoint({ factor, rows: totalRows(scaled), dumpBytes: b.dumpBytes, transactions: shape.transactions, rowEvents: shape.rowEvents }, samples));
        }
      }

      log(`${flavor}: generating ${totalRows(size).toLocaleString('en')} rows (${args.size})`);
      let t = Date.now();
      // The backup then starts in a fresh binlog: archives copy the workload, not the dataset's inserts.
      await runSql([...datasetSql(size), 'FLUSH BINARY LOGS']);
      log(`${flavor}: dataset in ${((Date.now() - t) / 1000).toFixed(1)} s`);

      // The engine's own backup, before the workload: every candidate restores this dump.
      const backup = await takeBackup('backup');
      const { manifest, dump, start, dumpBytes } = backup;
      log(`${flavor}: backup ${(dumpBytes / 1e6).toFixed(0)} MB uncompressed, taken in ${phase(backup.report, 'backup').toFixed(1)} s`);
      // A physical backup of the same snapshot (the source is quiet): engine-physical restores it.
      const physical = args.physical ? await takeBackup('physical-backup', { backup: { method: 'physical' } }) : undefined;
      if (physical) log(`${flavor}: physical backup ${(physical.report.backup.bytes / 1e6).toFixed(0)} MB compressed, taken in ${phase(physical.report, 'backup').toFixed(1)} s`);

      // The LOAD DATA baseline's input: tab-separated files of the same snapshot (the source is quiet).
      const truthAtBackup = path.join(work, flavor, 'truth-backup.tsv');
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

      // A team's own dump of the same snapshot, as a cron job writes it: engine-team-dump drills it
      // where it lies (door checks, then the same parallel restore, replay and checks as engine-fast).
      const teamDir = path.join(work, flavor, 'team');
      await mkdir(teamDir, { recursive: true });
      const sourceData = flavor === 'mysql' ? '--source-data=2' : '--master-data=2';
      await run('bash', ['-c', `set -o pipefail; docker exec ${name} ${dumpTool} --user=root --socket=/sock/mysqld.sock --single-transaction ${sourceData} --routines --triggers --events --hex-blob --databases bench | gzip > '${teamDir}/bench-team.sql.gz'`]);

      // The workload, in parts: the binlog-volume series drills at each intermediate point.
      const binlogVolume: GrowthPoint[] = [];
      let done = 0;
      t = Date.now();
      for (const factor of args.growth ? GROWTH_FACTORS : []) {
        const upto = Math.round(shape.transactions * factor);
        await runSql(workloadSql(size, args.workload, done, upto));
        done = upto;
        const truth = await groundTruth();
        log(`${flavor}: growth: workload at ${factor}x (${upto} transactions), stop ${truth.position.file}:${truth.position.position}`);
        const samples = await fastSamples(`growth binlog ${factor}x`, manifest, truth.position);
        binlogVolume.push(growthPoint({ factor, rows: totalRows(size), dumpBytes, transactions: upto, rowEvents: Math.round((shape.rowEvents * upto) / shape.transactions) }, samples));
      }
      await runSql(workloadSql(size, args.workload, done, shape.transactions));
      const truth = await groundTruth();
      const stop = truth.position;
      log(`${flavor}: ${args.workload} workload of ${shape.transactions} transactions (${shape.rowEvents} row events), stop ${stop.file}:${stop.position}`);

      // Ground truth at the target, read from the quiesced source, for the shell script.
      const truthFile = path.join(work, flavor, 'truth.tsv');
      await writeFile(truthFile, truth.checksums);
      const binlogDir = path.join(work, flavor, 'binlogs');
      await mkdir(binlogDir, { recursive: true });
      const names = (await run('docker', ['exec', name, 'bash', '-c', 'cd /var/lib/mysql && ls | grep -E "^mysql-bin\\.[0-9]+$"'])).stdout.trim().split('\n');
      for (const n of names.filter((x) => x >= start.file && x <= stop.file)) await run('docker', ['cp', `${name}:/var/lib/mysql/${n}`, path.join(binlogDir, n)]);
      const serverScript = path.join(work, flavor, 'sandbox-server.sh');
      // The baselines' servers get the buffer pool the engine gives its sandboxes for this source.
      const [sourceSize] = await admin<{ bytes: string | number | null }>("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench'");
      const bufferPoolMb = sandboxBufferPoolMb({ sourceDataBytes: Number(sourceSize?.bytes ?? 0), artifactBytes: backup.report.backup.bytes, hostMemoryBytes: os.totalmem() });
      log(`${flavor}: sandbox buffer pool ${bufferPoolMb} MiB (source data and indexes ${(Number(sourceSize?.bytes ?? 0) / 1e6).toFixed(0)} MB, artifact ${(backup.report.backup.bytes / 1e6).toFixed(0)} MB)`);
      await writeFile(serverScript, serverCommand(flavor, 'sandbox', 4242, { bufferPoolMb })[2]);

      const baseline = async (candidate: string, rep: number, script: string, scriptArgs: string[], restoreOnly: boolean): Promise<Sample> => {
        const began = Date.now();
        const out = await run('bash', [path.join(BENCH_DIR, script), flavor, spec.image!, ...scriptArgs], { maxBuffer: 16 << 20 });
        const j = JSON.parse(out.stdout.trim().split('\n').pop()!);
        const timings: Timings = restoreOnly ? { ready: j.ready, restore: j.restore, replay: NaN, checks: NaN, cleanup: NaN, restoreSide: NaN, total: j.ready + j.restore } : { ...j, restoreSide: j.total };
        if (restoreOnly) {
          // The whole baseline run (its server's start and final checksums included): its server's container, and its tool's (myloader) as the client.
          const used = cpu.between(began, Date.now(), (n) => n.startsWith(`bench-${candidate.replace('-', '')}-`), (n) => !n.startsWith('bench-') && !n.startsWith('rd-'));
          timings.restoreCpu = { server: used.server, client: used.other };
        }
        return { candidate, rep, match: j.match === true, timings };
      };
      const runners: Record<string, (rep: number) => Promise<Sample>> = {
        'engine-fast': (rep) => engineSample('engine-fast', rep, { backup: { manifest }, ...fastMethods }, stop),
        ...(args.fallback ? { 'engine-fallback': (rep: number) => engineSample('engine-fallback', rep, { backup: { manifest }, restoreMethod: 'client', replayMethod: 'client' }, stop) } : {}),
        // The same replay and checks as engine-fast: only the backup and restore differ.
        ...(physical ? { 'engine-physical': (rep: number) => engineSample('engine-physical', rep, { backup: { manifest: physical.manifest }, replayMethod: fastMethods.replayMethod, checksum: fastMethods.checksum }, stop) } : {}),
        'engine-team-dump': (rep) => engineSample('engine-team-dump', rep, { backup: { method: 'logical', team: { location: `${teamDir}/`, pick: { key: 'bench-team.sql.gz' }, randomWithinDays: 7, minSizeRatio: 0.5 } }, ...fastMethods }, stop),
        'shell-script': (rep) => baseline('shell-script', rep, 'baseline-drill.sh', [dump, binlogDir, start.file, String(start.position), stop.file, String(stop.position), truthFile, serverScript, name], false),
        // The OLTP workload measures replay: the restore-only baselines are left out of it.
        ...(args.workload === 'batch'
          ? {
              'load-data': (rep: number) => baseline('load-data', rep, 'load-data.sh', [tabDir, path.join(schemaDir, 'schema.sql'), truthAtBackup, serverScript], true),
              ...(hasMydumper ? { myloader: (rep: number) => baseline('myloader', rep, 'myloader.sh', [mydumperDir, truthAtBackup, serverScript, MYDUMPER_IMAGE], true) } : {}),
            }
          : {}),
      };
      const candidates = Object.keys(runners);
      const samples: Sample[] = [];
      for (let rep = 1; rep <= args.reps; rep++) {
        // Interleaved, rotating the order each repetition: no candidate always runs on a warm cache.
        for (let k = 0; k < candidates.length; k++) {
          const which = candidates[(k + rep - 1) % candidates.length];
          log(`${flavor}: rep ${rep} ${which}`);
          const s = await runners[which](rep);
          samples.push(s);
          log(`${flavor}:   ${s.match ? 'match' : 'MISMATCH (not counted)'} ${describeTimings(s.timings)}`);
        }
      }

      // Several drills at once on the one worker: the same backup under distinct source names
      // (a source runs one drill at a time), levels rotated each repetition.
      const concurrencySamples: ConcurrencySample[] = [];
      const concurrentDrill = (label: string, rep: number, i: number) => engineSample(label, rep, { backup: { manifest }, ...fastMethods }, stop, { ...spec, name: `${spec.name}-c${i + 1}` });
      if (args.concurrency.length) {
        // Untimed: fills each source name's binlog archive once, as the continuous archiver
        // would have; the timed drills then find it warm like engine-fast's.
        const most = args.concurrency[args.concurrency.length - 1];
        log(`${flavor}: warm-up: ${most} drills at once (archives the binlogs of each source name; not counted)`);
        await Promise.all(Array.from({ length: most }, (_, i) => concurrentDrill(`warmup-${i + 1}`, 0, i)));
      }
      for (let rep = 1; rep <= (args.concurrency.length ? args.reps : 0); rep++) {
        for (let k = 0; k < args.concurrency.length; k++) {
          const drills = args.concurrency[(k + rep - 1) % args.concurrency.length];
          const wall = Date.now();
          const batch = await Promise.all(Array.from({ length: drills }, (_, i) => concurrentDrill(`concurrent-${drills}x${i + 1}`, rep, i)));
          const c: ConcurrencySample = { drills, rep, wallSeconds: (Date.now() - wall) / 1000, match: batch.every((s) => s.match), drillSeconds: batch.map((s) => s.timings.total), rtoSeconds: batch.map((s) => s.timings.rto ?? NaN) };
          concurrencySamples.push(c);
          log(`${flavor}: rep ${rep} ${drills} drills at once: ${c.match ? 'all match' : 'MISMATCH (not counted)'} wall=${c.wallSeconds.toFixed(2)} rto=${c.rtoSeconds.map((x) => x.toFixed(1)).join('/')}`);
        }
      }

      const medians = Object.fromEntries(candidates.map((c) => [c, candidateMedians(samples, c)]));
      const rows = totalRows(size);
      const fastFull = medians['engine-fast'];
      const growth = args.growth
        ? {
            dataSize: [...dataSize, { factor: 1, rows, dumpBytes, transactions: shape.transactions, rowEvents: shape.rowEvents, counted: fastFull.counted, drillSeconds: fastFull.total, rtoSeconds: fastFull.rto, restoreSeconds: fastFull.restore, replaySeconds: fastFull.replay }],
            binlogVolume: [...binlogVolume, { factor: 1, rows, dumpBytes, transactions: shape.transactions, rowEvents: shape.rowEvents, counted: fastFull.counted, drillSeconds: fastFull.total, rtoSeconds: fastFull.rto, restoreSeconds: fastFull.restore, replaySeconds: fastFull.replay }],
          }
        : undefined;
      const flavorResult: FlavorResult & Record<string, unknown> = {
        dumpBytes,
        rows,
        workload: args.workload,
        transactions: shape.transactions,
        rowEvents: shape.rowEvents,
        start,
        stop,
        gtidAtTarget: truth.gtid,
        checksumsAtTarget: truth.checksums,
        backupSeconds: phase(backup.report, 'backup'),
        physicalBackup: physical ? { bytes: physical.report.backup.bytes, seconds: phase(physical.report, 'backup'), manifest: physical.manifest } : undefined,
        medians,
        ratios: ratiosOf(medians, { dumpBytes, rows, transactions: shape.transactions }),
        concurrency: concurrencySeries(concurrencySamples),
        growth,
        samples,
        concurrencySamples,
      };
      results.flavors[flavor] = flavorResult;
      await writeFile(path.join(resultsDir, 'partial.json'), JSON.stringify(results, null, 2));
      await runtime.remove(name);
    }
  } finally {
    cpu.stop();
    for (const name of sources) await runtime.remove(name).catch((err) => log(`source ${name} not removed: ${err}`));
    await drillWorker.stop();
    await connection.close();
    await native.close();
  }

  results.finishedAt = new Date().toISOString();
  const stamp = `${args.size}-${args.workload}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  const outputs = [`bench-${stamp}`, 'latest', ...(args.save ? [args.save] : [])];
  const svgPath = path.join(resultsDir, 'latest.svg');
  await writeFile(svgPath, renderSvg(results as never));
  const hasPng = svgToPng(svgPath, path.join(resultsDir, 'latest.png'));
  for (const out of outputs) await writeFile(path.join(resultsDir, `${out}.json`), JSON.stringify(results, null, 2));
  if (hasPng && args.save) await run('cp', [path.join(resultsDir, 'latest.png'), path.join(resultsDir, `${args.save}.png`)]);
  await rm(path.join(resultsDir, 'partial.json'), { force: true });
  process.stdout.write(renderTable(results.flavors as Record<string, FlavorResult>));
  process.stdout.write(`\nresults: bench/results/${outputs[0]}.json${args.save ? `, bench/results/${args.save}.json` : ''}\nplot: bench/results/${hasPng ? `latest.png${args.save ? `, bench/results/${args.save}.png` : ''}` : 'latest.svg (install librsvg2-bin for a PNG)'}\n`);
}

interface DrillWorkerHandle {
  /** The worker's process when it runs in its own; absent: this one. */
  pid?: number;
  stop(): Promise<void>;
}

async function startInlineWorker(native: NativeConnection, taskQueue: string, runtime: DockerodeRuntime, paths: { artifactRoot: string; workRoot: string }): Promise<DrillWorkerHandle> {
  const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths } });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/** bench/drill-worker-process.ts in a child process; resolves once it polls its task queue. */
async function startWorkerProcess(opts: { address: string; taskQueue: string; artifactRoot: string; workRoot: string }): Promise<DrillWorkerHandle> {
  // BENCH_WORKER_NODE_ARGS: node options for the worker alone, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS).
  const execArgv = [...process.execArgv, ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child: ChildProcess = fork(path.join(__dirname, 'drill-worker-process.js'), [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`the bench's worker process said ${String(m)}`))));
    void exited.then(() => reject(new Error(`the bench's worker process exited with ${child.exitCode ?? child.signalCode} before polling`)));
  });
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});

