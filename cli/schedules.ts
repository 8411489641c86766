/**
 * Nightly drills on Temporal Schedules: one schedule per configured source, id
 * `restore-drill-<source>`, overlap SKIP (a drill still running makes the next one skip, never
 * pile up), a catch-up window and jitter from the config. `create` is create-or-update.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Client, ScheduleDescription, ScheduleOptions } from '@temporalio/client';
import { drillRequestFor, sourceConfig, sourceTaskQueue } from '../config/load';
import type { ConfigFile } from '../config/file-schema';
import { parseDrillRequest } from '../config/schema';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { binlogArchiverWorkflow, drillWorkflow } from '../client/workflows';
import type { SourceSpec } from '../config/schema';
import { DrillKind, DrillSource } from '../client/workflows';
import type { CliContext } from './context';
import { emit } from './context';
import { table } from './drills';

export const SCHEDULE_PREFIX = 'restore-drill-';

export function scheduleId(source: string): string {
  return `${SCHEDULE_PREFIX}${source}`;
}

/** The schedule for one source, all from the config file. */
export function scheduleOptions(config: ConfigFile, source: string, taskQueue: string): ScheduleOptions {
  const s = sourceConfig(config, source);
  if (!s.schedule) throw new DrillError(DrillErrorTypes.BadConfig, `source ${source} has no schedule: add schedule: { cron: "30 2 * * *" } under sources.${source}`);
  const request = parseDrillRequest(drillRequestFor(config, source));
  return {
    scheduleId: scheduleId(source),
    spec: { cronExpressions: [s.schedule.cron], timezone: s.schedule.timezone, jitter: s.schedule.jitter * 1000 },
    action: {
      type: 'startWorkflow',
      workflowType: drillWorkflow,
      // The server appends the scheduled time: drill-<source>-2026-11-21T02:30:00Z.
      workflowId: `drill-${source}`,
      taskQueue,
      args: [request],
      typedSearchAttributes: [
        { key: DrillSource, value: source },
        { key: DrillKind, value: 'scheduled' },
      ],
      staticSummary: `nightly drill of ${source} (schedule ${scheduleId(source)})`,
      // The schedule memo cannot be updated, the action can: the cron as written lives here (and reads well in the UI).
      staticDetails: scheduleDetails(s.schedule.cron, s.schedule.timezone),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.schedule.catchupWindow * 1000, pauseOnFailure: false },
    state: { paused: s.schedule.paused, note: s.schedule.paused ? 'paused in the configuration file' : undefined },
    memo: { source },
  };
}

/** The binlog archiver's schedule of a source (not listed among the drill schedules). */
export function archiverScheduleId(source: string): string {
  return `binlog-archiver-${source}`;
}

/**
 * Continuous archiving: every `everySeconds` one archiver run copies what the source wrote
 * since the archive's end. Overlap SKIP: a slow run is never doubled, and the archive itself is
 * the resumable state, so a skipped or missed run is caught up by the next.
 */
export function archiverScheduleOptions(source: SourceSpec, everySeconds: number, taskQueue: string, rpoTargetSeconds?: number): ScheduleOptions {
  return {
    scheduleId: archiverScheduleId(source.name),
    spec: { intervals: [{ every: everySeconds * 1000 }] },
    action: {
      type: 'startWorkflow',
      workflowType: binlogArchiverWorkflow,
      workflowId: `archive-${source.name}`,
      taskQueue,
      args: [{ source, ...(rpoTargetSeconds !== undefined ? { rpoTargetSeconds } : {}) }],
      typedSearchAttributes: [
        { key: DrillSource, value: source.name },
        { key: DrillKind, value: 'archive' },
      ],
      staticSummary: `binlog archiving of ${source.name} every ${everySeconds} s`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everySeconds * 1000, pauseOnFailure: false },
    memo: { source: source.name },
  };
}

const DETAILS = /cron `([^`]+)` in ([^\s,]+)/;

export function scheduleDetails(cron: string, timezone: string): string {
  return `Started by a restore-drill schedule: cron \`${cron}\` in ${timezone}, overlap SKIP.`;
}

export interface ScheduleView {
  scheduleId: string;
  source?: string;
  cron?: string;
  timezone?: string;
  paused: boolean;
  note?: string;
  overlap?: string;
  catchupWindowSeconds: number;
  jitterSeconds: number;
  taskQueue?: string;
  nextRuns: string[];
  running: string[];
  recent: { scheduledAt: string; workflowId: string }[];
  actions: number;
  skippedOverlap: number;
}

export function viewOf(d: ScheduleDescription): ScheduleView {
  const memo = (d.memo ?? {}) as { source?: string };
  const details = DETAILS.exec(d.action.staticDetails ?? '');
  return {
    scheduleId: d.scheduleId,
    source: memo.source,
    cron: details?.[1],
    timezone: details?.[2],
    paused: d.state.paused,
    note: d.state.note,
    overlap: d.policies.overlap,
    catchupWindowSeconds: d.policies.catchupWindow / 1000,
    jitterSeconds: (d.spec.jitter ?? 0) / 1000,
    taskQueue: d.action.taskQueue,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    recent: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    actions: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
  };
}

function sourcesFor(ctx: CliContext, source: string | undefined, all: boolean): string[] {
  const config = ctx.config();
  if (source) return [source];
  if (!all) throw new DrillError(DrillErrorTypes.BadConfig, 'name a source, or pass --all for every source with a schedule');
  return Object.entries(config.sources)
    .filter(([, s]) => s.schedule)
    .map(([name]) => name);
}

