/**
 * A hand-written SVG of the benchmark (converted to PNG by rsvg-convert): stacked bars of
 * median seconds per phase of a whole run for each candidate and flavor, then three line charts: several
 * drills at once (wall time and per-drill RTO against the number of drills), and drill time
 * against data size and against binlog volume.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { CandidateMedians, ConcurrencyPoint, GrowthPoint } from './summary';

interface PlotInput {
  size: string;
  workload?: string;
  flavors: Record<string, { medians: Record<string, Partial<CandidateMedians>>; concurrency?: ConcurrencyPoint[]; growth?: { dataSize: GrowthPoint[]; binlogVolume: GrowthPoint[] } }>;
}

const PHASES = [
  ['ready', '#4e79a7'],
  ['restore', '#f28e2b'],
  ['replay', '#e15759'],
  ['checks', '#76b7b2'],
  ['cleanup', '#59a14f'],
  ['other', '#edc948'],
  ['temporalOverhead', '#bab0ac'],
] as const;
const CANDIDATES = ['engine-fast', 'engine-fallback', 'engine-physical', 'shell-script', 'load-data', 'myloader'];
const SERIES_COLORS = ['#4e79a7', '#e15759', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2'];
const WIDTH = 900;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const finite = (x: number | undefined): number => (x !== undefined && Number.isFinite(x) ? x : 0);

function bars(input: PlotInput, top: number): { svg: string[]; height: number } {
  const rows: { label: string; parts: number[] }[] = [];
  for (const [flavor, f] of Object.entries(input.flavors))
    for (const c of CANDIDATES.filter((x) => f.medians[x] !== undefined)) rows.push({ label: `${flavor} ${c}`, parts: PHASES.map(([p]) => finite(f.medians[c]?.[p])) });
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  const left = 190;
  const barH = 22;
  const scale = (WIDTH - left - 80) / max;
  const out: string[] = [`<text x="10" y="${top + 14}" font-size="13" font-weight="bold">Median seconds per phase of a whole drill (restore-only baselines: ready + restore)</text>`];
  const y0 = top + 26;
  rows.forEach((r, i) => {
    const y = y0 + i * (barH + 10);
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`);
    let x = left;
    r.parts.forEach((v, k) => {
      const w = v * scale;
      if (w > 0) out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${PHASES[k][1]}"/>`);
      x += w;
    });
    out.push(`<text x="${(x + 6).toFixed(1)}" y="${y + 15}">${r.parts.reduce((a, b) => a + b, 0).toFixed(1)} s</text>`);
  });
  const ly = y0 + rows.length * (barH + 10) + 8;
  const legend: Record<string, string> = { other: 'other activities', temporalOverhead: 'Temporal overhead' };
  PHASES.forEach(([p, color], k) => out.push(`<rect x="${10 + k * 120}" y="${ly}" width="14" height="14" fill="${color}"/><text x="${10 + k * 120 + 20}" y="${ly + 12}">${legend[p] ?? p}</text>`));
  return { svg: out, height: ly + 30 - top };
}

interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}

/** One line chart in a `w`×`h` box at (x, y); both axes from 0. */
function lineChart(x: number, y: number, w: number, h: number, title: string, xLabel: string, series: Series[]): string[] {
  const out = [`<text x="${x}" y="${y + 14}" font-size="13" font-weight="bold">${esc(title)}</text>`];
  const px = x + 45;
  const py = y + 28;
  const pw = w - 60;
  const ph = h - 100;
  const all = series.flatMap((s) => s.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  if (all.length === 0) return [...out, `<text x="${px}" y="${py + 20}" fill="#888">not measured in this run</text>`];
  const maxX = Math.max(...all.map(([a]) => a)) || 1;
  const maxY = Math.max(...all.map(([, b]) => b)) * 1.1 || 1;
  const sx = (v: number) => px + (v / maxX) * pw;
  const sy = (v: number) => py + ph - (v / maxY) * ph;
  out.push(`<line x1="${px}" y1="${py + ph}" x2="${px + pw}" y2="${py + ph}" stroke="#333"/><line x1="${px}" y1="${py}" x2="${px}" y2="${py + ph}" stroke="#333"/>`);
  for (const f of [0, 0.5, 1]) {
    out.push(`<text x="${px - 4}" y="${sy(maxY * f) + 4}" text-anchor="end" font-size="10">${(maxY * f).toFixed(maxY < 10 ? 1 : 0)}</text>`);
    out.push(`<text x="${sx(maxX * f)}" y="${py + ph + 14}" text-anchor="middle" font-size="10">${Number((maxX * f).toPrecision(3)).toLocaleString('en')}</text>`);
  }
  out.push(`<text x="${px + pw / 2}" y="${py + ph + 28}" text-anchor="middle" font-size="11">${esc(xLabel)}</text><text x="${x}" y="${py - 4}" font-size="10">s</text>`);
  series.forEach((s, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    const pts = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${pts.map(([a, b]) => `${sx(a).toFixed(1)},${sy(b).toFixed(1)}`).join(' ')}"/>`);
    for (const [a, b] of pts) out.push(`<circle cx="${sx(a).toFixed(1)}" cy="${sy(b).toFixed(1)}" r="3" fill="${color}"/>`);
    out.push(`<line x1="${x + 10}" y1="${y + h - 30 + (i % 3) * 12}" x2="${x + 26}" y2="${y + h - 30 + (i % 3) * 12}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`);
    out.push(`<text x="${x + 30 + Math.floor(i / 3) * 150}" y="${y + h - 26 + (i % 3) * 12}" font-size="10">${esc(s.name)}</text>`);
  });
  return out;
}

export function renderSvg(input: PlotInput): string {
  const head = 40;
  const b = bars(input, head);
  const chartsTop = head + b.height + 10;
  const chartW = WIDTH / 3;
  const chartH = 260;
  const flavors = Object.entries(input.flavors);
  const concurrency = lineChart(0, chartsTop, chartW, chartH, 'Drills at once, one worker', 'drills started together', [
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} wall`, points: (f.concurrency ?? []).map((p) => [p.drills, p.wallSeconds] as [number, number]) })),
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} RTO each`, dashed: true, points: (f.concurrency ?? []).map((p) => [p.drills, p.rtoSeconds] as [number, number]) })),
  ]);
  const dataSize = lineChart(chartW, chartsTop, chartW, chartH, 'Drill time vs data size', 'rows', [
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} drill`, points: (f.growth?.dataSize ?? []).map((p) => [p.rows, p.drillSeconds] as [number, number]) })),
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} restore`, dashed: true, points: (f.growth?.dataSize ?? []).map((p) => [p.rows, p.restoreSeconds] as [number, number]) })),
  ]);
  const binlog = lineChart(2 * chartW, chartsTop, chartW, chartH, 'Drill time vs binlog volume', 'row events after the backup', [
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} drill`, points: (f.growth?.binlogVolume ?? []).map((p) => [p.rowEvents, p.drillSeconds] as [number, number]) })),
    ...flavors.map(([flavor, f]) => ({ name: `${flavor} replay`, dashed: true, points: (f.growth?.binlogVolume ?? []).map((p) => [p.rowEvents, p.replaySeconds] as [number, number]) })),
  ]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${chartsTop + chartH + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">restore-drill bench (${esc(input.size)}${input.workload ? `, ${esc(input.workload)} workload` : ''}): medians of the runs that matched the ground truth</text>`,
    ...b.svg,
    ...concurrency,
    ...dataSize,
    ...binlog,
    '</svg>',
  ].join('\n');
}

