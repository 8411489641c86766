import { axisStep, historyPlot, rtoParts } from '../../domain/report/history-plot';
import type { PlottedDrill } from '../../domain/report/history-plot';

function drill(id: string, startedAt: string, outcome: 'passed' | 'failed', seconds: Record<string, number>, more: Partial<PlottedDrill> = {}): PlottedDrill {
  const phases = Object.entries(seconds).map(([phase, s]) => ({ phase, startedAt, finishedAt: startedAt, seconds: s, outcome: 'ok' as const }));
  const rto = Object.entries(seconds).filter(([p]) => p !== 'backup' && p !== 'cleanup').reduce((a, [, s]) => a + s, 0);
  return { drillId: id, startedAt, outcome, phases, rtoSeconds: rto, ...more };
}

const history = [
  drill('drill-b', '2026-12-02T03:00:00.000Z', 'failed', { backup: 4, 'sandbox-start': 2, restore: 6 }, { failure: { type: 'ChecksFailed' } }),
  drill('drill-a', '2026-12-01T03:00:00.000Z', 'passed', { backup: 5, 'sandbox-start': 2, restore: 10, replay: 3, checks: 1, cleanup: 1 }, { rtoTargetSeconds: 20, rtoMissed: true }),
  drill('drill-c', '2026-12-03T03:00:00.000Z', 'passed', { 'sandbox-start': 3, restore: 8, replay: 2, checks: 1 }, { rtoTargetSeconds: 30 }),
];

const attr = (svg: string, el: string, name: string): string[] => [...svg.matchAll(new RegExp(`<${el} [^>]*${name}="([^"]*)"`, 'g'))].map((m) => m[1]!);

describe('historyPlot', () => {
  const { svg, width, height } = historyPlot('orders', history);

  test('is one SVG document of the size it says', () => {
    expect(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"`)).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<g[ >]/g)!.length).toBe(svg.match(/<\/g>/g)!.length);
  });

  test('draws one group per drill, oldest on the left', () => {
    expect(attr(svg, 'g', 'data-drill')).toEqual(['drill-a', 'drill-b', 'drill-c']);
    const xs = [...svg.matchAll(/<g class="drill"[^]*?<rect class="phase" data-phase="[^"]+" x="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
  });

  test('stacks only the RTO phases, each as tall as its seconds', () => {
    const first = svg.slice(svg.indexOf('data-drill="drill-a"'), svg.indexOf('data-drill="drill-b"'));
    expect(attr(first, 'rect', 'data-phase')).toEqual(['sandbox-start', 'restore', 'replay', 'checks']);
    const heights = attr(first, 'rect', 'height').map(Number);
    expect(heights[1]! / heights[0]!).toBeCloseTo(10 / 2, 1);
    expect(heights[2]! / heights[3]!).toBeCloseTo(3, 1);
  });

  test('marks each outcome under its bar and the newest RTO target as a line', () => {
    expect(attr(svg, 'g', 'data-outcome')).toEqual(['passed', 'failed', 'passed']);
    expect(svg.match(/<circle class="outcome"/g)).toHaveLength(2);
    expect(svg.match(/<path class="outcome"/g)).toHaveLength(1);
    expect(svg).toContain('RTO target 30.0s');
    expect(svg).toContain('3 drills, 2 passed, 1 failed, 1 over the RTO target');
    expect(svg).toContain('<title>drill-b: FAILED (ChecksFailed), RTO 8.0s = sandbox-start 2.0s + restore 6.0s</title>');
  });

  test('escapes text and draws an empty history without bars', () => {
    const empty = historyPlot('a<b&"c"', []).svg;
    expect(empty).toContain('Restore drills of a&lt;b&amp;&quot;c&quot;');
    expect(empty).toContain('no drills yet');
    expect(empty).not.toContain('class="drill"');
  });
});

describe('rtoParts and axisStep', () => {
  test('a phase run twice (a retried restore) counts both runs; non-RTO phases are left out', () => {
    const d = drill('x', '2026-12-01T00:00:00Z', 'passed', { restore: 4 });
    d.phases.push({ ...d.phases[0]!, seconds: 6 }, { ...d.phases[0]!, phase: 'backup', seconds: 100 });
    expect(rtoParts(d)).toEqual({ restore: 10 });
  });

  test('axis steps are 1, 2 or 5 times a power of ten', () => {
    expect(axisStep(23)).toBe(5);
    expect(axisStep(0.9)).toBe(0.2);
    expect(axisStep(4000)).toBe(1000);
  });
});
