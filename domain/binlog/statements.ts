/**
 * What a statement's text means for transaction boundaries and kinds, judged by its first
 * words: BEGIN/COMMIT/ROLLBACK/XA open and close transactions, DDL and DML set the kind.
 */

export type StatementClass = 'begin' | 'commit' | 'rollback' | 'xa-end' | 'ddl' | 'dml' | 'other';

/** Removes leading whitespace and comments (`/* *\/`, `-- `, `#`; keeps `/*!` versioned code). */
function stripLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    s = s.replace(/^\s+/, '');
    if (s.startsWith('/*!')) {
      // Versioned comment: its content is executed; look inside.
      s = s.slice(3).replace(/^\d{5,6}/, '');
      continue;
    }
    if (s.startsWith('/*')) {
      const end = s.indexOf('*/');
      if (end < 0) return '';
      s = s.slice(end + 2);
      continue;
    }
    if (s.startsWith('--') || s.startsWith('#')) {
      const end = s.indexOf('\n');
      if (end < 0) return '';
      s = s.slice(end + 1);
      continue;
    }
    return s;
  }
}

const DDL_WORDS = new Set(['CREATE', 'ALTER', 'DROP', 'RENAME', 'TRUNCATE']);
const DML_WORDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'LOAD']);

/** What a QUERY event's text does for transaction boundaries and kinds. */
export function classifyStatement(sql: string): StatementClass {
  const s = stripLeadingComments(sql).toUpperCase();
  const words = s.split(/[\s;(]+/, 3);
  const w0 = words[0] ?? '';
  const w1 = words[1] ?? '';
  if (w0 === 'BEGIN' && (w1 === '' || w1 === 'WORK')) return 'begin';
  if (w0 === 'START' && w1 === 'TRANSACTION') return 'begin';
  if (w0 === 'XA' && (w1 === 'START' || w1 === 'BEGIN')) return 'begin';
  if (w0 === 'XA' && (w1 === 'END' || w1 === 'SUSPEND')) return 'xa-end';
  if (w0 === 'COMMIT') return 'commit';
  if (w0 === 'ROLLBACK' && w1 !== 'TO') return 'rollback';
  if (DDL_WORDS.has(w0)) return 'ddl';
  if (DML_WORDS.has(w0)) return 'dml';
  return 'other';
}
