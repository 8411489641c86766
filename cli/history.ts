/** `history <source>`: past drills, as a table and, with --plot, as a picture. */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readReports } from '../adapters/report-files';
import { screenshotToPng } from '../adapters/screenshot';
import { DrillFailureType, DrillKind, DrillOutcome, DrillRtoSeconds, DrillTarget as DrillTargetAttr } from '../client/workflows';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { historyPlot } from '../domain/report/history-plot';
import { formatSeconds } from '../domain/report/report';
import type { CliContext } from './context';
import { emit } from './context';
import { table } from './drills';

export interface HistoryEntry {
  drillId: string;
  startedAt: string;
  kind?: string;
  target?: string;
  outcome: string;
  rtoSeconds?: number;
  rtoTargetSeconds?: number;
  rtoMissed?: boolean;
  rpoSeconds?: number;
  failureType?: string;
  /** Where the entry came from: the report on disk (complete) or Temporal's visibility (no RPO). */
  from: 'report' | 'temporal';
}

/** `history <source>`: past drills, newest first, from the reports on disk and Temporal's visibility store. */
export async function historyCommand(ctx: CliContext, source: string, opts: { limit: number; plot?: string }): Promise<number> {
  const plot = opts.plot ? await plotTarget(opts.plot) : undefined;
  const entries = new Map<string, HistoryEntry>();
  const reports = await readReports(ctx.paths(), source, opts.limit);
  for (const r of reports) {
    entries.set(r.drillId, {
      drillId: r.drillId,
      startedAt: r.startedAt,
      target: r.target,
      outcome: r.outcome,
      rtoSeconds: r.rtoSeconds,
      rtoTargetSeconds: r.rtoTargetSeconds,
      rtoMissed: r.rtoMissed,
      rpoSeconds: r.rpoSeconds,
      failureType: r.failure?.type,
      from: 'report',
    });
  }
  const client = await ctx.client();
  let n = 0;
  for await (const wf of client.workflow.list({ query: `DrillSource = ${JSON.stringify(source)}` })) {
    if (n++ >= opts.limit) break;
    const a = wf.typedSearchAttributes;
    const known = entries.get(wf.workflowId);
    if (known) {
      known.kind = a.get(DrillKind);
      continue;
    }
    entries.set(wf.workflowId, {
      drillId: wf.workflowId,
      startedAt: wf.startTime.toISOString(),
      kind: a.get(DrillKind),
      target: a.get(DrillTargetAttr),
      outcome: wf.status.name === 'RUNNING' ? 'running' : (a.get(DrillOutcome) ?? wf.status.name.toLowerCase()),
      rtoSeconds: a.get(DrillRtoSeconds),
      failureType: a.get(DrillFailureType),
      from: 'temporal',
    });
  }
  const list = [...entries.values()].sort((x, y) => Date.parse(y.startedAt) - Date.parse(x.startedAt)).slice(0, opts.limit);
  emit(ctx, list, () => {
    if (list.length === 0) return `no drills of ${source} yet`;
    const rows = list.map((e) => [
      e.startedAt.replace(/\.\d+Z$/, 'Z'),
      e.drillId,
      e.kind ?? '-',
      e.outcome.toUpperCase() + (e.failureType ? ` (${e.failureType})` : ''),
      e.rtoSeconds === undefined ? '-' : formatSeconds(e.rtoSeconds) + (e.rtoMissed ? ` > target ${formatSeconds(e.rtoTargetSeconds!)} MISSED` : ''),
      e.rpoSeconds === undefined ? '-' : formatSeconds(e.rpoSeconds),
      e.target ?? '-',
    ]);
    return table(['STARTED', 'DRILL', 'KIND', 'OUTCOME', 'RTO', 'RPO', 'TARGET'], rows);
  });
  if (plot) {
    await writeHistoryPlot(plot, historyPlot(source, reports));
    ctx.log(`plot of ${reports.length} drills of ${source} (RTO per phase and outcome, from their reports) written to ${plot.file}`);
  }
  return 0;
}

/** Where `history --plot` writes, checked before anything is read: an .svg or .png file in an existing folder. */
async function plotTarget(file: string): Promise<{ file: string; format: 'svg' | 'png' }> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.svg' && ext !== '.png') throw new DrillError(DrillErrorTypes.BadConfig, `--plot ${JSON.stringify(file)}: name an .svg or a .png file`);
  const dir = path.dirname(path.resolve(file));
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new DrillError(DrillErrorTypes.BadConfig, `--plot ${JSON.stringify(file)}: folder ${dir} does not exist`);
  return { file, format: ext === '.svg' ? 'svg' : 'png' };
}

async function writeHistoryPlot(plot: { file: string; format: 'svg' | 'png' }, picture: { svg: string; width: number; height: number }): Promise<void> {
  if (plot.format === 'svg') return writeFile(plot.file, picture.svg);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'restore-drill-plot-'));
  try {
    const svgFile = path.join(dir, 'history.svg');
    await writeFile(svgFile, picture.svg);
    await screenshotToPng(svgFile, plot.file, picture);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
