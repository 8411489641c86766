/**
 * The benchmark's arithmetic: samples, medians over the runs that matched the ground truth,
 * the concurrency and growth series, and the printed table of ratios. Pure.
 */

/**
 * Seconds of one run, by phase. `restoreParts` and `checkParts` hold the restore's and the
 * checks' sub-phases when they report them (bench/history.ts).
 */
export interface Timings {
  ready: number;
  restore: number;
  replay: number;
  checks: number;
  cleanup: number;
  /** ready + restore + replay + checks + cleanup. */
  restoreSide: number;
  /** Wall time of the whole run, as the benchmark saw it. */
  total: number;
  /** The drill's RTO (the report's). */
  rto?: number;
  /** Drill wall time minus the time any activity ran, from the workflow history. */
  temporalOverhead?: number;
  /** The drill's other activities: artifact verification, binlog archive, planning, proof, report. */
  other?: number;
  /** Seconds of each phase outside the restore side (verify-artifact, archive-binlogs, plan-replay, checkpoint, prove-point). */
  otherPhases?: Record<string, number>;
  backup?: number;
  restoreParts?: Record<string, number>;
  checkParts?: Record<string, number>;
  /**
   * CPU seconds of the restore: `server` (its server's container cgroup), `worker` (the
   * in-process worker, engine drills) and `client` (a baseline's tool container).
   */
  restoreCpu?: Record<string, number>;
}

