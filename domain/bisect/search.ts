/**
 * The bisect's search: which archived transaction first makes a consistency query fail. The
 * window's transactions are numbered 1..count; point k is the state after the first k of them
 * (point 0: the restored backup). The sandbox only moves forward (replay) or back to a
 * snapshot of its datadir (rewind), so every move is decided here from what is known so far.
 * Pure: the workflow asks {@link nextMove}, runs the move, and records its outcome.
 */

export interface BisectSearch {
  /** Transactions in the window. */
  count: number;
  /** Highest point known to pass the query. */
  good: number;
  /** Lowest point known to fail it; absent until one fails. */
  bad?: number;
  /** Where the sandbox stands. */
  at: number;
  /** Points whose datadir was snapshotted, ascending. */
  snapshots: number[];
  /** Counters for progress and the cost report. */
  evaluations: number;
  replays: number;
  rewinds: number;
  transactionsReplayed: number;
}

export type BisectMove =
  | { kind: 'replay'; from: number; to: number }
  | { kind: 'snapshot'; at: number }
  | { kind: 'rewind'; to: number }
  /** The culprit is transaction number `culprit` (1-based): point culprit-1 passes, point culprit fails. */
  | { kind: 'found'; culprit: number }
  /** The whole window passes. */
  | { kind: 'never-fails' };

export interface BisectPolicy {
  /** The first pass goes forward in this many steps (it stops at the first failing one). */
  scanSteps: number;
  /** Transactions the applier replays in the time one restart of the sandbox takes (a snapshot or a rewind). */
  restartCostTransactions: number;
}

export const DEFAULT_SCAN_STEPS = 8;

/** A search of `count` transactions, standing at the restored backup (point 0), not yet evaluated there. */
export function startSearch(count: number): BisectSearch {
  return { count, good: 0, at: 0, snapshots: [], evaluations: 0, replays: 0, rewinds: 0, transactionsReplayed: 0 };
}

/** The snapshot a rewind to (or before) `point` uses: the nearest one at or before it. */
export function nearestSnapshot(snapshots: readonly number[], point: number): number | undefined {
  let best: number | undefined;
  for (const s of snapshots) if (s <= point && (best === undefined || s > best)) best = s;
  return best;
}

/** Halvings left to narrow the range still open. */
function levelsLeft(s: BisectSearch): number {
  const width = (s.bad ?? s.count) - s.good;
  return width <= 1 ? 0 : Math.ceil(Math.log2(width));
}

/**
 * Whether a snapshot at the good point where the sandbox stands pays for its restart: every
 * rewind still to come (about one per two halvings) would otherwise replay again the
 * transactions since the nearest older snapshot. The first one (no snapshot yet) is always taken.
 */
export function snapshotPays(s: BisectSearch, policy: BisectPolicy): boolean {
  if (s.at !== s.good || s.snapshots.includes(s.at)) return false;
  const previous = nearestSnapshot(s.snapshots, s.at);
  if (previous === undefined) return true;
  const rewindsToCome = Math.max(1, levelsLeft(s) / 2);
  return (s.at - previous) * rewindsToCome > policy.restartCostTransactions;
}

/** The next move; call after the sandbox stands at an evaluated point (or a snapshot). */
export function nextMove(s: BisectSearch, policy: BisectPolicy): BisectMove {
  if (s.bad !== undefined && s.bad - s.good === 1) return { kind: 'found', culprit: s.bad };
  if (s.bad === undefined && s.good >= s.count) return { kind: 'never-fails' };
  if (snapshotPays(s, policy)) return { kind: 'snapshot', at: s.at };
  if (s.at > s.good) {
    const to = nearestSnapshot(s.snapshots, s.good);
    if (to === undefined) throw new Error(`bisect: no snapshot at or before point ${s.good} to rewind to`);
    return { kind: 'rewind', to };
  }
  const to = s.bad === undefined ? Math.min(s.count, s.good + Math.ceil(s.count / Math.max(1, policy.scanSteps))) : Math.floor((s.good + s.bad) / 2);
  return { kind: 'replay', from: s.at, to };
}

/** The sandbox was replayed to `to` and the query evaluated there. */
export function afterReplay(s: BisectSearch, from: number, to: number, passed: boolean): BisectSearch {
  return {
    ...s,
    at: to,
    good: passed ? Math.max(s.good, to) : s.good,
    bad: passed ? s.bad : Math.min(s.bad ?? to, to),
    evaluations: s.evaluations + 1,
    replays: s.replays + 1,
    transactionsReplayed: s.transactionsReplayed + (to - from),
  };
}

/** The query was evaluated where the sandbox stands without a replay (point 0, after the restore). */
export function afterEvaluation(s: BisectSearch, passed: boolean): BisectSearch {
  return { ...s, good: passed ? Math.max(s.good, s.at) : s.good, bad: passed ? s.bad : Math.min(s.bad ?? s.at, s.at), evaluations: s.evaluations + 1 };
}

export function afterSnapshot(s: BisectSearch, at: number): BisectSearch {
  return { ...s, snapshots: [...new Set([...s.snapshots, at])].sort((a, b) => a - b) };
}

export function afterRewind(s: BisectSearch, to: number): BisectSearch {
  return { ...s, at: to, rewinds: s.rewinds + 1 };
}

/**
 * A replay from `from` that did not finish (its worker died): the sandbox stands somewhere
 * between, so it goes back to the nearest snapshot at or before `from`.
 */
export function rewindAfterLostReplay(s: BisectSearch, from: number): BisectMove {
  const to = nearestSnapshot(s.snapshots, from);
  if (to === undefined) throw new Error(`bisect: no snapshot at or before point ${from} to rewind to`);
  return { kind: 'rewind', to };
}

/**
 * Transactions the applier replays in one restart's time, from what this bisect measured:
 * replay rate times the mean restart (a snapshot or a rewind).
 */
export function restartCostTransactions(m: { transactionsReplayed: number; replaySeconds: number; restartSeconds: number; restarts: number }): number {
  if (m.restarts === 0 || m.replaySeconds <= 0 || m.transactionsReplayed === 0) return 0;
  return Math.ceil((m.transactionsReplayed / m.replaySeconds) * (m.restartSeconds / m.restarts));
}

/** The range still open, as progress shows it: transactions good+1..bad (or ..count before one failed). */
export function openRange(s: BisectSearch): { from: number; to: number; transactions: number } {
  const to = s.bad ?? s.count;
  return { from: s.good + 1, to, transactions: to - s.good };
}
