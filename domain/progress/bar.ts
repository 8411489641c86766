/**
 * A long phase's progress as text: a bar with rate and ETA for a terminal, a plain line for
 * logs and pipes.
 *
 * Pure module.
 */
import { formatBytes, formatSeconds } from '../report/report';
import type { WorkEstimate } from './work';

const FILLED = '█';
const EMPTY = '░';

/** `[████░░░░]` of `width` cells inside the brackets; `fraction` 0..1. */
export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${FILLED.repeat(full)}${EMPTY.repeat(width - full)}]`;
}

/** `12.0 MiB/s`. */
export function formatRate(bytesPerSecond: number | undefined): string | undefined {
  return bytesPerSecond === undefined ? undefined : `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** The measured parts of one reading: done of total, rows, rate, ETA. */
function parts(e: WorkEstimate): string[] {
  const total = e.bytesTotal !== undefined ? ` / ${e.estimated ? '~' : ''}${formatBytes(e.bytesTotal)}` : '';
  const rows = e.rowsDone !== undefined ? `${e.rowsDone.toLocaleString('en-US')}${e.rowsTotal !== undefined ? ` / ${e.rowsTotal.toLocaleString('en-US')}` : ''} rows` : undefined;
  const rate = formatRate(e.bytesPerSecond);
  const eta = e.etaSeconds !== undefined ? `ETA ${formatSeconds(e.etaSeconds)}` : undefined;
  return [`${formatBytes(e.bytesDone)}${total}`, rows, rate, eta].filter((p): p is string => p !== undefined);
}

function percent(e: WorkEstimate): string {
  return e.fraction === undefined ? '' : `${Math.floor(e.fraction * 100)}%`;
}

/** One terminal line (redrawn in place): `restore [████░░░░]  52%  532.0 MiB / 1.0 GiB  48.2 MiB/s  ETA 11.0s`. */
export function renderBarLine(e: WorkEstimate, barWidth = 30): string {
  const bar = e.fraction === undefined ? '' : `${progressBar(e.fraction, barWidth)} ${percent(e).padStart(4)}  `;
  return `  ${e.phase.padEnd(16)} ${bar}${parts(e).join('  ')}`;
}

/** One plain line for a log or a pipe: `restore 52%: 532.0 MiB / 1.0 GiB, 48.2 MiB/s, ETA 11.0s`. */
export function renderPlainLine(e: WorkEstimate): string {
  const pct = percent(e);
  return `  ${e.phase} ${pct ? `${pct}: ` : ''}${parts(e).join(', ')}`;
}
