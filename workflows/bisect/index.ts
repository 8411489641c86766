/**
 * The bisect: which archived transaction first made a consistency query fail. Restores the
 * backup once into a sandbox, then replays forward through the applier in steps, running the
 * query at each; goes back by putting a snapshot of the datadir back, never by restoring again
 * (domain/bisect/search.ts decides every move). Orchestration only; cleanup (sandbox and its
 * snapshots, the source lock) is the drill's undo stack.
 */
import { ApplicationFailure, isCancellation, log, patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { BisectRequest } from '../../config/schema';
import { nextSteps, type BisectAnswer } from '../../domain/bisect/answer';
import { describeExpectation } from '../../domain/bisect/expect';
import type { BisectMove, BisectSearch } from '../../domain/bisect/search';
import { DEFAULT_SCAN_STEPS, afterEvaluation, afterReplay, afterRewind, afterSnapshot, nextMove, openRange, restartCostTransactions, rewindAfterLostReplay, startSearch } from '../../domain/bisect/search';
import { formatCoordinates } from '../../domain/binlog/files';
import { DrillFailureType, DrillKind, DrillOutcome, DrillSource, DrillTarget } from '../search-attributes';
import { consistencyQuery, long, once, planning, quick } from '../drill/activity-options';
import { Drill } from '../drill/context';
import { cleanUp, lockSource } from '../drill/index';
import { isRetryableActivityFailure, restoreDumpAndReplay, restorePhysicalAndReplay } from '../drill/sandbox-phases';
import { inspectSource, obtainVerifiedBackup, planFromBackup, planIncidentRecovery, type ObtainedBackup } from '../drill/source-phases';
import type { ReplayPlan, SandboxHandle } from '../../activities';
import type { FailedStart } from '../../domain/bisect/start';
import { Phases } from '../../domain/report/report';
import { scanSearch } from './scan-search';

/** Several points per activity, the levels and snapshots from measured costs (workflows/bisect/scan-search.ts). */
const BISECT_SCANS = 'bisect-scans';
/** Without --from, a start on which the query fails makes the bisect try the next older backup. */
const BISECT_OLDER_STARTS = 'bisect-older-starts';
/** The sandbox restarts its server in place and, for a small restore, starts with the small redo log. */
const BISECT_SANDBOX = 'bisect-sandbox';

/** Replay steps lost with their worker, redone from a snapshot, before the bisect gives up. */
const LOST_STEPS_ALLOWED = 5;

function badTarget(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'BadTarget', nonRetryable: true, message });
}

export async function bisectWorkflow(request: BisectRequest): Promise<BisectAnswer> {
  const d = new Drill(request.drill);
  log.info('bisect started', { source: request.drill.source.name, target: d.target });
  upsertSearchAttributes([
    { key: DrillSource, value: request.drill.source.name },
    { key: DrillKind, value: 'bisect' },
    { key: DrillTarget, value: d.target },
    { key: DrillOutcome, value: 'running' },
  ]);
  let answer: BisectAnswer | undefined;
  try {
    await lockSource(d);
    answer = await bisect(d, request);
  } catch (err) {
    d.stop(err);
  } finally {
    await cleanUp(d);
  }
  d.board.setStatus('done');
  const failure = d.state.failure;
  upsertSearchAttributes([{ key: DrillOutcome, value: answer ? 'found' : d.state.cancelled ? 'cancelled' : 'failed' }, ...(failure ? [{ key: DrillFailureType, value: failure.type }] : [])]);
  upsertMemo({ summary: answer ? `found: ${request.drill.source.name} transaction ${answer.culprit.index} of ${answer.window.transactions}, ${answer.culprit.gtid ?? `${answer.culprit.file}:${answer.culprit.startPosition}`}` : `failed: ${failure?.message ?? 'cancelled'}` });
  if (d.state.cancelled) throw d.state.cancelled;
  if (!answer) throw ApplicationFailure.create({ type: failure?.type ?? 'Unknown', nonRetryable: true, message: `bisect of ${request.drill.source.name} failed: ${failure?.message ?? 'no answer'}` });
  return answer;
}