/** One horizontal bar per value (seconds unless `format` says otherwise), the highlighted ones in blue: a quick comparison of a few timings. */
export function barChart(values: Record<string, number>, title: string, highlight: (label: string) => boolean, format: (v: number) => string = (v) => `${v.toFixed(2)} s`): string {
  const entries = Object.entries(values);
  const max = Math.max(...entries.map(([, v]) => v));
  const rows = entries.map(([k, v], i) => {
    const y = 40 + i * 34;
    const w = (v / max) * 520;
    return `<text x="10" y="${y + 17}" font-size="13">${esc(k)}</text><rect x="190" y="${y}" width="${w.toFixed(1)}" height="24" fill="${highlight(k) ? '#4e79a7' : '#bab0ac'}"/><text x="${(196 + w).toFixed(1)}" y="${y + 17}" font-size="13">${esc(format(v))}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="${60 + entries.length * 34}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15">${esc(title)}</text>${rows.join('')}</svg>`;
}

/**
 * Turns a saved SVG into the PNG beside it with rsvg-convert, installing Debian's librsvg2-bin
 * through deploy/lib.sh the first time (a fresh machine has none). True when the PNG was written.
 */
export function svgToPng(svgPath: string, pngPath: string): boolean {
  const has = () => spawnSync('bash', ['-c', 'command -v rsvg-convert'], { stdio: 'ignore' }).status === 0;
  if (!has()) {
    const lib = path.resolve(__dirname, '../../../deploy/lib.sh');
    spawnSync('bash', ['-c', `source '${lib}' && rd_apt_install librsvg2-bin`], { stdio: 'inherit' });
  }
  if (!has()) {
    process.stderr.write(`bench: rsvg-convert is missing (Debian librsvg2-bin); the plot stays an SVG: ${svgPath}\n`);
    return false;
  }
  return spawnSync('rsvg-convert', ['-o', pngPath, svgPath], { stdio: 'inherit' }).status === 0;
}
