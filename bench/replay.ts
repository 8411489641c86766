/**
 * Replay at incident scale (docs/performance.md, "Replay at incident scale"): a sample source
 * with several sysbench-shaped tables (secondary index on k), the engine's backup, then many
 * small OLTP transactions from several client sessions (oltp_write_only's shape: an indexed
 * UPDATE, a non-indexed UPDATE, a DELETE and an INSERT of one row, one table per transaction)
 * until the binlogs hold --mb MB of ROW events. Then, candidates interleaved per repetition,
 * drills from that backup to the source's (quiet) checkpoint: the applier with each worker count
 * asked for, and `mysqlbinlog | mysql` (the engine's client replay). A sample counts only if the
 * drill passed (its tables' checksums equal the source's) and stopped at the source's position.
 * Prints replay transactions/s beside the source's own commit rate and the ratio against
 * `mysqlbinlog | mysql`; writes bench/results/replay-latest.json, and with --save NAME also
 * NAME.{json,png}. Not part of CI.
 *   npx tsc -p bench/tsconfig.json && node dist/bench-build/bench/replay.js [--flavor mariadb|mysql|both] [--mb 64] [--workers 0,1,2,4] [--reps 1] [--save NAME]
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DockerodeRuntime } from '../adapters/docker';
import { awaitDrill, startDrill } from '../client/drills';
import type { DrillRequestInput } from '../config/schema';
import type { DrillReport } from '../domain/report/report';
import type { BinlogCoordinates, Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { createDrillWorker } from '../workers/drill-worker';
import { drillTimeline } from './history';
import { barChart, svgToPng } from './plot';

const USAGE = 'usage: node dist/bench-build/bench/replay.js [--flavor mariadb|mysql|both] [--mb N] [--workers 0,1,2,4] [--client on|off] [--reps N] [--clients N] [--tables N] [--rows N] [--save NAME]';

interface Args {
  flavors: Flavor[];
  /** ROW binlog megabytes the workload writes after the backup. */
  mb: number;
  /** Applier worker counts to drill with (0: one SQL thread). */
  workers: number[];
  /** The `mysqlbinlog | mysql` candidate (the engine's client replay). */
  client: boolean;
  reps: number;
  /** Client sessions writing the workload at once. */
  clients: number;
  tables: number;
  rows: number;
  save?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { flavors: ['mariadb', 'mysql'], mb: 64, workers: [0, 1, 2, 4], client: true, reps: 1, clients: 4, tables: 4, rows: 10_000 };
  const positive = (v: string | undefined) => Number.isInteger(Number(v)) && Number(v) >= 1;
  for (let i = 0; i < argv.length; i++) {
    const [key, value] = argv[i].includes('=') ? argv[i].split('=', 2) : [argv[i], argv[++i]];
    if (key === '--flavor' && (value === 'mariadb' || value === 'mysql')) args.flavors = [value];
    else if (key === '--flavor' && value === 'both') args.flavors = ['mariadb', 'mysql'];
    else if (key === '--mb' && positive(value)) args.mb = Number(value);
    else if (key === '--workers' && /^\d+(,\d+)*$/.test(value ?? '')) args.workers = [...new Set(value.split(',').map(Number))];
    else if (key === '--workers' && value === 'none') args.workers = [];
    else if (key === '--client' && (value === 'on' || value === 'off')) args.client = value === 'on';
    else if (key === '--reps' && positive(value)) args.reps = Number(value);
    else if (key === '--clients' && positive(value)) args.clients = Number(value);
    else if (key === '--tables' && positive(value)) args.tables = Number(value);
    else if (key === '--rows' && positive(value)) args.rows = Number(value);
    else if (key === '--save' && /^[a-z0-9][a-z0-9-]*$/.test(value ?? '')) args.save = value;
    else throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
  }
  return args;
}

