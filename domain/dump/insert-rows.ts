/**
 * How many rows a dump's INSERT inserts, and into which table: counted while the dump loads so
 * that each restored table can be compared with what the dump meant it to hold. One read-only
 * pass over the bytes (quotes and escapes followed), for any INSERT the loader runs as it is;
 * those it loads as LOAD DATA are counted by their scan (insert-scan.ts, insert-convert.ts).
 */
import { BACKSLASH, CLOSE, COMMA, DOT, OPEN, Parser, QUOTE, SEMI, isSpace } from './insert-syntax';

const DOUBLE_QUOTE = 0x22;

export interface InsertRows {
  table: string;
  /** When the INSERT qualified its table. */
  database?: string;
  rows: number;
}

/**
 * `INSERT [IGNORE] INTO [db.]t [(cols)] VALUES (…),(…);` → its table and row count; undefined
 * for any other statement. `backslashEscapes`: false under SQL_MODE NO_BACKSLASH_ESCAPES.
 */
export function countInsertRows(statement: Buffer, backslashEscapes = true): InsertRows | undefined {
  const p = new Parser(statement);
  try {
    p.skipSpace();
    if (!p.keyword('INSERT')) return undefined;
    p.skipSpace();
    if (p.keyword('IGNORE')) p.skipSpace();
    if (!p.keyword('INTO')) return undefined;
    p.skipSpace();
    let table = p.identifier();
    let database: string | undefined;
    if (statement[p.pos] === DOT) {
      p.pos++;
      database = table;
      table = p.identifier();
    }
    p.skipSpace();
    if (statement[p.pos] === OPEN) {
      while (p.pos < statement.length && statement[p.pos] !== CLOSE) p.pos = statement[p.pos] === 0x60 ? skipBackticks(statement, p.pos) : p.pos + 1;
      p.pos++;
      p.skipSpace();
    }
    if (!p.keyword('VALUES') && !p.keyword('VALUE')) return undefined;
    const rows = countTuples(statement, p.pos, backslashEscapes);
    return rows === undefined ? undefined : { table, ...(database !== undefined ? { database } : {}), rows };
  } catch {
    return undefined;
  }
}

function skipBackticks(s: Buffer, i: number): number {
  for (i++; i < s.length; i++) {
    if (s[i] !== 0x60) continue;
    if (s[i + 1] === 0x60) i++;
    else return i + 1;
  }
  return i;
}

/** Top-level parenthesised tuples from `i` to the statement's end (or a trailing clause). */
function countTuples(s: Buffer, i: number, backslashEscapes: boolean): number | undefined {
  let rows = 0;
  let depth = 0;
  for (; i < s.length; i++) {
    const b = s[i];
    if (b === QUOTE || b === DOUBLE_QUOTE) {
      i = stringEnd(s, i, backslashEscapes);
      if (i < 0) return undefined;
    } else if (b === OPEN) {
      if (depth === 0) rows++;
      depth++;
    } else if (b === CLOSE) {
      depth--;
    } else if (depth === 0 && b !== COMMA && !isSpace(b)) {
      // The statement's end, or a clause after the rows (ON DUPLICATE KEY UPDATE …).
      if (b === SEMI || rows > 0) break;
      return undefined;
    }
  }
  return depth === 0 ? rows : undefined;
}

/** Index of the closing quote of the string literal opened at `i`; -1 when it never closes. */
function stringEnd(s: Buffer, i: number, backslashEscapes: boolean): number {
  const q = s[i];
  for (i++; i < s.length; i++) {
    const c = s[i];
    if (c === BACKSLASH && backslashEscapes) i++;
    else if (c === q) {
      if (s[i + 1] === q) i++;
      else return i;
    }
  }
  return -1;
}
