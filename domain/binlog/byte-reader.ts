/** Byte-level readers for binlog parsing: a queue of pushed chunks and mysql::serialization varlen fields. */

/** Pushed chunks, read from the front without copying more than a read needs. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private headOffset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Exactly n bytes (the caller checks `length >= n`). */
  read(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const head = this.chunks[0]!;
    if (head.length - this.headOffset >= n) {
      const out = head.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.readUpTo(n - filled);
      part.copy(out, filled);
      filled += part.length;
    }
    return out;
  }

  /** Up to n bytes from the front chunk (at least one when the queue is not empty). */
  readUpTo(n: number): Buffer {
    const head = this.chunks[0]!;
    const take = Math.min(n, head.length - this.headOffset);
    const out = head.subarray(this.headOffset, this.headOffset + take);
    this.advance(take);
    return out;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.length -= n;
    while (this.chunks.length > 0 && this.headOffset >= this.chunks[0]!.length) {
      this.headOffset -= this.chunks[0]!.length;
      this.chunks.shift();
    }
  }
}

/** 16 bytes at `at` as a lower-case UUID with dashes. */
export function uuidText(b: Buffer, at: number): string {
  const h = b.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** 7-byte little-endian unsigned integer without its top bit (MySQL commit timestamps). */
export function readU55(b: Buffer, at: number): { value: number; highBit: boolean } {
  const high = b[at + 6]!;
  return { value: b.readUIntLE(at, 6) + (high & 0x7f) * 2 ** 48, highBit: (high & 0x80) !== 0 };
}

/** A reader of mysql::serialization varlen integers and strings (tagged GTID events). */
export class VarlenReader {
  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Unsigned: the number of trailing one bits of the first byte is the number of bytes that
   * follow (all 8 when the first byte is 0xff); the little-endian value of all the bytes,
   * shifted right by that count plus one, is the number.
   */
  uint(): bigint {
    this.need(1);
    const first = this.b[this.pos]!;
    let extra = 0;
    while (extra < 8 && (first >> extra) & 1) extra++;
    if (extra === 8) {
      this.need(9);
      const v = this.b.readBigUInt64LE(this.pos + 1);
      this.pos += 9;
      return v;
    }
    const len = extra + 1;
    this.need(len);
    let v = 0n;
    for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.b[this.pos + i]!);
    this.pos += len;
    return v >> BigInt(len);
  }

  /** Signed: the unsigned form with the sign in its lowest bit (set: -(v >> 1) - 1). */
  int(): bigint {
    const u = this.uint();
    return u & 1n ? -(u >> 1n) - 1n : u >> 1n;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = Number(this.uint());
    return this.bytes(n).toString('utf8');
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('mysql::serialization data ends early');
  }
}
