/**
 * The byte-level reading of a dump's extended INSERT, shared by the VALUES scanner
 * (insert-scan.ts) and the converter (insert-convert.ts): its head, numbers, identifiers.
 * Pure, byte-level, no per-row strings.
 */

export interface ConvertedInsert {
  /**
   * How `data` holds the rows: 'tab', rewritten as tab-separated lines ({@link convertInsert});
   * 'values', the INSERT's own VALUES list, unchanged ({@link scanInsert}).
   */
  format: 'tab' | 'values';
  /** Table name as written (backquotes removed); `database` when the INSERT qualified it. */
  table: string;
  database?: string;
  /** The INSERT's column list, if it had one. */
  columns?: string[];
  rows: number;
  /** Fields per row (the same for every row, else the INSERT is not converted). */
  fields: number;
  /** Field positions that received a hex, `_binary` or bit literal in some row. */
  binaryFields: number[];
  /** The LOAD DATA rows, in `format`. */
  data: Buffer;
}

export const TAB = 0x09;
export const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
export const QUOTE = 0x27;
export const BACKSLASH = 0x5c;
const BACKTICK = 0x60;
export const COMMA = 0x2c;
export const OPEN = 0x28;
export const CLOSE = 0x29;
export const SEMI = 0x3b;
export const DOT = 0x2e;

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/** Where `[-+]digits[.digits][e[-+]digits]` starting at `i` ends; -1 when that is not what is there. */
export function numberEnd(s: Buffer, i: number): number {
  if (s[i] === 0x2d || s[i] === 0x2b) i++;
  const intStart = i;
  while (isDigit(s[i])) i++;
  let digits = i - intStart;
  if (s[i] === DOT) {
    const fracStart = ++i;
    while (isDigit(s[i])) i++;
    digits += i - fracStart;
  }
  if (digits === 0) return -1;
  if (s[i] === 0x65 || s[i] === 0x45) {
    i++;
    if (s[i] === 0x2d || s[i] === 0x2b) i++;
    if (!isDigit(s[i])) return -1;
    while (isDigit(s[i])) i++;
  }
  return i;
}

export class NotConvertible extends Error {}
export const notConvertible = new NotConvertible('not convertible');

export function isSpace(b: number): boolean {
  return b === SPACE || b === LF || b === CR || b === TAB;
}

export class Parser {
  pos = 0;
  constructor(readonly s: Buffer) {}

  skipSpace(): void {
    const s = this.s;
    while (this.pos < s.length && isSpace(s[this.pos])) this.pos++;
  }

  /** Consumes a case-insensitive keyword followed by a non-identifier byte. */
  keyword(word: string): boolean {
    const s = this.s;
    if (this.pos + word.length > s.length) return false;
    for (let i = 0; i < word.length; i++) if ((s[this.pos + i] | 0x20) !== (word.charCodeAt(i) | 0x20)) return false;
    const after = s[this.pos + word.length];
    if (after !== undefined && isIdentByte(after)) return false;
    this.pos += word.length;
    return true;
  }

  identifier(): string {
    const s = this.s;
    if (s[this.pos] === BACKTICK) {
      const parts: Buffer[] = [];
      let start = ++this.pos;
      for (;;) {
        if (this.pos >= s.length) throw notConvertible;
        if (s[this.pos] === BACKTICK) {
          if (s[this.pos + 1] === BACKTICK) {
            parts.push(s.subarray(start, this.pos + 1));
            this.pos += 2;
            start = this.pos;
            continue;
          }
          parts.push(s.subarray(start, this.pos));
          this.pos++;
          return Buffer.concat(parts).toString('utf8');
        }
        this.pos++;
      }
    }
    const start = this.pos;
    while (this.pos < s.length && isIdentByte(s[this.pos])) this.pos++;
    if (this.pos === start) throw notConvertible;
    return s.toString('utf8', start, this.pos);
  }

  expect(b: number): void {
    if (this.s[this.pos] !== b) throw notConvertible;
    this.pos++;
  }
}

export function isIdentByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x24 || b >= 0x80;
}

/** `INSERT INTO [db.]t [(cols)] VALUES`: moves past it; undefined when the statement starts otherwise. */
export function insertHead(p: Parser): { table: string; database?: string; columns?: string[] } | undefined {
  const statement = p.s;
  p.skipSpace();
  if (!p.keyword('INSERT')) return undefined;
  p.skipSpace();
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
  let columns: string[] | undefined;
  if (statement[p.pos] === OPEN) {
    columns = [];
    p.pos++;
    for (;;) {
      p.skipSpace();
      columns.push(p.identifier());
      p.skipSpace();
      if (statement[p.pos] === CLOSE) break;
      p.expect(COMMA);
    }
    p.pos++;
    p.skipSpace();
  }
  if (!p.keyword('VALUES') && !p.keyword('VALUE')) return undefined;
  return { table, database, columns };
}
