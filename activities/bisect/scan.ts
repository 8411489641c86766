/**
 * The bisect's scan: from one point of the window through several, the applier stopping
 * exactly at each (`UNTIL` the end of its last transaction) and the query run there, until
 * one fails. One activity and one session for all of them: a point costs a few milliseconds
 * beyond its replay (domain/bisect/scan.ts chooses the points).
 */
import { withSession } from '../../adapters/mysql';
import type { AssertionExpect } from '../../domain/checks/assertions';
import { filesForReplay } from '../../domain/binlog/files';
import { relayReplayLayout } from '../../domain/replay/relay-log';
import { archivedNames, localArchiveDir } from '../artifacts/catalog';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { prepareRelayReplay, replayWorkersFor, runApplier } from '../replay/applier';
import { assertOwnSandbox } from '../sandbox/sandbox';
import type { SandboxHandle } from '../types';
import { evaluateQuery, pointCoordinates, readWindow } from './window';

export interface BisectScanResult {
  /** The points evaluated, in order; only the last may have failed. */
  results: { point: number; passed: boolean; value: string }[];
  /** Seconds the applier ran (its rate is transactions over these), the set-up's (linking the relay logs), and the whole activity's. */
  replaySeconds: number;
  setupSeconds: number;
  seconds: number;
}

export function bisectScanActivities(deps: ActivityDeps) {
  return {
    /**
     * Replays from point `from` through `points` (ascending), the query after each, and stops
     * at the first point where it fails. One attempt only: a retry would apply transactions
     * twice (the workflow rewinds to a snapshot instead).
     */
    async scanBisectPoints(req: { drillId: string; sandbox: SandboxHandle; from: number; points: number[]; query: string; expect: AssertionExpect }): Promise<BisectScanResult> {
      const started = Date.now();
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      const w = await readWindow(deps, req.drillId);
      const stops = [req.from, ...req.points].map((p) => pointCoordinates(w, p));
      const files = filesForReplay(await archivedNames(await localArchiveDir(deps.paths, w.archiveDir)), stops[0]!, stops.at(-1)!);
      const layout = relayReplayLayout(files, req.points.map((_, i) => ({ from: stops[i]!, to: stops[i + 1]! })));
      const results: BisectScanResult['results'] = [];
      let replayMs = 0;
      let setupMs = 0;
      let applier: object = {};
      // The drill's worker count (MySQL's applier has run with workers since 8.0.27's default of 4; MariaDB: one SQL thread).
      const workers = replayWorkersFor(req.sandbox);
      await withHeartbeat(
        () => ({ phase: 'bisect', from: req.from, points: req.points.length, evaluated: results.length, at: results.at(-1)?.point ?? req.from, ...applier }),
        (signal) =>
          withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, async (s) => {
            await prepareRelayReplay(deps, req.sandbox, s, layout);
            setupMs = Date.now() - started;
            for (const [i, run] of layout.runs.entries()) {
              const stopGtid = w.transactions[req.points[i]! - 1]?.gtid;
              replayMs += await runApplier(req.sandbox, s, run, { first: i === 0, stop: stops[i + 1]!, signal, workers, heartbeat: (p) => void (applier = p), ...(stopGtid ? { stopGtid } : {}) });
              const r = await evaluateQuery(s, req.query, req.expect);
              results.push({ point: req.points[i]!, ...r });
              if (!r.passed) break;
            }
          }),
      );
      return { results, replaySeconds: replayMs / 1000, setupSeconds: setupMs / 1000, seconds: (Date.now() - started) / 1000 };
    },
  };
}