const log = (msg: string) => process.stdout.write(`[replay-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** A small deterministic generator (mulberry32): the same seed writes the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** sysbench's c and pad: groups of 11 digits joined by dashes (only digits and dashes: safe inline). */
function digits(next: () => number, groups: number): string {
  return Array.from({ length: groups }, () => String(Math.floor(next() * 1e11)).padStart(11, '0')).join('-');
}

function schemaSql(tables: number, rows: number): string[] {
  if (rows > 1_000_000) throw new Error(`--rows ${rows}: at most 1,000,000 rows per table`);
  const n = '(1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d)';
  const out = ['DROP DATABASE IF EXISTS oltp', 'CREATE DATABASE oltp', 'CREATE TABLE oltp.digits (d INT PRIMARY KEY)', `INSERT INTO oltp.digits VALUES ${Array.from({ length: 10 }, (_, i) => `(${i})`).join(',')}`];
  for (let t = 1; t <= tables; t++) {
    out.push(`CREATE TABLE oltp.sbtest${t} (id INT NOT NULL PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_${t} (k))`);
    // Deterministic rows 1..rows (no RAND()).
    out.push(
      `INSERT INTO oltp.sbtest${t} (id, k, c, pad) SELECT ${n}, (${n} * 7919) % ${rows} + 1, RPAD(CONCAT(${n} * ${t}, '-'), 119, '0123456789-'), RPAD(CONCAT(${n}, '-'), 59, '9876543210-') FROM oltp.digits a, oltp.digits b, oltp.digits c, oltp.digits e, oltp.digits f, oltp.digits g WHERE ${n} <= ${rows}`,
    );
  }
  out.push('DROP TABLE oltp.digits');
  return out;
}

/** One oltp_write_only transaction on one table, as a single multi-statement round trip. */
function transactionSql(next: () => number, tables: number, rows: number): string {
  const t = 1 + Math.floor(next() * tables);
  const id = () => 1 + Math.floor(next() * rows);
  const del = id();
  return [
    'BEGIN',
    `UPDATE oltp.sbtest${t} SET k = k + 1 WHERE id = ${id()}`,
    `UPDATE oltp.sbtest${t} SET c = '${digits(next, 10)}' WHERE id = ${id()}`,
    `DELETE FROM oltp.sbtest${t} WHERE id = ${del}`,
    `INSERT INTO oltp.sbtest${t} (id, k, c, pad) VALUES (${del}, ${id()}, '${digits(next, 10)}', '${digits(next, 5)}')`,
    'COMMIT',
  ].join(';');
}

/**
 * The host's CPU, sampled from /proc/stat every 250 ms: how busy all its cores were over a
 * span (the replay activity's), to say whether a replay was bound by the host's CPU.
 */
function cpuSampler() {
  const samples: { ms: number; busy: number; total: number }[] = [];
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    samples.push({ ms: Date.now(), busy: total - idle, total });
  };
  read();
  const timer = setInterval(read, 250);
  return {
    stop: () => clearInterval(timer),
    /** Share of all cores busy between two times (0-1), from the samples around them. */
    busyBetween(fromMs: number, toMs: number): number {
      const a = [...samples].reverse().find((x) => x.ms <= fromMs) ?? samples[0]!;
      const b = samples.find((x) => x.ms >= toMs) ?? samples[samples.length - 1]!;
      return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : NaN;
    },
  };
}

interface Sample {
  candidate: string;
  rep: number;
  match: boolean;
  replaySeconds: number;
  drillSeconds: number;
  workers?: number;
  /** Share of the host's cores busy while the replay activity ran. */
  replayHostCpu?: number;
  proof?: unknown;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const args = parseArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const home = await mkdtemp(path.join(os.tmpdir(), 'rd-replay-bench-'));
  const runtime = new DockerodeRuntime();
  const paths = { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') };
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const taskQueue = `replay-bench-${process.pid}`;
  const worker = await createDrillWorker({ connection: native, taskQueue, deps: { runtime, paths } });
  const running = worker.run();
  const results: Record<string, unknown> & { flavors: Record<string, unknown> } = { args, cores: os.cpus().length, startedAt: new Date().toISOString(), flavors: {} };
  const sources: string[] = [];
  const cpu = cpuSampler();
  let seq = 0;
  try {
    for (const flavor of args.flavors) {
      const source = await ensureSampleSource({ runtime, flavor, name: `bench-replay-${flavor}-${process.pid}`, home: path.join(home, 'sources'), seed: { students: 20, courses: 5 } });
      sources.push(source.containerName);
      const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: args.clients + 1, multipleStatements: true });
      const one = async <T>(sql: string) => ((await pool.query(sql))[0] as T[])[0]!;
      const statusSql = flavor === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
      const position = async (): Promise<BinlogCoordinates> => {
        const row = await one<{ File: string; Position: number }>(statusSql);
        return { file: row.File, position: Number(row.Position) };
      };
      /** ROW binlog bytes written since `from` (every file from its own, whole later files). */
      const bytesSince = async (from: BinlogCoordinates) => {
        const [logs] = (await pool.query('SHOW BINARY LOGS')) as unknown as [{ Log_name: string; File_size: number }[]];
        return logs.filter((l) => l.Log_name >= from.file).reduce((sum, l) => sum + Number(l.File_size), 0) - from.position;
      };
      const spec = { ...source.spec, databases: ['oltp'] };
      const drill = async (label: string, request: Omit<DrillRequestInput, 'source'>) => {
        const handle = await startDrill({ client, taskQueue, workflowId: `replay-bench-${label}-${flavor}-${process.pid}-${(seq++).toString(36)}`, request: { source: spec, ...request } });
        const { report, failure } = await awaitDrill(handle);
        if (!report) throw new Error(`replay bench drill ${label} failed without a report: ${failure?.type} ${failure?.message}`);
        return { report, timeline: drillTimeline(await handle.fetchHistory()) };
      };
      const phase = (report: DrillReport, name: string) => report.phases.filter((p) => p.phase === name && p.outcome === 'ok').reduce((sum, p) => sum + p.seconds, 0);

      for (const sql of [...schemaSql(args.tables, args.rows), 'FLUSH BINARY LOGS']) await pool.query(sql);
      // The engine's backup before the workload: every candidate restores this one.
      const { report: backupReport } = await drill('backup', { target: { kind: 'checkpoint' }, checksum: 'server' });
      if (backupReport.outcome !== 'passed') throw new Error(`the backup drill did not pass: ${JSON.stringify(backupReport.failure ?? backupReport.checks.filter((c) => !c.passed)).slice(0, 600)}`);
      const manifest = path.join(path.dirname(backupReport.backup.artifactPath), 'manifest.json');
      const start = backupReport.backup.coordinates!;

      // The workload: rounds of transactions from every session until the binlogs hold --mb MB.
      const target = args.mb * 1024 * 1024;
      const nexts = Array.from({ length: args.clients }, (_, i) => prng(1000 + i));
      let transactions = 0;
      let writeMs = 0;
      const round = 500;
      for (;;) {
        const began = Date.now();
        await Promise.all(
          nexts.map(async (next) => {
            const conn = await pool.getConnection();
            try {
              for (let i = 0; i < round; i++) await conn.query(transactionSql(next, args.tables, args.rows));
            } finally {
              conn.release();
            }
          }),
        );
        writeMs += Date.now() - began;
        transactions += round * args.clients;
        if ((await bytesSince(start)) >= target) break;
      }
      const binlogBytes = await bytesSince(start);
      const sourceTps = transactions / (writeMs / 1000);
      const stop = await position();
      const gtid = (await one<{ g: string }>(flavor === 'mysql' ? 'SELECT @@GLOBAL.gtid_executed AS g' : 'SELECT @@GLOBAL.gtid_binlog_pos AS g')).g;
      log(`${flavor}: ${transactions} transactions, ${(binlogBytes / 1e6).toFixed(1)} MB of ROW binlogs in ${(writeMs / 1000).toFixed(1)} s from ${args.clients} sessions (${sourceTps.toFixed(0)} tx/s at the source); stop ${stop.file}:${stop.position}, ${gtid}`);

      const candidates: Record<string, (rep: number) => Promise<Sample>> = {};
      const sample = async (candidate: string, rep: number, request: Omit<DrillRequestInput, 'source'>): Promise<Sample> => {
        const wall = Date.now();
        const { report, timeline } = await drill(`${candidate}-r${rep}`, { backup: { manifest }, target: { kind: 'checkpoint' }, restoreMethod: 'parallel', checksum: 'server', ...request });
        const reachedStop = report.recoveryPoint?.coordinates?.file === stop.file && report.recoveryPoint?.coordinates?.position === stop.position;
        const replaySpan = timeline.spans.find((sp) => sp.activity === 'replayBinlogs');
        const workers = (replaySpan?.result as { workers?: number } | undefined)?.workers;
        if (report.outcome !== 'passed' || !reachedStop) log(`${flavor}:   ${candidate} did not count: ${report.outcome} at ${JSON.stringify(report.recoveryPoint?.coordinates)}: ${JSON.stringify(report.failure ?? report.checks.filter((c) => !c.passed)).slice(0, 600)}`);
        const replayHostCpu = replaySpan ? cpu.busyBetween(replaySpan.startMs, replaySpan.endMs) : undefined;
        return {
          candidate,
          rep,
          match: report.outcome === 'passed' && reachedStop,
          replaySeconds: phase(report, 'replay'),
          drillSeconds: (Date.now() - wall) / 1000,
          ...(workers !== undefined ? { workers } : {}),
          ...(replayHostCpu !== undefined ? { replayHostCpu } : {}),
          ...(report.recovery?.proof ? { proof: report.recovery.proof } : {}),
        };
      };
      for (const w of args.workers) candidates[`applier-${w}`] = (rep) => sample(`applier-${w}`, rep, { replayMethod: 'applier', replayWorkers: w });
      if (args.client) candidates['mysqlbinlog-pipe'] = (rep) => sample('mysqlbinlog-pipe', rep, { replayMethod: 'client' });

      const samples: Sample[] = [];
      const names = Object.keys(candidates);
      for (let rep = 1; rep <= args.reps; rep++) {
        // Interleaved, the order rotated each repetition: a slow moment of a shared host hits every candidate alike.
        const order = names.map((_, i) => names[(i + rep - 1) % names.length]!);
        for (const name of order) {
          const s = await candidates[name]!(rep);
          samples.push(s);
          log(`${flavor}: rep ${rep} ${name}: replay ${s.replaySeconds.toFixed(2)} s (${(transactions / s.replaySeconds).toFixed(0)} tx/s, host CPU ${((s.replayHostCpu ?? NaN) * 100).toFixed(0)} % busy), drill ${s.drillSeconds.toFixed(1)} s, ${s.match ? 'match' : 'MISMATCH (not counted)'}`);
        }
      }
      const medians = Object.fromEntries(
        names.map((name) => {
          const ok = samples.filter((s) => s.candidate === name && s.match);
          const replaySeconds = median(ok.map((s) => s.replaySeconds));
          return [name, { samples: ok.length, replaySeconds, txPerSecond: transactions / replaySeconds, replayHostCpu: median(ok.map((s) => s.replayHostCpu ?? NaN)) }];
        }),
      );
      const pipe = medians['mysqlbinlog-pipe']?.replaySeconds;
      const ratios = Object.fromEntries(
        Object.entries(medians)
          .filter(([name]) => name !== 'mysqlbinlog-pipe')
          .map(([name, m]) => [name, { vsMysqlbinlogPipe: pipe ? pipe / m.replaySeconds : NaN, vsSourceCommitRate: m.txPerSecond / sourceTps }]),
      );
      for (const [name, m] of Object.entries(medians))
        log(`${flavor}: ${name.padEnd(17)} ${m.txPerSecond.toFixed(0).padStart(7)} tx/s (source ${sourceTps.toFixed(0)} tx/s)${ratios[name] ? `  ${ratios[name].vsMysqlbinlogPipe.toFixed(2)}x mysqlbinlog | mysql, ${ratios[name].vsSourceCommitRate.toFixed(2)}x the source` : ''}`);
      results.flavors[flavor] = { image: spec.image, transactions, binlogBytes, writeSeconds: writeMs / 1000, sourceTps, start, stop, gtid, samples, medians, ratios };
      await pool.end();
    }
  } finally {
    cpu.stop();
    for (const name of sources) await runtime.remove(name).catch(() => undefined);
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
    await rm(home, { recursive: true, force: true });
  }

  const dir = path.join(path.resolve(__dirname, '../../..'), 'bench/results');
  mkdirSync(dir, { recursive: true });
  const write = (name: string) => {
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
    const bars: Record<string, number> = {};
    for (const [flavor, r] of Object.entries(results.flavors) as [string, { sourceTps: number; medians: Record<string, { txPerSecond: number }> }][]) {
      bars[`${flavor} source commits`] = r.sourceTps;
      for (const [name, m] of Object.entries(r.medians)) if (Number.isFinite(m.txPerSecond)) bars[`${flavor} ${name}`] = m.txPerSecond;
    }
    writeFileSync(path.join(dir, `${name}.svg`), barChart(bars, `replay of ${args.mb} MB of OLTP binlogs: transactions/s (applier-N: N workers)`, (label) => label.includes('applier'), (v) => `${v.toFixed(0)} tx/s`));
    if (svgToPng(path.join(dir, `${name}.svg`), path.join(dir, `${name}.png`))) rmSync(path.join(dir, `${name}.svg`), { force: true });
  };
  write('replay-latest');
  if (args.save) write(args.save);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
