/**
 * The bisect's search in scans (docs/bisect.md, "How it searches"): one move replays forward
 * through several points and runs the query after each, stopping at the first that fails, so a
 * level of the search costs one activity and at most one rewind instead of one of each per
 * halving. How many points a level has, and where a snapshot pays, follow from what this
 * bisect measured: a restart's time, a point's fixed cost (applier start and stop, the query)
 * and the applier's rate. Pure; the workflow runs each move and records its outcome.
 */
import type { BisectSearch } from './search';
import { DEFAULT_SCAN_STEPS, nearestSnapshot } from './search';

export interface ScanCosts {
  /** Mean seconds of one restart (a snapshot or a rewind); 0 until one was measured. */
  restartSeconds: number;
  /** Mean seconds a point costs beyond its replay (applier start and stop, the query); 0 until measured. */
  pointSeconds: number;
  /** Transactions the applier replays per second; 0 until measured. */
  replayRate: number;
}

export interface ScanPolicy {
  costs: ScanCosts;
  /** Points of the first forward pass, when the request fixes them; else chosen from the costs. */
  firstPassSteps?: number;
}

export type ScanMove =
  /** Replay from `from` through each point in turn, the query after each, stopping at the first that fails. */
  | { kind: 'scan'; from: number; points: number[] }
  | { kind: 'snapshot'; at: number }
  | { kind: 'rewind'; to: number }
  | { kind: 'found'; culprit: number }
  | { kind: 'never-fails' };

/** One activity's points at most: its input and result stay small. */
export const MAX_SCAN_POINTS = 256;

/**
 * Points per level that narrow `width` candidate transactions to one at the least cost: each
 * level after the first starts with a rewind, and a level's scan runs about half its points
 * before one fails. Without measured costs, the default of the first pass.
 */
export function pointsPerLevel(width: number, costs: Pick<ScanCosts, 'restartSeconds' | 'pointSeconds'>): number {
  if (width <= 1) return 1;
  if (!(costs.restartSeconds > 0 && costs.pointSeconds > 0)) return Math.min(width, DEFAULT_SCAN_STEPS);
  let best = { points: width, seconds: Infinity };
  for (let levels = 1; ; levels++) {
    const points = Math.max(2, Math.ceil(width ** (1 / levels) - 1e-9));
    const seconds = (levels - 1) * costs.restartSeconds + (levels * points * costs.pointSeconds) / 2;
    if (seconds < best.seconds) best = { points, seconds };
    if (points === 2) break;
  }
  return Math.min(best.points, MAX_SCAN_POINTS, width);
}

/** Rewinds still to come once the current level's scan fails: one per level after it. */
function rewindsAfterThisLevel(width: number, costs: ScanCosts): number {
  let levels = 0;
  for (let w = width; w > 1; w = Math.ceil(w / pointsPerLevel(w, costs))) levels++;
  return Math.max(0, levels - 1);
}

/**
 * Whether a snapshot at the last passing point pays for its restart. The first one (the
 * backup) always does. During the first pass, one every `sqrt(window × restart)`
 * transactions (in replay time) balances the restarts taken against the replay the first
 * rewind saves; while narrowing, one pays when the rewinds still to come would each replay
 * the transactions since the nearest snapshot for longer than a restart takes.
 */
export function snapshotPays(s: BisectSearch, costs: ScanCosts): boolean {
  if (s.snapshots.includes(s.good)) return false;
  if (s.snapshots.length === 0) return true;
  const since = s.good - (nearestSnapshot(s.snapshots, s.good) ?? 0);
  const perRestart = costs.restartSeconds * costs.replayRate;
  if (!(perRestart > 0) || since <= 0) return false;
  if (s.bad === undefined) return since >= firstPassSnapshotGap(s.count, perRestart);
  return since * rewindsAfterThisLevel(s.bad - s.good, costs) > perRestart;
}

/** Transactions between snapshots of the first pass. */
export function firstPassSnapshotGap(count: number, transactionsPerRestart: number): number {
  return Math.max(transactionsPerRestart, Math.ceil(Math.sqrt(count * transactionsPerRestart)));
}

/** The points of the open range's next level: `steps` equal parts, the known failing end left out. */
export function levelPoints(s: BisectSearch, steps: number): number[] {
  const end = s.bad ?? s.count;
  const width = end - s.good;
  const points: number[] = [];
  for (let i = 1; i <= steps; i++) {
    const p = s.good + Math.ceil((i * width) / steps);
    if (p > (points.at(-1) ?? s.good) && (s.bad === undefined || p < s.bad)) points.push(p);
  }
  return points;
}

/** The next move; call when the sandbox stands at an evaluated point or a snapshot. */
export function nextScanMove(s: BisectSearch, policy: ScanPolicy): ScanMove {
  if (s.bad !== undefined && s.bad - s.good === 1) return { kind: 'found', culprit: s.bad };
  if (s.bad === undefined && s.good >= s.count) return { kind: 'never-fails' };
  if (s.at > s.good) {
    const to = nearestSnapshot(s.snapshots, s.good);
    if (to === undefined) throw new Error(`bisect: no snapshot at or before point ${s.good} to rewind to`);
    return { kind: 'rewind', to };
  }
  // A snapshot at the last good point: stand there first (the sandbox may be at an older snapshot).
  if (snapshotPays(s, policy.costs)) return s.at === s.good ? { kind: 'snapshot', at: s.good } : { kind: 'scan', from: s.at, points: [s.good] };
  const firstPass = s.bad === undefined;
  const steps = firstPass && policy.firstPassSteps ? policy.firstPassSteps : pointsPerLevel((s.bad ?? s.count) - s.good, policy.costs);
  let points = levelPoints(s, steps);
  if (firstPass) {
    const { costs } = policy;
    // The applier's rate is not known yet: one point first, so the next scan knows where a snapshot pays.
    if (!(costs.replayRate > 0)) points = points.slice(0, 1);
    else if (costs.restartSeconds > 0) {
      const limit = (nearestSnapshot(s.snapshots, s.good) ?? 0) + firstPassSnapshotGap(s.count, costs.restartSeconds * costs.replayRate);
      const cut = points.findIndex((p) => p >= limit);
      if (cut >= 0) points = points.slice(0, cut + 1);
    }
  }
  return { kind: 'scan', from: s.at, points: points.slice(0, MAX_SCAN_POINTS) };
}

/** A scan from `from` evaluated `results` in order (it stops at the first failing point). */
export function afterScan(s: BisectSearch, from: number, results: readonly { point: number; passed: boolean }[]): BisectSearch {
  let next = s;
  let at = from;
  for (const r of results) {
    if (r.point <= at) throw new Error(`bisect: scan points must ascend (${r.point} after ${at})`);
    if (r.passed ? next.bad !== undefined && r.point >= next.bad : r.point <= next.good)
      throw new Error(`bisect: point ${r.point} ${r.passed ? 'passed' : 'failed'} against the points known (${next.good} passes, ${next.bad ?? 'none'} fails): the query is not deterministic`);
    next = {
      ...next,
      at: r.point,
      good: r.passed ? Math.max(next.good, r.point) : next.good,
      bad: r.passed ? next.bad : Math.min(next.bad ?? r.point, r.point),
      evaluations: next.evaluations + 1,
      replays: next.replays + 1,
      transactionsReplayed: next.transactionsReplayed + (r.point - at),
    };
    at = r.point;
  }
  return next;
}