export interface Sample {
  candidate: string;
  rep: number;
  /** Restored data matched the ground truth; a run that did not is not counted. */
  match: boolean;
  timings: Timings;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type TimingKey = 'ready' | 'restore' | 'replay' | 'checks' | 'cleanup' | 'restoreSide' | 'total' | 'rto' | 'temporalOverhead' | 'other';
export type CandidateMedians = Record<TimingKey, number> & { counted: number; restoreParts: Record<string, number>; checkParts: Record<string, number>; restoreCpu: Record<string, number> };

/** Medians of each sub-phase any of the samples reports. */
function partMedians(samples: readonly Sample[], key: 'restoreParts' | 'checkParts' | 'restoreCpu'): Record<string, number> {
  const parts = [...new Set(samples.flatMap((s) => Object.keys(s.timings[key] ?? {})))];
  return Object.fromEntries(parts.map((p) => [p, median(samples.map((s) => s.timings[key]?.[p] ?? NaN))]));
}

/** Medians of one candidate's matching samples. */
export function candidateMedians(samples: readonly Sample[], candidate: string): CandidateMedians {
  const counted = samples.filter((s) => s.candidate === candidate && s.match);
  const of = (k: TimingKey) => median(counted.map((s) => Number(s.timings[k] ?? NaN)));
  return {
    counted: counted.length,
    ready: of('ready'),
    restore: of('restore'),
    replay: of('replay'),
    checks: of('checks'),
    cleanup: of('cleanup'),
    restoreSide: of('restoreSide'),
    total: of('total'),
    rto: of('rto'),
    temporalOverhead: of('temporalOverhead'),
    other: of('other'),
    restoreParts: partMedians(counted, 'restoreParts'),
    checkParts: partMedians(counted, 'checkParts'),
    restoreCpu: partMedians(counted, 'restoreCpu'),
  };
}

/** One repetition of N drills started together on one worker. */
export interface ConcurrencySample {
  drills: number;
  rep: number;
  wallSeconds: number;
  /** Every drill passed and reached the target. */
  match: boolean;
  drillSeconds: number[];
  rtoSeconds: number[];
}

export interface ConcurrencyPoint {
  drills: number;
  counted: number;
  wallSeconds: number;
  /** Median over every drill of the counted repetitions. */
  drillSeconds: number;
  rtoSeconds: number;
  drillsPerHour: number;
  /** drillsPerHour against one drill at a time. */
  throughputVsOne: number;
  /** Per-drill RTO against one drill at a time. */
  rtoVsOne: number;
}

export function concurrencySeries(samples: readonly ConcurrencySample[]): ConcurrencyPoint[] {
  const levels = [...new Set(samples.map((s) => s.drills))].sort((a, b) => a - b);
  const points = levels.map((drills) => {
    const counted = samples.filter((s) => s.drills === drills && s.match);
    const wallSeconds = median(counted.map((s) => s.wallSeconds));
    return {
      drills,
      counted: counted.length,
      wallSeconds,
      drillSeconds: median(counted.flatMap((s) => s.drillSeconds)),
      rtoSeconds: median(counted.flatMap((s) => s.rtoSeconds)),
      drillsPerHour: (drills * 3600) / wallSeconds,
      throughputVsOne: NaN,
      rtoVsOne: NaN,
    };
  });
  const one = points.find((p) => p.drills === 1);
  for (const p of points) {
    p.throughputVsOne = one ? p.drillsPerHour / one.drillsPerHour : NaN;
    p.rtoVsOne = one ? p.rtoSeconds / one.rtoSeconds : NaN;
  }
  return points;
}

/** Drill time at one data size or binlog volume (the growth series), engine-fast drills only. */
export interface GrowthPoint {
  /** Fraction of the chosen size (data) or of the whole workload (binlog). */
  factor: number;
  rows: number;
  dumpBytes: number;
  transactions: number;
  rowEvents: number;
  counted: number;
  drillSeconds: number;
  rtoSeconds: number;
  restoreSeconds: number;
  replaySeconds: number;
}

export function growthPoint(facts: Omit<GrowthPoint, 'counted' | 'drillSeconds' | 'rtoSeconds' | 'restoreSeconds' | 'replaySeconds'>, samples: readonly Sample[]): GrowthPoint {
  const m = candidateMedians(samples, 'engine-fast');
  return { ...facts, counted: m.counted, drillSeconds: m.total, rtoSeconds: m.rto, restoreSeconds: m.restore, replaySeconds: m.replay };
}

export interface FlavorResult {
  dumpBytes: number;
  rows: number;
  transactions: number;
  medians: Record<string, CandidateMedians>;
  ratios: Record<string, number>;
  concurrency?: ConcurrencyPoint[];
  growth?: { dataSize: GrowthPoint[]; binlogVolume: GrowthPoint[] };
}

/** Ratios of medians: above 1 means the engine is faster, except the `…VsShellScript` shares (below 1: faster). */
export function ratiosOf(m: Record<string, CandidateMedians>, facts: { dumpBytes: number; rows: number; transactions: number }): Record<string, number> {
  const fast = m['engine-fast'];
  const script = m['shell-script'];
  const restoreOnly = (c: string) => (m[c] ? m[c].restore / fast.restore : NaN);
  return {
    wholeDrillVsShellScript: fast.total / script.total,
    drillVsShellScript: fast.restoreSide / script.total,
    rtoVsShellScript: fast.rto / (script.ready + script.restore + script.replay + script.checks),
    physicalRtoVsLogical: m['engine-physical'] ? m['engine-physical'].rto / fast.rto : NaN,
    /** A team's dump of the same data against the engine's own: restore and RTO (time ratios, ≤1 is as fast). */
    teamDumpRestoreVsOwn: restoreOnly('engine-team-dump'),
    teamDumpRtoVsOwn: m['engine-team-dump'] ? m['engine-team-dump'].rto / fast.rto : NaN,
    replayVsMysqlbinlogClient: script.replay / fast.replay,
    replayVsEngineFallback: m['engine-fallback'] ? m['engine-fallback'].replay / fast.replay : NaN,
    restoreVsMysqldumpClient: script.restore / fast.restore,
    restoreVsEngineFallback: restoreOnly('engine-fallback'),
    restoreVsLoadData: restoreOnly('load-data'),
    restoreVsMyloader: restoreOnly('myloader'),
    sandboxReadySeconds: fast.ready,
    restoreMBps: facts.dumpBytes / 1e6 / fast.restore,
    restoreRowsPerSecond: facts.rows / fast.restore,
    loadDataMBps: m['load-data'] ? facts.dumpBytes / 1e6 / m['load-data'].restore : NaN,
    replayTransactionsPerSecond: facts.transactions / fast.replay,
    mysqlbinlogClientTransactionsPerSecond: facts.transactions / script.replay,
    temporalOverheadSeconds: fast.temporalOverhead,
  };
}

const fmt = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** The printed summary: ratios, the engine's phases, the concurrency and growth series. */
export function renderTable(flavors: Record<string, FlavorResult>): string {
  const lines = [
    '',
    '| flavor | whole drill / shell script (≤0.5) | RTO / script | physical RTO / logical | replay vs mysqlbinlog\\|client (≥5x) | restore vs mysqldump\\|client (≥2x) | vs LOAD DATA (≥0.85x) | vs myloader (≥1.1x) | sandbox ready s (<2) | restore MB/s, rows/s | replay tx/s fast / mysqlbinlog |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [flavor, f] of Object.entries(flavors)) {
    const r = f.ratios;
    lines.push(
      `| ${flavor} | ${fmt(r.wholeDrillVsShellScript)} | ${fmt(r.rtoVsShellScript)} | ${fmt(r.physicalRtoVsLogical)} | ${fmt(r.replayVsMysqlbinlogClient, 1)}x | ${fmt(r.restoreVsMysqldumpClient)}x | ${fmt(r.restoreVsLoadData)}x | ${fmt(r.restoreVsMyloader)}x | ${fmt(r.sandboxReadySeconds)} | ${fmt(r.restoreMBps, 1)}, ${fmt(r.restoreRowsPerSecond, 0)} | ${fmt(r.replayTransactionsPerSecond, 0)} / ${fmt(r.mysqlbinlogClientTransactionsPerSecond, 0)} |`,
    );
  }
  lines.push('', '| flavor | engine-fast median s: ready | restore (parts) | replay | checks (parts) | cleanup | other activities | Temporal overhead | total |', '|---|---|---|---|---|---|---|---|---|');
  for (const [flavor, f] of Object.entries(flavors)) {
    const m = f.medians['engine-fast'];
    const partsOf = (parts: Record<string, number>) => {
      const text = Object.entries(parts).map(([k, v]) => `${k} ${fmt(v, k === 'sessions' ? 0 : 2)}`).join(', ');
      return text ? ` (${text})` : '';
    };
    lines.push(`| ${flavor} | ${fmt(m.ready)} | ${fmt(m.restore)}${partsOf(m.restoreParts)} | ${fmt(m.replay)} | ${fmt(m.checks)}${partsOf(m.checkParts)} | ${fmt(m.cleanup)} | ${fmt(m.other)} | ${fmt(m.temporalOverhead)} | ${fmt(m.total)} |`);
  }
  // The engine's over its restore activity; a restore-only baseline's over its whole run (its server's start and final checksums too).
  const cpuOf = (m: CandidateMedians | undefined, seconds: (m: CandidateMedians) => number) =>
    m && Object.keys(m.restoreCpu ?? {}).length ? Object.entries(m.restoreCpu).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(', ') + ` in ${fmt(seconds(m), 1)} s` : 'n/a';
  if (Object.values(flavors).some((f) => Object.keys(f.medians['engine-fast']?.restoreCpu ?? {}).length)) {
    lines.push('', '| flavor | CPU s, medians: engine-fast restore | load-data run | myloader run |', '|---|---|---|---|');
    for (const [flavor, f] of Object.entries(flavors)) lines.push(`| ${flavor} | ${cpuOf(f.medians['engine-fast'], (m) => m.restore)} | ${cpuOf(f.medians['load-data'], (m) => m.total)} | ${cpuOf(f.medians.myloader, (m) => m.total)} |`);
  }
  if (Object.values(flavors).some((f) => Number.isFinite(f.ratios.teamDumpRestoreVsOwn))) {
    lines.push('', "| flavor | a team's mysqldump \\| gzip / the engine's own dump: restore (≤1.05) | RTO |", '|---|---|---|');
    for (const [flavor, f] of Object.entries(flavors)) lines.push(`| ${flavor} | ${fmt(f.ratios.teamDumpRestoreVsOwn)} | ${fmt(f.ratios.teamDumpRtoVsOwn)} |`);
  }
  if (Object.values(flavors).some((f) => f.concurrency?.length)) {
    lines.push('', '| flavor | drills at once | wall s | per-drill s | per-drill RTO s (vs one) | drills/hour (vs one) |', '|---|---|---|---|---|---|');
    for (const [flavor, f] of Object.entries(flavors))
      for (const p of f.concurrency ?? []) lines.push(`| ${flavor} | ${p.drills} | ${fmt(p.wallSeconds, 1)} | ${fmt(p.drillSeconds, 1)} | ${fmt(p.rtoSeconds, 1)} (${fmt(p.rtoVsOne)}x) | ${fmt(p.drillsPerHour, 0)} (${fmt(p.throughputVsOne)}x) |`);
  }
  if (Object.values(flavors).some((f) => f.growth)) {
    lines.push('', '| flavor | growth | factor | rows | row events | drill s | RTO s | restore s | replay s |', '|---|---|---|---|---|---|---|---|---|');
    for (const [flavor, f] of Object.entries(flavors))
      for (const [series, points] of Object.entries(f.growth ?? {}))
        for (const p of points) lines.push(`| ${flavor} | ${series} | ${p.factor} | ${p.rows} | ${p.rowEvents} | ${fmt(p.drillSeconds, 1)} | ${fmt(p.rtoSeconds, 1)} | ${fmt(p.restoreSeconds, 1)} | ${fmt(p.replaySeconds, 1)} |`);
  }
  return lines.join('\n') + '\n';
}
