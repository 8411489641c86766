/** A hand-written SVG of the benchmark: one stacked bar of median phase times per candidate and flavor (converted to PNG by rsvg-convert). */

interface PlotInput {
  size: string;
  flavors: Record<string, { medians: Record<string, Record<string, number>>; ratios: Record<string, number> }>;
}

const PHASES = [
  ['ready', '#4e79a7'],
  ['restore', '#f28e2b'],
  ['replay', '#e15759'],
  ['checks', '#76b7b2'],
  ['cleanup', '#59a14f'],
] as const;
const CANDIDATES = ['engine-fast', 'engine-fallback', 'shell-script', 'load-data', 'myloader'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderSvg(input: PlotInput): string {
  const rows: { label: string; parts: number[] }[] = [];
  for (const [flavor, f] of Object.entries(input.flavors))
    for (const c of CANDIDATES.filter((x) => f.medians[x] !== undefined)) rows.push({ label: `${flavor} ${c}`, parts: PHASES.map(([p]) => (Number.isFinite(f.medians[c]?.[p]) ? f.medians[c][p] : 0)) });
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  const left = 190;
  const width = 900;
  const barH = 22;
  const top = 50;
  const scale = (width - left - 80) / max;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + rows.length * (barH + 10) + 70}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">restore-drill bench (${esc(input.size)}): median seconds per phase, restore side of a drill</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 10);
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`);
    let x = left;
    r.parts.forEach((v, k) => {
      const w = v * scale;
      if (w > 0) out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${PHASES[k][1]}"/>`);
      x += w;
    });
    out.push(`<text x="${(x + 6).toFixed(1)}" y="${y + 15}">${r.parts.reduce((a, b) => a + b, 0).toFixed(1)} s</text>`);
  });
  const ly = top + rows.length * (barH + 10) + 20;
  PHASES.forEach(([p, color], k) => {
    out.push(`<rect x="${left + k * 110}" y="${ly}" width="14" height="14" fill="${color}"/><text x="${left + k * 110 + 20}" y="${ly + 12}">${p}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
