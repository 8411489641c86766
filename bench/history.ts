/**
 * What a drill's workflow history says about its time: when each activity ran, how much of
 * the drill's wall time no activity was running (the Temporal overhead: scheduling, workflow
 * tasks, the source lock's child workflow), and the restore and checks activities' own
 * breakdowns when they report one (schema, data, indexes; CHECK TABLE, table states,
 * assertions). Pure over a history, plus one fetch.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import { tsToMs } from '@temporalio/common/lib/time';
import { SANDBOX_PLACED_SIGNAL } from '../domain/placement';

export interface ActivitySpan {
  activity: string;
  startMs: number;
  endMs: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'cancelled';
  /** The decoded result of a completed activity. */
  result?: unknown;
  /** The task queue it was scheduled on (a host's own queue when sandboxes are placed). */
  taskQueue: string;
  /** The identity of the worker that ran its last attempt (`<pid>@<machine>` by default). */
  identity: string;
}

export interface DrillTimeline {
  /** Workflow start to close, from the history's first and last events. */
  wallSeconds: number;
  /** The time at least one activity was running (overlaps counted once). */
  activitySeconds: number;
  /** wallSeconds − activitySeconds. */
  overheadSeconds: number;
  spans: ActivitySpan[];
}

type HistoryEvent = NonNullable<History['events']>[number];
const id = (x: unknown): string => String(x ?? '');

/** Every activity attempt that finished, with its start and end times. */
export function activitySpans(history: History): ActivitySpan[] {
  const scheduled = new Map<string, { activity: string; taskQueue: string }>();
  const started = new Map<string, { ms: number; identity: string }>();
  const spans: ActivitySpan[] = [];
  const finish = (e: HistoryEvent, attrs: { scheduledEventId?: unknown } | null | undefined, outcome: ActivitySpan['outcome'], result?: unknown) => {
    const key = id(attrs?.scheduledEventId);
    const start = started.get(key);
    const { activity, taskQueue } = scheduled.get(key) ?? { activity: '?', taskQueue: '' };
    if (start !== undefined) spans.push({ activity, startMs: start.ms, endMs: tsToMs(e.eventTime), outcome, ...(result !== undefined ? { result } : {}), taskQueue, identity: start.identity });
  };
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    const t = e.activityTaskStartedEventAttributes;
    if (s) scheduled.set(id(e.eventId), { activity: s.activityType?.name ?? '?', taskQueue: s.taskQueue?.name ?? '' });
    else if (t) started.set(id(t.scheduledEventId), { ms: tsToMs(e.eventTime), identity: t.identity ?? '' });
    else if (e.activityTaskCompletedEventAttributes) {
      const payload = e.activityTaskCompletedEventAttributes.result?.payloads?.[0];
      finish(e, e.activityTaskCompletedEventAttributes, 'completed', payload ? defaultPayloadConverter.fromPayload(payload) : undefined);
    } else if (e.activityTaskFailedEventAttributes) finish(e, e.activityTaskFailedEventAttributes, 'failed');
    else if (e.activityTaskTimedOutEventAttributes) finish(e, e.activityTaskTimedOutEventAttributes, 'timed-out');
    else if (e.activityTaskCanceledEventAttributes) finish(e, e.activityTaskCanceledEventAttributes, 'cancelled');
  }
  return spans;
}

/** Wall time, activity time (the union of the spans) and their difference. */
export function drillTimeline(history: History): DrillTimeline {
  const events = history.events ?? [];
  if (events.length === 0) return { wallSeconds: 0, activitySeconds: 0, overheadSeconds: 0, spans: [] };
  const wallMs = tsToMs(events[events.length - 1].eventTime) - tsToMs(events[0].eventTime);
  const spans = activitySpans(history);
  let busyMs = 0;
  let reach = -Infinity;
  for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    busyMs += Math.max(0, s.endMs - Math.max(s.startMs, reach));
    reach = Math.max(reach, s.endMs);
  }
  return { wallSeconds: wallMs / 1000, activitySeconds: busyMs / 1000, overheadSeconds: (wallMs - busyMs) / 1000, spans };
}

