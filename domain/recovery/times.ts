/**
 * Times of recovery targets and transactions. Time targets compare against each transaction's
 * commit time: MySQL's immediate_commit_timestamp (microseconds, MySQL 8.0.1+) when the binlog
 * has it, else the event header time, which is whole seconds and is the time the transaction's
 * first statement *started* (MariaDB always; MySQL without commit timestamps). With header
 * times a target inside a second is resolved to that second.
 */

import type { BinlogTransaction } from '../binlog/events';
import { DrillError } from '../errors';

const TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

export interface ParsedTime {
  /** Microseconds since the epoch (a sub-microsecond fraction rounds up). */
  micros: number;
  /** `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`. */
  canonical: string;
}

/** Parses an ISO-8601 time with an explicit zone; BadTarget otherwise. */
export function parseTime(text: string): ParsedTime {
  const t = text.trim();
  const m = TIME.exec(t);
  if (m === null) {
    throw notATime(`${JSON.stringify(text)} is not an ISO-8601 time such as 2026-11-21T14:37:00Z or 2026-11-21 14:37:00+01:00`, text);
  }
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  if (zone === undefined) {
    throw notATime(
      `Time ${JSON.stringify(text)} has no time zone. Add Z for UTC or an offset such as +01:00 ` +
        `(e.g. ${t.replace(' ', 'T')}Z); restore-drill never guesses the zone`,
      text,
    );
  }
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const s = ss === undefined ? 0 : Number(ss);
  const maxDay = mo === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[mo - 1];
  if (mo < 1 || mo > 12 || maxDay === undefined || d < 1 || d > maxDay || h > 23 || mi > 59 || s > 59) {
    throw notATime(`${JSON.stringify(text)} is not a valid date and time`, text);
  }
  let offsetMinutes = 0;
  let zoneText = 'Z';
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) throw notATime(`${JSON.stringify(text)} has an invalid zone offset ${zone}`, text);
    offsetMinutes = sign * (oh * 60 + om);
    zoneText = `${zone[0]}${String(oh).padStart(2, '0')}:${String(om).padStart(2, '0')}`;
  }
  const fraction = frac ?? '';
  const fracMicros = fraction === '' ? 0 : Math.ceil(Number(`0.${fraction}`) * 1e6 - 1e-6);
  const micros = (Date.UTC(y, mo - 1, d, h, mi, s) - offsetMinutes * 60_000) * 1000 + fracMicros;
  const canonical =
    `${ys}-${mos}-${ds}T${hs}:${mis}:${String(s).padStart(2, '0')}` + (fraction === '' ? '' : `.${fraction}`) + zoneText;
  return { micros, canonical };
}

function notATime(message: string, text: string): DrillError {
  return new DrillError('BadTarget', message, { details: { target: text } });
}

/** Microseconds since the epoch of a time target's `at` (throws BadTarget when it has no zone). */
export function targetTimeMicros(at: string): number {
  return parseTime(at).micros;
}

/** ISO-8601 UTC with microseconds, e.g. `2026-11-21T14:37:00.123456Z`. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // …SS.mmmZ
  const sub = String(micros - ms * 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${sub}Z`;
}

/** The time a time target compares with: commit micros when known, else header seconds. */
export function transactionTimeMicros(t: BinlogTransaction): number {
  return t.commitTimeMicros ?? t.timestamp * 1_000_000;
}
