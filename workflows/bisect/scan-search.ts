/**
 * The bisect's search in scans (patched: bisect-scans): each scan replays through several
 * points in one activity; snapshots and the points per level follow the costs this bisect
 * measures (domain/bisect/scan.ts). A scan lost with its worker is redone from the nearest
 * snapshot, as a replay step is.
 */
import { isCancellation, log, upsertMemo } from '@temporalio/workflow';
import type { BisectRequest } from '../../config/schema';
import type { ScanCosts } from '../../domain/bisect/scan';
import { afterScan, nextScanMove } from '../../domain/bisect/scan';
import type { BisectSearch } from '../../domain/bisect/search';
import { afterRewind, afterSnapshot, openRange, rewindAfterLostReplay } from '../../domain/bisect/search';
import type { SandboxHandle } from '../../activities';
import { long, once } from '../drill/activity-options';
import type { Drill } from '../drill/context';
import { isRetryableActivityFailure } from '../drill/sandbox-phases';

/** Scans lost with their worker, redone from a snapshot, before the bisect gives up. */
const LOST_SCANS_ALLOWED = 5;

/** Runs moves until the search ends; `values` gets the query's value at every point evaluated. */
export async function scanSearch(
  d: Drill,
  request: BisectRequest,
  sandbox: SandboxHandle,
  initial: BisectSearch,
  measured: { querySeconds: number },
  values: Map<number, string>,
): Promise<BisectSearch> {
  const { drillId } = d;
  let s = initial;
  const totals = { restartSeconds: 0, restarts: 0, pointSeconds: measured.querySeconds, points: measured.querySeconds > 0 ? 1 : 0, replaySeconds: 0, transactions: 0 };
  const costs = (): ScanCosts => ({
    restartSeconds: totals.restarts > 0 ? totals.restartSeconds / totals.restarts : 0,
    pointSeconds: totals.points > 0 ? Math.max(totals.pointSeconds / totals.points, 0.001) : 0,
    replayRate: totals.replaySeconds > 0 ? totals.transactions / totals.replaySeconds : 0,
  });
  let lost = 0;
  let steps = 0;
  const show = (doing?: string) => {
    const range = openRange(s);
    d.board.showBisect({ window: s.count, range, at: s.at, ...(doing ? { doing } : {}), steps, replays: s.replays, transactionsReplayed: s.transactionsReplayed, snapshots: s.snapshots.length, rewinds: s.rewinds });
    upsertMemo({ summary: `bisect of ${request.drill.source.name}: culprit within transactions ${range.from}-${range.to} of ${s.count} (${steps} steps)` });
  };
  const restart = async (kind: 'snapshot' | 'rewind', point: number) => {
    const r = await (kind === 'snapshot' ? long.snapshotSandbox : long.rewindSandbox)({ drillId, sandbox, point });
    totals.restartSeconds += r.seconds;
    totals.restarts++;
  };
  for (;;) {
    const move = nextScanMove(s, { costs: costs(), ...(request.scanSteps ? { firstPassSteps: request.scanSteps } : {}) });
    if (move.kind === 'found' || move.kind === 'never-fails') {
      show();
      return s;
    }
    steps++;
    if (move.kind === 'snapshot') {
      show(`snapshot at ${move.at}`);
      await restart('snapshot', move.at);
      s = afterSnapshot(s, move.at);
    } else if (move.kind === 'rewind') {
      show(`rewind to ${move.to}`);
      await restart('rewind', move.to);
      s = afterRewind(s, move.to);
    } else {
      show(`scan ${move.from} → ${move.points.at(-1)} (${move.points.length} points)`);
      try {
        const r = await once.scanBisectPoints({ drillId, sandbox, from: move.from, points: move.points, query: request.query, expect: request.expect });
        const reached = r.results.at(-1)?.point ?? move.from;
        totals.replaySeconds += r.replaySeconds;
        totals.transactions += reached - move.from;
        if (r.results.length > 0) {
          // Older workers report no set-up time: theirs counts toward the points.
          totals.pointSeconds += Math.max(0, r.seconds - r.replaySeconds - (r.setupSeconds ?? 0));
          totals.points += r.results.length;
        }
        for (const p of r.results) values.set(p.point, p.value);
        s = afterScan(s, move.from, r.results);
      } catch (err) {
        // Its worker died (or the sandbox's applier was lost): the sandbox stands somewhere between; go back and redo it.
        if (isCancellation(err) || !isRetryableActivityFailure(err) || ++lost > LOST_SCANS_ALLOWED) throw err;
        log.warn(`bisect scan from ${move.from} lost: redone from a snapshot`, { error: String(err) });
        const back = rewindAfterLostReplay(s, move.from) as { kind: 'rewind'; to: number };
        show(`rewind to ${back.to} after a lost scan`);
        await restart('rewind', back.to);
        s = afterRewind(s, back.to);
      }
    }
  }
}