/** The backup restored into a sandbox, the window listed, the search run to its answer. */
async function bisect(d: Drill, request: BisectRequest): Promise<BisectAnswer> {
  const started = Date.now();
  const { drillId } = d;
  d.bisectSandbox = patched(BISECT_SANDBOX);
  const facts = await inspectSource(d);
  const given = request.drill.backup?.manifest;
  const expected = describeExpectation(request.expect);
  const values = new Map<number, string>();
  const measured = { querySeconds: 0 };
  const evaluate = async (sandbox: SandboxHandle, point: number) => {
    const r = await consistencyQuery.evaluateBisectQuery({ drillId, sandbox, query: request.query, expect: request.expect });
    values.set(point, r.value);
    measured.querySeconds = r.seconds ?? 0;
    return r.passed;
  };
  const tried: FailedStart[] = [];
  for (;;) {
    // Without --from: the newest published backup before the target, as an incident recovery
    // picks it; when the query fails there, the next older one (domain/bisect/start.ts).
    const manifest = given ?? (await planIncidentRecovery(d, facts, tried.length > 0 ? { tried, expected } : undefined));
    const backup = await obtainVerifiedBackup(d, facts, manifest);
    if (given) await planFromBackup(d, facts, backup, { checkpoint: quick, archive: long, plan: planning });
    const plan = d.state.plan!;
    const windowText = `Window: ${backup.published.dumpPath} at ${formatCoordinates(plan.start)} → ${formatCoordinates(plan.stop)} (${d.target}). ${plan.window ?? ''}`.trim();
    const window = await d.phase('bisect-window', () => planning.prepareBisectWindow({ drillId, source: request.drill.source.name, flavor: d.state.flavor, plan }));
    if (window.transactions === 0) throw badTarget(`no transaction was archived between the backup and ${d.target}: nothing to bisect. ${windowText}`);

    const sandbox =
      backup.published.manifest.kind === 'physical' ? await restorePhysicalAndReplay(d, facts, backup, undefined) : await restoreDumpAndReplay(d, facts, backup, undefined, undefined);
    const passes = await evaluate(sandbox, 0);
    if (!passes && !given && patched(BISECT_OLDER_STARTS)) {
      tried.push({ manifestPath: backup.published.manifestPath, value: values.get(0) ?? '' });
      log.info('bisect: the query fails on the backup; trying the next older one', { backup: backup.published.manifestPath });
      await d.phase(Phases.Cleanup, () => d.onSandboxHost().cleanup.removeSandbox({ drillId }));
      continue;
    }
    const s = afterEvaluation(startSearch(window.transactions), passes);
    if (s.bad === 0) throw badTarget(`the start is wrong: the query already fails on the backup (it returns ${values.get(0)}, expected ${expected}), before any of the ${window.transactions} transactions. Start from an older backup (--from <manifest.json>). ${windowText}`);
    return searchFrom(d, request, { sandbox, backup, plan, window, windowText, started, values, measured, evaluate: (point) => evaluate(sandbox, point), s, restores: 1 + tried.length });
  }
}

/** The search from a backup on which the query passes, to its answer. */
async function searchFrom(
  d: Drill,
  request: BisectRequest,
  a: {
    sandbox: SandboxHandle;
    backup: ObtainedBackup;
    plan: ReplayPlan;
    window: { transactions: number };
    windowText: string;
    started: number;
    values: Map<number, string>;
    measured: { querySeconds: number };
    evaluate: (point: number) => Promise<boolean>;
    s: BisectSearch;
    restores: number;
  },
): Promise<BisectAnswer> {
  const { drillId } = d;
  const { sandbox, backup, plan, window, windowText, started, values, measured, evaluate } = a;
  const expected = describeExpectation(request.expect);
  const s = await d.phase('bisect', () => (patched(BISECT_SCANS) ? scanSearch(d, request, sandbox, a.s, measured, values) : search(d, request, sandbox, a.s, evaluate)));
  const last = s.count;
  if (s.bad === undefined) throw badTarget(`the end is wrong: the query never fails: it returns ${values.get(last)} (expected ${expected}) after all ${last} transactions up to ${formatCoordinates(plan.stop)}. Bisect to a later --to, or check the query. ${windowText}`);
  const culprit = s.bad;
  const described = await quick.describeBisectCulprit({ drillId, sandbox, index: culprit });
  return {
    source: request.drill.source.name,
    query: request.query,
    expected,
    backup: backup.published.manifestPath,
    window: { from: plan.start, to: plan.stop, transactions: window.transactions },
    culprit: described.culprit,
    ...(described.previous ? { previous: described.previous } : {}),
    valueBefore: values.get(culprit - 1) ?? '',
    valueAfter: values.get(culprit) ?? '',
    next: nextSteps(request.drill.source.name, described.culprit, described.previous),
    cost: { restores: a.restores, replays: s.replays, transactionsReplayed: s.transactionsReplayed, snapshots: s.snapshots.length, rewinds: s.rewinds, evaluations: s.evaluations, seconds: (Date.now() - started) / 1000 },
  };
}

