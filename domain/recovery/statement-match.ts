/** Matching a beforeEvent target's pattern against a transaction's statements and tables. */

import type { BinlogTransaction } from '../binlog/events';

/** Trimmed, every run of whitespace one space. */
export function collapseWhitespace(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;

/** Lower case, backticks removed, whitespace collapsed. */
function normalizeText(text: string): string {
  return collapseWhitespace(text.replace(/`/g, '')).toLowerCase();
}

/** Also without database qualifiers: `school.grades` → `grades`. */
function withoutQualifiers(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}_$.])[\p{L}\p{N}_$]+\.(?=[\p{L}_$])/gu, '');
}

/** Whether `needle` occurs in `hay` without cutting an identifier at either end. */
function containsAtBoundaries(hay: string, needle: string): boolean {
  const first = IDENT_CHAR.test(needle[0]!);
  const last = IDENT_CHAR.test(needle[needle.length - 1]!);
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) {
    const before = i === 0 ? '' : hay[i - 1]!;
    const after = i + needle.length >= hay.length ? '' : hay[i + needle.length]!;
    if (first && before !== '' && IDENT_CHAR.test(before)) continue;
    if (last && after !== '' && IDENT_CHAR.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Whether a transaction matches a beforeEvent pattern: some statement contains it (see
 * {@link RecoveryTarget}), or it is a table name, `db.table` or `table`, of the transaction.
 */
export function transactionMatches(t: BinlogTransaction, pattern: string): boolean {
  const p = normalizeText(pattern);
  if (p === '') return false;
  for (const table of t.tables) {
    const name = table.toLowerCase();
    if (name === p || name.slice(name.indexOf('.') + 1) === p) return true;
  }
  for (const statement of t.statements) {
    const s = normalizeText(statement);
    if (containsAtBoundaries(s, p)) return true;
    if (containsAtBoundaries(withoutQualifiers(s), withoutQualifiers(p))) return true;
  }
  return false;
}
