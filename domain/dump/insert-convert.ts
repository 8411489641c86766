/**
 * Rewrites a dump's extended INSERT that {@link scanInsert} refuses (hex, bit and `_binary`
 * literals, spaces) as tab-separated LOAD DATA rows:
 *
 *   INSERT INTO `t` [(`a`, `b`)] VALUES (1,'x\'y',NULL,0x00FF,_binary 'z'),(…);
 *   → 1 <TAB> x'y <TAB> \N <TAB> <bytes 00 FF> <TAB> z <LF> …
 *
 * Values are written as raw bytes and loaded with `CHARACTER SET binary` (no conversion): a
 * string literal becomes its bytes in the dump's connection character set, a hex or `_binary`
 * literal its raw bytes. Columns in another character set are converted by the LOAD statement
 * (load-data-statement.ts); a binary literal bound for such a column is reported in
 * `binaryFields` so the caller can fall back. Anything not understood returns `undefined`: the
 * caller runs the original INSERT; the converter never guesses.
 */
import { BACKSLASH, CLOSE, COMMA, DOT, LF, NotConvertible, OPEN, Parser, QUOTE, SEMI, TAB, insertHead, isIdentByte, notConvertible, numberEnd } from './insert-syntax';
import type { ConvertedInsert } from './insert-syntax';

/** What a backslash escape means inside a MySQL string literal (NO_BACKSLASH_ESCAPES off). */
const UNESCAPE = new Int16Array(256).fill(-1);
UNESCAPE[0x30] = 0x00; // \0
UNESCAPE[0x27] = 0x27; // \'
UNESCAPE[0x22] = 0x22; // \"
UNESCAPE[0x62] = 0x08; // \b
UNESCAPE[0x6e] = 0x0a; // \n
UNESCAPE[0x72] = 0x0d; // \r
UNESCAPE[0x74] = 0x09; // \t
UNESCAPE[0x5a] = 0x1a; // \Z
UNESCAPE[0x5c] = 0x5c; // \\
// Any other ASCII character after a backslash stands for itself, except \% and \_, which keep
// their backslash outside LIKE patterns (https://dev.mysql.com/doc/refman/9.4/en/string-literals.html).
for (let c = 0x20; c < 0x7f; c++) if (UNESCAPE[c] === -1 && c !== 0x25 && c !== 0x5f) UNESCAPE[c] = c;

/** Bytes LOAD DATA would misread, and the escape written for each (0 = none). */
const ESCAPE_OUT = new Uint8Array(256);
ESCAPE_OUT[0x00] = 0x30; // \0
ESCAPE_OUT[TAB] = 0x74; // \t
ESCAPE_OUT[LF] = 0x6e; // \n
ESCAPE_OUT[BACKSLASH] = BACKSLASH; // \\

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i;
  HEX[0x61 + i] = 10 + i;
}

/** Moves past a number ({@link numberEnd}) not run into a word; false when that is not what is there. */
function scanNumber(p: Parser): boolean {
  const s = p.s;
  const i = numberEnd(s, p.pos);
  if (i < 0 || (i < s.length && (isIdentByte(s[i]) || s[i] === DOT))) return false;
  p.pos = i;
  return true;
}

/** An output buffer that grows; no per-field allocation. */
class Out {
  buf: Buffer;
  len = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(2);
    const e = ESCAPE_OUT[b];
    if (e !== 0) {
      this.buf[this.len++] = BACKSLASH;
      this.buf[this.len++] = e;
    } else this.buf[this.len++] = b;
  }

  raw(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }
}

/** Copies a quoted string literal's value (opening quote at `p.pos`), unescaped, re-escaped for LOAD DATA. */
function copyString(p: Parser, out: Out): void {
  const s = p.s;
  const quote = s[p.pos];
  let i = p.pos + 1;
  out.reserve(2 * (s.length - i));
  const buf = out.buf;
  let len = out.len;
  for (;;) {
    if (i >= s.length) throw notConvertible;
    const b = s[i++];
    if (b === quote) {
      if (s[i] === quote) {
        buf[len++] = quote;
        i++;
        continue;
      }
      break;
    }
    if (b === BACKSLASH) {
      if (i >= s.length) throw notConvertible;
      const next = s[i++];
      const v = UNESCAPE[next];
      if (v === -1) {
        // \% and \_ keep their backslash; a backslash before a non-ASCII byte: not guessed.
        if (next !== 0x25 && next !== 0x5f) throw notConvertible;
        buf[len++] = BACKSLASH;
        buf[len++] = BACKSLASH;
        buf[len++] = next;
        continue;
      }
      const e = ESCAPE_OUT[v];
      if (e !== 0) {
        buf[len++] = BACKSLASH;
        buf[len++] = e;
      } else buf[len++] = v;
      continue;
    }
    const e = ESCAPE_OUT[b];
    if (e !== 0) {
      buf[len++] = BACKSLASH;
      buf[len++] = e;
    } else buf[len++] = b;
  }
  out.len = len;
  p.pos = i;
}

