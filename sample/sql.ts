/**
 * Small pure helpers shared by the sample schema, seed and writer: SQL literal quoting and a
 * seeded PRNG. No driver import, no I/O.
 */

/** Quotes an identifier with backticks (a backtick inside is doubled). */
export function ident(name: string): string {
  if (name.length === 0 || name.length > 64 || name.includes('\u0000')) {
    throw new Error(`invalid SQL identifier: ${JSON.stringify(name)}`);
  }
  return '`' + name.replace(/`/g, '``') + '`';
}

/**
 * A string literal in the server's default SQL mode (backslash escapes on, which both MySQL and
 * MariaDB default to and which mysql2's own client-side escaping also assumes).
 */
export function str(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  return (
    "'" +
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    value.replace(/[\u0000\u0008\u0009\u000a\u000d\u001a"'\\]/g, (c) => {
      switch (c) {
        case '\u0000':
          return '\\0';
        case '\u0008':
          return '\\b';
        case '\u0009':
          return '\\t';
        case '\u000a':
          return '\\n';
        case '\u000d':
          return '\\r';
        case '\u001a':
          return '\\Z';
        default:
          return '\\' + c;
      }
    }) +
    "'"
  );
}

/** A binary literal `X'…'` (`X''` for zero bytes), or NULL. */
export function hex(bytes: Uint8Array | null | undefined): string {
  if (bytes === null || bytes === undefined) return 'NULL';
  return "X'" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase() + "'";
}

/** A numeric literal; NULL for null. Throws on NaN/Infinity (they have no SQL spelling). */
export function num(value: number | null | undefined, fractionDigits?: number): string {
  if (value === null || value === undefined) return 'NULL';
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return fractionDigits === undefined ? String(value) : value.toFixed(fractionDigits);
}

/**
 * mulberry32: a tiny deterministic 32-bit PRNG. Same seed, same sequence, on every platform.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that 0, 1, 2… start far apart.
    this.state = (Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks an index by weight. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** `YYYY-MM-DD` of a UTC date. */
export function sqlDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** `YYYY-MM-DD hh:mm:ss.ffffff` of a UTC instant plus extra microseconds (0–999). */
export function sqlDateTime6(d: Date, extraMicros = 0): string {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  const micros = String(d.getUTCMilliseconds() * 1000 + (extraMicros % 1000)).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}`;
}