/** Creates the schedule, or updates it in place when it exists: running it twice leaves one schedule. */
export async function upsertSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning) && (err as Error)?.name !== 'ScheduleAlreadyRunning') throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update((prev) => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    // A pause made with `schedule pause` survives a re-create; the config's `paused: true` still wins.
    state: { paused: options.state?.paused || prev.state.paused, note: prev.state.note },
  }));
  return 'updated';
}

export async function scheduleCreate(ctx: CliContext, source: string | undefined, opts: { all: boolean }): Promise<number> {
  const client = await ctx.client();
  const results: { scheduleId: string; result: string }[] = [];
  for (const name of sourcesFor(ctx, source, opts.all)) {
    const taskQueue = ctx.options.taskQueue ?? sourceTaskQueue(ctx.config(), name, ctx.settings.taskQueue);
    const options = scheduleOptions(ctx.config(), name, taskQueue);
    results.push({ scheduleId: options.scheduleId, result: await upsertSchedule(client, options) });
    const { schedule, rpoTarget } = sourceConfig(ctx.config(), name);
    const archiver = archiverScheduleOptions(parseDrillRequest(drillRequestFor(ctx.config(), name)).source, schedule!.archiveEvery, taskQueue, rpoTarget);
    results.push({ scheduleId: archiver.scheduleId, result: await upsertSchedule(client, archiver) });
  }
  emit(ctx, results, () => results.map((r) => `${r.result} ${r.scheduleId}`).join('\n'));
  return 0;
}

export async function scheduleList(ctx: CliContext): Promise<number> {
  const client = await ctx.client();
  const views: ScheduleView[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith(SCHEDULE_PREFIX)) continue;
    views.push(viewOf(await client.schedule.getHandle(s.scheduleId).describe()));
  }
  views.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  emit(ctx, views, () =>
    views.length === 0
      ? 'no restore-drill schedules'
      : table(
          ['SCHEDULE', 'SOURCE', 'CRON', 'STATE', 'NEXT RUN', 'RUNS', 'SKIPPED'],
          views.map((v) => [v.scheduleId, v.source ?? '-', `${v.cron ?? '-'} ${v.timezone ?? ''}`.trim(), v.paused ? 'paused' : 'active', v.nextRuns[0] ?? '-', String(v.actions), String(v.skippedOverlap)]),
        ),
  );
  return 0;
}

async function describeOrExplain(client: Client, source: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(scheduleId(source)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError || (err as Error)?.name === 'ScheduleNotFoundError')
      throw new DrillError(DrillErrorTypes.BadConfig, `no schedule ${scheduleId(source)}: create it with restore-drill schedule create ${source}`);
    throw err;
  }
}

export async function scheduleDescribe(ctx: CliContext, source: string): Promise<number> {
  const view = viewOf(await describeOrExplain(await ctx.client(), source));
  emit(ctx, view, () =>
    [
      `${view.scheduleId}: ${view.paused ? `paused${view.note ? ` (${view.note})` : ''}` : 'active'}`,
      `cron ${view.cron} ${view.timezone}, jitter ${view.jitterSeconds}s, catch-up window ${view.catchupWindowSeconds}s, overlap ${view.overlap}, task queue ${view.taskQueue}`,
      `next runs: ${view.nextRuns.join(', ') || '-'}`,
      `running: ${view.running.join(', ') || '-'}`,
      `runs taken ${view.actions}, skipped because one was still running ${view.skippedOverlap}`,
      ...view.recent.slice(-5).map((r) => `  ${r.scheduledAt}  ${r.workflowId}`),
    ].join('\n'),
  );
  return 0;
}

export async function schedulePause(ctx: CliContext, source: string, pause: boolean, note?: string): Promise<number> {
  const client = await ctx.client();
  await describeOrExplain(client, source);
  const handle = client.schedule.getHandle(scheduleId(source));
  if (pause) await handle.pause(note ?? 'paused with restore-drill schedule pause');
  else await handle.unpause(note ?? 'unpaused with restore-drill schedule unpause');
  emit(ctx, { scheduleId: scheduleId(source), paused: pause }, () => `${scheduleId(source)} ${pause ? 'paused' : 'unpaused'}`);
  return 0;
}

/** Runs the drill now, under the schedule's own overlap policy: skipped while one is still running. */
export async function scheduleTrigger(ctx: CliContext, source: string): Promise<number> {
  const client = await ctx.client();
  const before = await describeOrExplain(client, source);
  await client.schedule.getHandle(scheduleId(source)).trigger(before.policies.overlap ?? ScheduleOverlapPolicy.SKIP);
  emit(ctx, { scheduleId: scheduleId(source), triggered: true, overlap: before.policies.overlap }, () =>
    `${scheduleId(source)} triggered (overlap ${before.policies.overlap}: skipped if a drill of ${source} is still running); see restore-drill schedule describe ${source}`,
  );
  return 0;
}

export async function scheduleDelete(ctx: CliContext, source: string): Promise<number> {
  const client = await ctx.client();
  await describeOrExplain(client, source);
  await client.schedule.getHandle(scheduleId(source)).delete();
  await client.schedule
    .getHandle(archiverScheduleId(source))
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError) && (err as Error)?.name !== 'ScheduleNotFoundError') throw err;
    });
  emit(ctx, { scheduleId: scheduleId(source), deleted: true }, () => `${scheduleId(source)} and ${archiverScheduleId(source)} deleted (drills already started keep running)`);
  return 0;
}
