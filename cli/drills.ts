/** The drill commands: drill, pitr, extend, release, status (history: cli/history.ts). */
import type { WorkflowHandle } from '@temporalio/client';
import { drillRequestFor, sourceTaskQueue } from '../config/load';
import { durationSeconds } from '../config/file-schema';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { CONTAINER_SOCKET, FLAVOR_TOOLS } from '../domain/flavors';
import { drillWorkflowId } from '../domain/naming';
import { formatSeconds, renderText } from '../domain/report/report';
import type { DrillReport } from '../domain/report/report';
import { describeTarget, parseTarget, type TargetRequest } from '../domain/recovery/targets';
import { describeSkip, parseSkip } from '../domain/recovery/replay-segments';
import { reportDir } from '../adapters/report-files';
import { renderPlainLine } from '../domain/progress/bar';
import { estimateWork } from '../domain/progress/work';
import { extendSignal, progressQuery, releaseSignal } from '../client/workflows';
import type { DrillProgress, drillWorkflow } from '../client/workflows';
import { DrillFailureType, DrillKind, DrillOutcome, DrillRtoSeconds, DrillSource, DrillTarget as DrillTargetAttr } from '../client/workflows';
import { workflowUiUrl } from '../client/settings';
import type { CliContext } from './context';
import { emit } from './context';
import { awaitDrill, drillProgress, startDrill } from '../client/drills';

type DrillHandle = WorkflowHandle<typeof drillWorkflow>;

export function parseDuration(text: string, what: string): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined || seconds <= 0) throw new DrillError(DrillErrorTypes.BadConfig, `${what} ${JSON.stringify(text)} is not a duration: write e.g. 30m, 2h or 1d`);
  return Math.round(seconds);
}

/** `drill <source>`: run a drill now, show its phases, print the report. Returns the exit code. */
export async function drillCommand(ctx: CliContext, source: string, opts: { target?: string; wait: boolean; backup?: string }): Promise<number> {
  const config = ctx.config();
  const target = opts.target ? parseTarget(opts.target) : undefined;
  const request = drillRequestFor(config, source, { target, backup: opts.backup });
  const client = await ctx.client();
  const taskQueue = queueOf(ctx, source);
  const handle = await startDrill({
    client,
    taskQueue,
    request,
    workflowId: drillWorkflowId(source, new Date().toISOString()),
    summary: `drill of ${source} to ${describeTarget(request.target ?? { kind: 'checkpoint' })} (restore-drill CLI)`,
  });
  const ui = workflowUiUrl(ctx.settings, handle.workflowId);
  ctx.log(`drill ${handle.workflowId} started on task queue ${taskQueue}; follow it at ${ui}`);
  if (!opts.wait) {
    emit(ctx, { drillId: handle.workflowId, ui }, () => handle.workflowId);
    return 0;
  }
  const { report, failure } = await awaitDrill(handle, ctx.json ? undefined : ctx.progress());
  emit(ctx, { drillId: handle.workflowId, ui, report, failure, reportPath: report ? reportDir(ctx.paths(), source, handle.workflowId) : undefined }, () =>
    [report ? renderText(report) : '', failure ? `FAILED (${failure.type}): ${failure.message}` : '', `Temporal UI: ${ui}`].filter(Boolean).join('\n'),
  );
  return report?.outcome === 'passed' && !failure ? 0 : 1;
}

/** The source's own task queue (its network zone's) unless --task-queue names one. */
function queueOf(ctx: CliContext, source: string): string {
  return ctx.options.taskQueue ?? sourceTaskQueue(ctx.config(), source, ctx.settings.taskQueue);
}

/** How a DBA reaches a kept sandbox. */
export function connectHints(report: Pick<DrillReport, 'flavor'>, sandbox: NonNullable<DrillProgress['sandbox']>): { dockerExec: string; socketPath: string; hostClient: string } {
  const client = FLAVOR_TOOLS[report.flavor].client;
  return {
    dockerExec: `docker exec -it ${sandbox.name} ${client} -uroot -S ${CONTAINER_SOCKET}`,
    socketPath: sandbox.socketPath,
    hostClient: `${client} -uroot -S ${sandbox.socketPath}`,
  };
}