/** Before bisect-scans: one activity per replay step and per query. Runs moves until the search ends; a replay step lost with its worker is redone from the nearest snapshot. */
async function search(d: Drill, request: BisectRequest, sandbox: SandboxHandle, initial: BisectSearch, evaluate: (point: number) => Promise<boolean>): Promise<BisectSearch> {
  const { drillId } = d;
  let s = initial;
  const measured = { transactionsReplayed: 0, replaySeconds: 0, restartSeconds: 0, restarts: 0 };
  let lost = 0;
  let steps = 0;
  const show = (doing?: string) => {
    const range = openRange(s);
    d.board.showBisect({ window: s.count, range, at: s.at, ...(doing ? { doing } : {}), steps, replays: s.replays, transactionsReplayed: s.transactionsReplayed, snapshots: s.snapshots.length, rewinds: s.rewinds });
    upsertMemo({ summary: `bisect of ${request.drill.source.name}: culprit within transactions ${range.from}-${range.to} of ${s.count} (${steps} steps)` });
  };
  for (;;) {
    const move: BisectMove = nextMove(s, { scanSteps: request.scanSteps ?? DEFAULT_SCAN_STEPS, restartCostTransactions: restartCostTransactions(measured) });
    if (move.kind === 'found' || move.kind === 'never-fails') {
      show();
      return s;
    }
    steps++;
    if (move.kind === 'snapshot') {
      show(`snapshot at ${move.at}`);
      const r = await long.snapshotSandbox({ drillId, sandbox, point: move.at });
      Object.assign(measured, { restartSeconds: measured.restartSeconds + r.seconds, restarts: measured.restarts + 1 });
      s = afterSnapshot(s, move.at);
    } else if (move.kind === 'rewind') {
      show(`rewind to ${move.to}`);
      const r = await long.rewindSandbox({ drillId, sandbox, point: move.to });
      Object.assign(measured, { restartSeconds: measured.restartSeconds + r.seconds, restarts: measured.restarts + 1 });
      s = afterRewind(s, move.to);
    } else {
      show(`replay ${move.from} → ${move.to}`);
      try {
        const r = await once.replayBisectStep({ drillId, sandbox, from: move.from, to: move.to });
        Object.assign(measured, { transactionsReplayed: measured.transactionsReplayed + (move.to - move.from), replaySeconds: measured.replaySeconds + r.seconds });
      } catch (err) {
        // Its worker died (or the sandbox's applier was lost): the sandbox stands somewhere between; go back and redo it.
        if (isCancellation(err) || !isRetryableActivityFailure(err) || ++lost > LOST_STEPS_ALLOWED) throw err;
        log.warn(`bisect replay ${move.from} → ${move.to} lost: redone from a snapshot`, { error: String(err) });
        const back = rewindAfterLostReplay(s, move.from) as { kind: 'rewind'; to: number };
        show(`rewind to ${back.to} after a lost replay`);
        await long.rewindSandbox({ drillId, sandbox, point: back.to });
        s = afterRewind(s, back.to);
        continue;
      }
      s = afterReplay(s, move.from, move.to, await evaluate(move.to));
    }
  }
}
