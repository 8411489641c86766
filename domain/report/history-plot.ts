/**
 * A source's drill history as a picture (`history --plot`): one stacked bar per drill, oldest
 * on the left, its RTO split into the phases that make it up, the RTO target as a dashed line,
 * and each drill's outcome as a mark under its bar. Hand-written SVG: no charting dependency.
 *
 * Pure module.
 */
import { RTO_PHASES, formatSeconds } from './report';
import type { DrillReport } from './report';

export type PlottedDrill = Pick<DrillReport, 'drillId' | 'startedAt' | 'outcome' | 'phases' | 'rtoSeconds' | 'rtoTargetSeconds' | 'rtoMissed'> & { failure?: { type: string } };

export const PHASE_COLORS: Record<string, string> = {
  'sandbox-start': '#4e79a7',
  restore: '#f28e2b',
  replay: '#e15759',
  checks: '#76b7b2',
};
const PASSED = '#59a14f';
const FAILED = '#e15759';

const WIDTH_MIN = 640;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 20, top: 50, bottom: 100 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (n: number): string => n.toFixed(1);

/** Seconds of each RTO phase of one drill (a phase run twice, a retried restore, counts both). */
export function rtoParts(d: Pick<DrillReport, 'phases'>): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const p of d.phases) if (RTO_PHASES.includes(p.phase) && p.outcome !== 'skipped') parts[p.phase] = (parts[p.phase] ?? 0) + p.seconds;
  return parts;
}

/** A round axis step: 1, 2 or 5 times a power of ten, about `ticks` steps up to `max`. */
export function axisStep(max: number, ticks = 5): number {
  const raw = Math.max(max, 1e-3) / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
}

/** The SVG document of a source's history and its size; `drills` in any order, drawn oldest first. */
export function historyPlot(source: string, drills: readonly PlottedDrill[]): { svg: string; width: number; height: number } {
  const list = [...drills].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const slot = 36;
  const width = Math.max(WIDTH_MIN, MARGIN.left + MARGIN.right + list.length * slot);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const targets = list.map((d) => d.rtoTargetSeconds).filter((t): t is number => t !== undefined);
  const target = targets.at(-1);
  const max = Math.max(1e-3, ...list.map((d) => d.rtoSeconds), target ?? 0);
  const step = axisStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (s: number) => MARGIN.top + plotH - (s / top) * plotH;
  const barW = Math.min(24, (plotW / Math.max(1, list.length)) * 0.6);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(`Restore drills of ${source}: RTO per phase and outcome`)}</text>`,
    `<text x="${MARGIN.left}" y="38" fill="#555">${esc(summaryLine(list))}</text>`,
  ];
  out.push('<g class="axis">');
  for (let s = 0; s <= top + 1e-9; s += step) {
    out.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${px(y(s))}" y2="${px(y(s))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${px(y(s) + 4)}" text-anchor="end">${esc(formatSeconds(s))}</text>`);
  }
  out.push(`<text transform="translate(16 ${px(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle">RTO</text>`, '</g>');
  list.forEach((d, i) => {
    const cx = MARGIN.left + ((i + 0.5) * plotW) / list.length;
    const x = cx - barW / 2;
    out.push(`<g class="drill" data-drill="${esc(d.drillId)}" data-outcome="${d.outcome}">`, `<title>${esc(tooltip(d))}</title>`);
    let base = 0;
    const parts = rtoParts(d);
    for (const phase of RTO_PHASES) {
      const s = parts[phase] ?? 0;
      if (s <= 0) continue;
      out.push(`<rect class="phase" data-phase="${phase}" x="${px(x)}" y="${px(y(base + s))}" width="${px(barW)}" height="${px(y(base) - y(base + s))}" fill="${PHASE_COLORS[phase] ?? '#bab0ac'}"/>`);
      base += s;
    }
    const markY = MARGIN.top + plotH + 14;
    out.push(
      d.outcome === 'passed'
        ? `<circle class="outcome" cx="${px(cx)}" cy="${markY}" r="5" fill="${PASSED}"/>`
        : `<path class="outcome" d="M${px(cx - 5)} ${markY - 5} L${px(cx + 5)} ${markY + 5} M${px(cx + 5)} ${markY - 5} L${px(cx - 5)} ${markY + 5}" stroke="${FAILED}" stroke-width="2.5"/>`,
    );
    out.push(`<text x="${px(cx)}" y="${markY + 14}" text-anchor="end" transform="rotate(-45 ${px(cx)} ${markY + 14})">${esc(d.startedAt.slice(5, 16).replace('T', ' '))}</text>`, '</g>');
  });
  if (target !== undefined)
    out.push(`<line class="rto-target" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${px(y(target))}" y2="${px(y(target))}" stroke="#d62728" stroke-dasharray="6 4"/>`, `<text x="${width - MARGIN.right}" y="${px(y(target) - 4)}" text-anchor="end" fill="#d62728">RTO target ${esc(formatSeconds(target))}</text>`);
  out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`, `<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`);
  out.push(legend(HEIGHT - 10), '</svg>');
  return { svg: out.join('\n') + '\n', width, height: HEIGHT };
}

function summaryLine(list: readonly PlottedDrill[]): string {
  if (list.length === 0) return 'no drills yet';
  const passed = list.filter((d) => d.outcome === 'passed').length;
  const missed = list.filter((d) => d.rtoMissed).length;
  return `${list.length} drills, ${passed} passed, ${list.length - passed} failed${missed ? `, ${missed} over the RTO target` : ''}; ${list[0]!.startedAt.slice(0, 10)} to ${list.at(-1)!.startedAt.slice(0, 10)}`;
}

function tooltip(d: PlottedDrill): string {
  const parts = rtoParts(d);
  const phases = RTO_PHASES.filter((p) => parts[p] !== undefined).map((p) => `${p} ${formatSeconds(parts[p]!)}`);
  return `${d.drillId}: ${d.outcome.toUpperCase()}${d.failure ? ` (${d.failure.type})` : ''}, RTO ${formatSeconds(d.rtoSeconds)}${phases.length ? ` = ${phases.join(' + ')}` : ''}`;
}

function legend(yBase: number): string {
  const items: string[] = [];
  let x = MARGIN.left;
  for (const phase of RTO_PHASES) {
    items.push(`<rect x="${x}" y="${yBase - 10}" width="12" height="12" fill="${PHASE_COLORS[phase] ?? '#bab0ac'}"/><text x="${x + 16}" y="${yBase}">${esc(phase)}</text>`);
    x += 34 + phase.length * 7;
  }
  items.push(`<circle cx="${x + 6}" cy="${yBase - 4}" r="5" fill="${PASSED}"/><text x="${x + 16}" y="${yBase}">passed</text>`);
  x += 70;
  items.push(`<path d="M${x} ${yBase - 9} L${x + 10} ${yBase + 1} M${x + 10} ${yBase - 9} L${x} ${yBase + 1}" stroke="${FAILED}" stroke-width="2.5"/><text x="${x + 16}" y="${yBase}">failed</text>`);
  return `<g class="legend">${items.join('')}</g>`;
}