/** `pitr <source> --to <target>`: restore to a point, keep the sandbox, print how to connect. */
export async function pitrCommand(
  ctx: CliContext,
  source: string,
  opts: { to?: string; beforeEvent?: string; ttl?: string; backup?: string; skip?: string[] },
): Promise<number> {
  if (!opts.to === !opts.beforeEvent) throw new DrillError(DrillErrorTypes.BadTarget, 'give exactly one of --to <target> or --before-event <pattern>');
  const target: TargetRequest = opts.beforeEvent ? { kind: 'beforeEvent', pattern: opts.beforeEvent } : parseTarget(opts.to!);
  const skip = (opts.skip ?? []).map(parseSkip);
  const config = ctx.config();
  const ttl = opts.ttl ? parseDuration(opts.ttl, '--ttl') : undefined;
  // A published manifest, or a team's backup (path, URL, latest...); without one the newest backup before the target, own or adopted.
  const manifest = opts.backup?.endsWith('/manifest.json') ? opts.backup : undefined;
  const request = drillRequestFor(config, source, { target, skip, keepSandbox: true, sandboxTtlSeconds: ttl, backupManifest: manifest, backup: manifest ? undefined : (opts.backup ?? 'own') });
  const client = await ctx.client();
  const handle = await startDrill({
    client,
    taskQueue: queueOf(ctx, source),
    request,
    workflowId: drillWorkflowId(source, new Date().toISOString()).replace(/^drill-/, 'pitr-'),
    summary: `PITR of ${source} to ${opts.beforeEvent ? `before "${opts.beforeEvent}"` : opts.to}${skip.length > 0 ? `, skipping ${skip.map(describeSkip).join(', ')}` : ''} (restore-drill CLI)`,
  });
  const ui = workflowUiUrl(ctx.settings, handle.workflowId);
  ctx.log(`point-in-time restore ${handle.workflowId} started; follow it at ${ui}`);
  const print = ctx.json ? undefined : ctx.progress();
  let progress: DrillProgress | undefined;
  for (;;) {
    progress = await drillProgress(handle).catch(() => progress);
    if (progress) print?.(progress);
    if (progress?.status === 'kept') break;
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') {
      const { report, failure } = await awaitDrill(handle);
      emit(ctx, { drillId: handle.workflowId, ui, report, failure }, () => [report ? renderText(report) : '', failure ? `FAILED (${failure.type}): ${failure.message}` : ''].join('\n'));
      return 1;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const report = progress.report!;
  const sandbox = progress.sandbox!;
  const hints = connectHints(report, sandbox);
  emit(ctx, { drillId: handle.workflowId, ui, sandbox: { ...sandbox, ...hints }, report }, () =>
    [
      renderText(report),
      `The restored server is kept${sandbox.host ? ` on worker host ${sandbox.host}` : ''} until ${sandbox.expiresAt}:`,
      `  ${hints.dockerExec}`,
      `  or from ${sandbox.host ?? 'this host'}: ${hints.hostClient}`,
      `  socket: ${hints.socketPath}`,
      `Keep it longer:  restore-drill extend ${handle.workflowId} --by 2h`,
      `Remove it now:   restore-drill release ${handle.workflowId}`,
      `Temporal UI:     ${ui}`,
    ].join('\n'),
  );
  return report.outcome === 'passed' ? 0 : 1;
}

async function keptProgress(handle: DrillHandle, id: string): Promise<DrillProgress> {
  const progress = await handle.query(progressQuery).catch((err: Error) => {
    throw new DrillError(DrillErrorTypes.BadConfig, `drill ${id} cannot be asked for its sandbox (${err.message}); is it a running pitr and is a worker up?`);
  });
  if (progress.status !== 'kept' || !progress.sandbox) throw new DrillError(DrillErrorTypes.BadConfig, `drill ${id} has no kept sandbox (status ${progress.status})`);
  return progress;
}

/** `extend <id> --by <duration>`: keeps a kept sandbox longer; prints the new expiry. */
export async function extendCommand(ctx: CliContext, id: string, by: string): Promise<number> {
  const seconds = parseDuration(by, '--by');
  const handle = (await ctx.client()).workflow.getHandle<typeof drillWorkflow>(id);
  const before = await keptProgress(handle, id);
  await handle.signal(extendSignal, seconds);
  // The signal is handled on the workflow's next task: wait until the query shows it.
  let after = before;
  for (let i = 0; i < 50 && after.sandbox?.expiresAt === before.sandbox!.expiresAt; i++) {
    await new Promise((r) => setTimeout(r, 200));
    after = await handle.query(progressQuery);
  }
  emit(ctx, { drillId: id, previousExpiresAt: before.sandbox!.expiresAt, expiresAt: after.sandbox?.expiresAt }, () => `sandbox ${after.sandbox?.name} of ${id} now expires at ${after.sandbox?.expiresAt} (was ${before.sandbox!.expiresAt})`);
  return 0;
}

/** `release <id>`: removes a kept sandbox now and waits until it is gone. */
export async function releaseCommand(ctx: CliContext, id: string, opts: { wait: boolean }): Promise<number> {
  const handle = (await ctx.client()).workflow.getHandle<typeof drillWorkflow>(id);
  const progress = await keptProgress(handle, id);
  await handle.signal(releaseSignal);
  if (opts.wait) await awaitDrill(handle);
  emit(ctx, { drillId: id, released: progress.sandbox!.name }, () => `sandbox ${progress.sandbox!.name} of ${id} ${opts.wait ? 'removed' : 'is being removed'}`);
  return 0;
}

/** `status <id>`: where a drill is, from Temporal (works for running and finished drills). */
export async function statusCommand(ctx: CliContext, id: string): Promise<number> {
  const handle = (await ctx.client()).workflow.getHandle<typeof drillWorkflow>(id);
  const described = await handle.describe();
  const progress = await drillProgress(handle).catch(() => undefined);
  const attrs = described.typedSearchAttributes;
  const status = {
    drillId: id,
    runStatus: described.status.name,
    startTime: described.startTime.toISOString(),
    closeTime: described.closeTime?.toISOString(),
    source: attrs.get(DrillSource),
    kind: attrs.get(DrillKind),
    target: attrs.get(DrillTargetAttr),
    outcome: attrs.get(DrillOutcome),
    rtoSeconds: attrs.get(DrillRtoSeconds),
    failureType: attrs.get(DrillFailureType),
    summary: (described.memo as { summary?: string } | undefined)?.summary,
    progress,
    ui: workflowUiUrl(ctx.settings, id),
  };
  emit(ctx, status, () => {
    const lines = [`${id}: ${status.runStatus}${progress ? ` (${progress.status}${progress.current ? `, in ${progress.current}` : ''})` : ''}`];
    lines.push(`source ${status.source ?? '-'}  kind ${status.kind ?? '-'}  target ${status.target ?? '-'}  outcome ${status.outcome ?? '-'}`);
    for (const p of progress?.phases ?? []) lines.push(`  ${p.outcome === 'ok' ? '✓' : '✗'} ${p.phase.padEnd(16)} ${formatSeconds(p.seconds).padStart(8)}`);
    for (const w of progress?.work ?? []) lines.push(renderPlainLine(estimateWork(w.phase, w.work, Date.now())));
    if (progress?.status === 'kept' && progress.sandbox && progress.report) {
      const hints = connectHints(progress.report, progress.sandbox);
      lines.push(`sandbox ${progress.sandbox.name}${progress.sandbox.host ? ` on worker host ${progress.sandbox.host}` : ''} kept until ${progress.sandbox.expiresAt}`, `  ${hints.dockerExec}`, `  socket: ${hints.socketPath}`);
    }
    if (status.summary) lines.push(status.summary);
    lines.push(`Temporal UI: ${status.ui}`);
    return lines.join('\n');
  });
  return 0;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
