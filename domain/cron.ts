/**
 * A schedule's cron read by a cron library (croner), not by counting fields: what `doctor`
 * compares binlog retention with is the longest gap between two runs the cron actually makes.
 */
import { Cron } from 'croner';

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Runs looked at: enough for every gap of a minute-by-minute cron's day and a monthly cron's year. */
const MAX_RUNS = 2000;
/** How far ahead runs are looked at: a year and a month, so a yearly cron shows one whole gap and leap years count. */
const HORIZON_MS = 400 * 86_400_000;

/** The schedule's cron as croner reads it (shorthands as Temporal expands them); throws on one it cannot read. */
function parseCron(cron: string, timezone: string): Cron {
  const text = cron.trim();
  const expanded = SHORTHANDS[text] ?? text;
  const fields = expanded.split(/\s+/).length;
  if (fields !== 5) throw new Error(`it has ${fields} field${fields === 1 ? '' : 's'}, not five (minute hour day-of-month month day-of-week)`);
  // Day-of-month and day-of-week both restricted: either matches, as in Vixie cron and Temporal.
  return new Cron(expanded, { timezone, paused: true, mode: '5-part', domAndDow: false });
}

/** Why a cron cannot be a schedule's, or undefined when it can. */
export function cronProblem(cron: string, timezone = 'UTC'): string | undefined {
  try {
    const parsed = parseCron(cron, timezone);
    return parsed.nextRun(new Date(0)) ? undefined : `"${cron}" never runs`;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The longest time between two consecutive runs of a five-field cron (or a shorthand such as
 * @daily) in its zone, over the runs of the next 400 days from `from`: `0 *\/6 * * *` is 6 h,
 * a weekday-only cron 3 days (Friday to Monday), a DST change makes a nightly one 25 h.
 */
export function cronIntervalSeconds(cron: string, opts: { timezone?: string; from?: Date } = {}): number {
  const parsed = parseCron(cron, opts.timezone ?? 'UTC');
  const start = opts.from ?? new Date();
  const end = start.getTime() + HORIZON_MS;
  let previous = parsed.nextRun(start);
  if (!previous) throw new Error(`"${cron}" never runs`);
  let longest = 0;
  for (let i = 0; i < MAX_RUNS; i++) {
    const next = parsed.nextRun(previous);
    if (!next || next.getTime() > end) break;
    longest = Math.max(longest, next.getTime() - previous.getTime());
    previous = next;
  }
  // One run in the whole horizon (a yearly cron): its gap is at least the horizon.
  return (longest || HORIZON_MS) / 1000;
}
