/**
 * Walks a tar archive as it streams, as XbstreamWalker does an xbstream: every header's checksum,
 * every member's body, and the end-of-archive block. A tar cut short or with changed header
 * bytes fails here, before any sandbox; members' names (and small ones' contents) come out for
 * format detection. Pure: no Node built-ins. ustar, GNU (long names, base-256 sizes) and pax paths.
 */
import { DrillError, DrillErrorTypes } from '../errors';

const BLOCK = 512;

export interface ArchiveMember {
  path: string;
  /** Set for the members `keep` asked for (small metadata files). */
  content?: string;
}

/** Up to this many bytes of a kept member are collected: metadata files are a few hundred bytes. */
export const KEPT_MEMBER_BYTES = 64 * 1024;

const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);
const utf8 = new TextDecoder('utf-8');

export class TarWalker {
  private pending: Uint8Array = new Uint8Array(0);
  /** Bytes of the current member's body (padded to blocks) still to pass. */
  private bodyLeft = 0;
  private body: { path: string; size: number; kept?: Uint8Array[]; keptBytes: number; kind: 'file' | 'long-name' | 'pax' | 'other' } | undefined;
  private nextPath: string | undefined;
  private ended = false;
  private offset = 0;
  private readonly out: ArchiveMember[] = [];

  constructor(
    private readonly where: string,
    private readonly keep: (path: string) => boolean = () => false,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.ended) return; // GNU tar pads the archive to its record size after the end blocks
    let rest = chunk;
    while (rest.length > 0 && !this.ended) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, rest.length);
        this.bodyPart(rest.subarray(0, take));
        this.bodyLeft -= take;
        this.offset += take;
        rest = rest.subarray(take);
        if (this.bodyLeft === 0) this.finishBody();
        continue;
      }
      const need = BLOCK - this.pending.length;
      const part = rest.subarray(0, need);
      this.pending = this.pending.length === 0 && part.length === BLOCK ? part : concat(this.pending, part);
      rest = rest.subarray(part.length);
      if (this.pending.length < BLOCK) break;
      const header = this.pending;
      this.pending = new Uint8Array(0);
      this.header(header);
      this.offset += BLOCK;
    }
  }

  /** The members, once the whole archive has passed; fails when it ended early. */
  end(): ArchiveMember[] {
    if (!this.ended) {
      const where = this.body ? `inside ${this.body.path} (${this.bodyLeft} bytes of it missing)` : `after ${this.out.length} member(s), without its end-of-archive blocks`;
      this.fail(DrillErrorTypes.DumpTruncated, `ends ${where}: it was cut short`);
    }
    if (this.out.length === 0) this.fail(DrillErrorTypes.DumpTruncated, 'holds no member');
    return [...this.out];
  }

  private header(h: Uint8Array): void {
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const field = (off: number, len: number): string => latin1(h.subarray(off, off + len)).replace(/\0.*$/s, '');
    const stored = parseInt(field(148, 8).trim() || 'x', 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (stored !== sum) this.fail(DrillErrorTypes.ArtifactCorrupt, `has a header at byte ${this.offset} whose checksum does not match (bytes changed, or two writers interleaved)`);
    const size = tarSize(h.subarray(124, 136));
    const type = String.fromCharCode(h[156]!);
    const prefix = field(345, 155);
    const name = prefix && latin1(h.subarray(257, 262)) === 'ustar' ? `${prefix}/${field(0, 100)}` : field(0, 100);
    // As written (`./backup/ibdata1` stays so): tar --strip-components counts the `.`.
    const path = (this.nextPath ?? name).replace(/\/+$/, '');
    const kind = type === 'L' ? 'long-name' : type === 'x' ? 'pax' : type === '0' || type === '\0' || type === '7' ? 'file' : 'other';
    if (kind === 'file' || kind === 'other') this.nextPath = undefined;
    const collect = kind === 'long-name' || kind === 'pax' || (kind === 'file' && this.keep(path));
    this.body = { path, size, kind, keptBytes: 0, ...(collect ? { kept: [] } : {}) };
    this.bodyLeft = Math.ceil(size / BLOCK) * BLOCK;
    if (this.bodyLeft === 0) this.finishBody();
  }

  private bodyPart(bytes: Uint8Array): void {
    const b = this.body!;
    if (!b.kept || b.keptBytes >= Math.min(b.size, KEPT_MEMBER_BYTES)) return;
    const take = bytes.subarray(0, Math.min(bytes.length, Math.min(b.size, KEPT_MEMBER_BYTES) - b.keptBytes));
    b.kept.push(take.slice());
    b.keptBytes += take.length;
  }

  private finishBody(): void {
    const b = this.body!;
    this.body = undefined;
    const text = b.kept ? utf8.decode(concat(...b.kept)) : undefined;
    if (b.kind === 'long-name') this.nextPath = text?.replace(/\0.*$/s, '');
    else if (b.kind === 'pax') this.nextPath = text ? /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text)?.[1] : undefined;
    else if (b.kind === 'file') this.out.push(text !== undefined ? { path: b.path, content: text } : { path: b.path });
  }

  private fail(type: typeof DrillErrorTypes.DumpTruncated | typeof DrillErrorTypes.ArtifactCorrupt, what: string): never {
    throw new DrillError(type, `backup ${this.where} is not a complete tar archive: it ${what}; take a new backup`, { details: { where: this.where, offset: this.offset } });
  }
}

/** Octal, or GNU's base-256 (high bit of the first byte set) for members of 8 GiB and more. */
function tarSize(f: Uint8Array): number {
  if (f[0]! & 0x80) {
    let n = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  const text = latin1(f).replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