/**
 * The restore's sub-phases, when its activity reports them: a `phases` record or list of
 * `{ phase|name, seconds }`, or `<name>Seconds` fields (`schemaSeconds` becomes `schema`).
 * The total (`seconds`) is not a sub-phase.
 */
export function restoreBreakdown(result: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!result || typeof result !== 'object') return out;
  const r = result as Record<string, unknown>;
  if (Array.isArray(r.phases)) {
    for (const p of r.phases as Record<string, unknown>[]) {
      const name = p?.phase ?? p?.name;
      if (typeof name === 'string' && typeof p.seconds === 'number') out[name] = (out[name] ?? 0) + p.seconds;
    }
  } else if (r.phases && typeof r.phases === 'object') {
    for (const [name, v] of Object.entries(r.phases as Record<string, unknown>)) {
      const seconds = typeof v === 'number' ? v : typeof (v as { seconds?: unknown })?.seconds === 'number' ? (v as { seconds: number }).seconds : undefined;
      if (seconds !== undefined) out[name] = seconds;
    }
  }
  for (const [key, v] of Object.entries(r)) if (key.endsWith('Seconds') && key !== 'seconds' && typeof v === 'number') out[key.slice(0, -'Seconds'.length)] = v;
  return out;
}

/** The restore activity's breakdown in a drill (the last completed attempt's). */
export function restorePhasesOf(timeline: DrillTimeline): Record<string, number> {
  const restore = timeline.spans.filter((s) => s.activity === 'restoreLogicalDump' && s.outcome === 'completed').pop();
  return restore ? restoreBreakdown(restore.result) : {};
}

/**
 * The checks activity's breakdown in a drill (the last completed attempt's `timings`):
 * `checkTable` and `tableStates` (summed session seconds of their items, which overlap),
 * `assertions`, `wall` (the parallel part's wall time) and `sessions`.
 */
export function checkPartsOf(timeline: DrillTimeline): Record<string, number> {
  const verify = timeline.spans.filter((s) => s.activity === 'verifyRestore' && s.outcome === 'completed').pop();
  const timings = (verify?.result as { timings?: Record<string, unknown> } | undefined)?.timings;
  if (!timings || typeof timings !== 'object') return {};
  return { ...restoreBreakdown(timings), ...(typeof timings.sessions === 'number' ? { sessions: timings.sessions } : {}) };
}

/**
 * Per task queue (one per worker host when sandboxes are placed), the most sandboxes of these
 * drills that were up at once: each from its createSandbox's start to its last removeSandbox's end.
 */
export function sandboxesAtOnce(spansByDrill: ActivitySpan[][]): Record<string, number> {
  const edges: { queue: string; at: number; delta: number }[] = [];
  for (const spans of spansByDrill) {
    const created = spans.find((s) => s.activity === 'createSandbox' && s.outcome === 'completed');
    const removed = spans.filter((s) => s.activity === 'removeSandbox').at(-1);
    if (!created || !removed) continue;
    edges.push({ queue: created.taskQueue, at: created.startMs, delta: 1 }, { queue: created.taskQueue, at: removed.endMs, delta: -1 });
  }
  const most: Record<string, number> = {};
  const now: Record<string, number> = {};
  // At equal times a removal counts first: one sandbox gone as the next starts is not two.
  for (const e of edges.sort((a, b) => a.at - b.at || a.delta - b.delta)) {
    now[e.queue] = (now[e.queue] ?? 0) + e.delta;
    most[e.queue] = Math.max(most[e.queue] ?? 0, now[e.queue]!);
  }
  return most;
}

/**
 * The placement step of a drill (workflows/drill/placement.ts): from asking whether sandboxes
 * are placed to the first host's `sandbox-placed` signal, in seconds; undefined when the drill's
 * sandbox was not placed.
 */
export function placementSeconds(history: History): number | undefined {
  let askedMs: number | undefined;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'sandboxPlacement') askedMs ??= tsToMs(e.eventTime);
    else if (e.workflowExecutionSignaledEventAttributes?.signalName === SANDBOX_PLACED_SIGNAL && askedMs !== undefined) return (tsToMs(e.eventTime) - askedMs) / 1000;
  }
  return undefined;
}