/** `0xABCD` (at the digits) or `X'ABCD'` (at the quote) → raw bytes. An odd digit count gets a leading 0, as MySQL does. */
function copyHex(p: Parser, out: Out, quoted: boolean): void {
  const s = p.s;
  const start = p.pos;
  let end = start;
  while (end < s.length && HEX[s[end]] !== -1) end++;
  if (quoted) {
    if (s[end] !== QUOTE || (end - start) % 2 !== 0) throw notConvertible;
  } else if (end < s.length && isIdentByte(s[end])) throw notConvertible;
  let i = start;
  if ((end - start) % 2 === 1) out.byte(HEX[s[i++]]);
  for (; i < end; i += 2) out.byte((HEX[s[i]] << 4) | HEX[s[i + 1]]);
  p.pos = quoted ? end + 1 : end;
}

/** `b'0101'` (at the quote) → the value's bytes, big-endian, as many as the digits need. */
function copyBits(p: Parser, out: Out): void {
  const s = p.s;
  const start = ++p.pos;
  let end = start;
  while (s[end] === 0x30 || s[end] === 0x31) end++;
  if (s[end] !== QUOTE) throw notConvertible;
  const digits = end - start;
  const bytes = Math.ceil(digits / 8);
  let bit = bytes * 8 - digits;
  let acc = 0;
  for (let i = start; i < end; i++) {
    acc = (acc << 1) | (s[i] - 0x30);
    if (++bit % 8 === 0) {
      out.byte(acc);
      acc = 0;
    }
  }
  p.pos = end + 1;
}

/**
 * Writes one value; returns true when it was a binary literal (hex, `_binary`, bit).
 * Numbers are copied as written; the server parses them as it would a LOAD DATA field.
 */
function copyValue(p: Parser, out: Out): boolean {
  const s = p.s;
  const b = s[p.pos];
  // Double-quoted strings are identifiers under ANSI_QUOTES and never dumped: not guessed.
  if (b === QUOTE) {
    copyString(p, out);
    return false;
  }
  if (b === 0x30 && (s[p.pos + 1] === 0x78 || s[p.pos + 1] === 0x58) && HEX[s[p.pos + 2]] !== -1) {
    // `0x` alone is not a literal; an empty blob is dumped as ''.
    p.pos += 2;
    copyHex(p, out, false);
    return true;
  }
  if ((b === 0x58 || b === 0x78) && s[p.pos + 1] === QUOTE) {
    p.pos += 2;
    copyHex(p, out, true);
    return true;
  }
  if ((b === 0x62 || b === 0x42) && s[p.pos + 1] === QUOTE) {
    p.pos++;
    copyBits(p, out);
    return true;
  }
  if (b === 0x5f /* _ */) {
    if (!p.keyword('_binary')) throw notConvertible; // other introducers (_latin1 'x'): not guessed
    p.skipSpace();
    const c = s[p.pos];
    if (c === QUOTE) copyString(p, out);
    else if (c === 0x30 && (s[p.pos + 1] === 0x78 || s[p.pos + 1] === 0x58)) {
      p.pos += 2;
      copyHex(p, out, false);
    } else if ((c === 0x58 || c === 0x78) && s[p.pos + 1] === QUOTE) {
      p.pos += 2;
      copyHex(p, out, true);
    } else throw notConvertible;
    return true;
  }
  if (b === 0x4e || b === 0x6e) {
    if (!p.keyword('NULL')) throw notConvertible;
    out.raw(BACKSLASH);
    out.raw(0x4e);
    return false;
  }
  const start = p.pos;
  if (!scanNumber(p)) throw notConvertible; // DEFAULT, TRUE, expressions…
  out.reserve(p.pos - start);
  // Byte by byte: numbers are short, and Buffer#copy costs more per call than it saves (5 s per GB of rows).
  const buf = out.buf;
  let len = out.len;
  for (let i = start; i < p.pos; i++) buf[len++] = s[i];
  out.len = len;
  return false;
}

/**
 * Converts one complete INSERT statement (ending with `;`). Returns undefined when the
 * statement is anything but `INSERT INTO t [(cols)] VALUES (…),…;` of literal values.
 */
export function convertInsert(statement: Buffer): ConvertedInsert | undefined {
  const p = new Parser(statement);
  try {
    const head = insertHead(p);
    if (!head) return undefined;
    const { table, database, columns } = head;
    // Room for every byte escaped: one allocation per statement, never grown (growing copied and churned the GC).
    const out = new Out(2 * statement.length + 64);
    const binary = new Set<number>();
    let rows = 0;
    let fields = -1;
    for (;;) {
      p.skipSpace();
      p.expect(OPEN);
      let field = 0;
      for (;;) {
        p.skipSpace();
        if (field > 0) out.raw(TAB);
        if (copyValue(p, out)) binary.add(field);
        field++;
        p.skipSpace();
        if (statement[p.pos] === CLOSE) break;
        p.expect(COMMA);
      }
      p.pos++;
      if (fields === -1) fields = field;
      else if (fields !== field) return undefined;
      out.raw(LF);
      rows++;
      p.skipSpace();
      if (statement[p.pos] === COMMA) {
        p.pos++;
        continue;
      }
      p.expect(SEMI);
      p.skipSpace();
      if (p.pos !== statement.length) return undefined;
      break;
    }
    if (columns && columns.length !== fields) return undefined;
    return { format: 'tab', table, database, columns, rows, fields, binaryFields: [...binary].sort((a, b) => a - b), data: out.buf.subarray(0, out.len) };
  } catch (err) {
    if (err instanceof NotConvertible) return undefined;
    throw err;
  }
}
