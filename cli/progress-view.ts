/**
 * A followed drill on the terminal: each phase once it ends and, while a long phase runs, its
 * bytes and rows against the total with rate and ETA: a bar redrawn in place on a terminal,
 * a plain line every so often otherwise (a pipe, a CI log).
 */
import type { DrillProgress } from '../client/workflows';
import { renderBarLine, renderPlainLine } from '../domain/progress/bar';
import { WorkRate } from '../domain/progress/work';
import type { WorkEstimate } from '../domain/progress/work';

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** How often a plain (non-terminal) output repeats a running phase's line. */
export const PLAIN_EVERY_MS = 10_000;

// Cursor up one line and erase it (ECMA-48 CUU, EL).
const ERASE_LINE_ABOVE = '\x1b[1A\x1b[2K';

export function progressPrinter(out: ProgressOutput, opts: { plainEveryMs?: number; now?: () => number } = {}): (p: DrillProgress) => void {
  const now = opts.now ?? Date.now;
  const plainEveryMs = opts.plainEveryMs ?? PLAIN_EVERY_MS;
  const rates = new Map<string, WorkRate>();
  const lastPlain = new Map<string, number>();
  let barLines = 0;
  const eraseBars = () => {
    out.write(ERASE_LINE_ABOVE.repeat(barLines));
    barLines = 0;
  };
  const phases = phasePrinter((line) => {
    if (out.isTTY) eraseBars();
    out.write(`${line}\n`);
  });
  return (p) => {
    phases(p);
    const at = now();
    const estimates: WorkEstimate[] = (p.work ?? []).map((w) => {
      const rate = rates.get(w.phase) ?? new WorkRate();
      rates.set(w.phase, rate);
      return rate.update(w.phase, w.work, at);
    });
    if (out.isTTY) {
      eraseBars();
      // A line that wrapped would leave its second half behind when erased: fit the terminal.
      const columns = out.columns ?? 100;
      const width = Math.max(10, Math.min(40, columns - 100));
      for (const e of estimates) out.write(`${renderBarLine(e, width).slice(0, columns - 1)}\n`);
      barLines = estimates.length;
      return;
    }
    for (const e of estimates) {
      if (at - (lastPlain.get(e.phase) ?? -Infinity) < plainEveryMs) continue;
      lastPlain.set(e.phase, at);
      out.write(`${renderPlainLine(e)}\n`);
    }
  };
}

/** The CLI's printer: on stderr, so stdout stays the result. */
export function stderrProgress(): (p: DrillProgress) => void {
  return progressPrinter({ write: (t) => void process.stderr.write(t), isTTY: process.stderr.isTTY, columns: process.stderr.columns });
}

/** Prints each phase once, as it completes. */
export function phasePrinter(write: (line: string) => void): (p: DrillProgress) => void {
  let printed = 0;
  let lastCurrent: string | undefined;
  return (p) => {
    for (; printed < p.phases.length; printed++) {
      const ph = p.phases[printed];
      write(`  ${ph.outcome === 'ok' ? '✓' : '✗'} ${ph.phase.padEnd(16)} ${ph.seconds.toFixed(1).padStart(7)} s`);
    }
    if (p.current && p.current !== lastCurrent) write(`  … ${p.current}`);
    lastCurrent = p.current;
  };
}
