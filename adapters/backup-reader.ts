/**
 * Reads a team's backup file once, start to end, as the door checks need it: the raw bytes'
 * size and sha256, the plain (decompressed) head and tail, and what the file looked like before
 * and after the read (a writer still at work changes it). Streams; nothing is held whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { coordinatesFromDump } from '../domain/backups/coordinates';
import type { BackupCoordinates } from '../domain/backups/coordinates';
import { checkBackupSize, checkDumpComplete, checkNotInFlight } from '../domain/backups/door-checks';
import type { ArtifactObservation } from '../domain/backups/door-checks';
import { BACKUP_HEAD_BYTES, detectBackupFormat, detectCompression, payloadContainer } from '../domain/backups/format';
import { archiveWalk, inspectDatadir } from '../domain/physical/team-backup';
import type { ArchiveWalk, PhysicalInspection } from '../domain/physical/team-backup';
import type { BackupFormat, Compression } from '../domain/backups/format';
import { DUMP_TAIL_BYTES, keepDumpTail } from '../domain/dump/format';
import { DrillError, DrillErrorTypes, isDrillError } from '../domain/errors';
import { decompressor, summariseWithTool } from './decompress';
import { summariseZstdInThread, zstdBinding } from './zstd-thread';
import type { PlainSummary, ToolSummariser } from './decompress';
import type { ObjectStore } from './object-store';

const READ_CHUNK_BYTES = 1024 * 1024;

/** One backup file, wherever it is kept (a local path, an object in a bucket). */
export interface BackupObject {
  /** How a DBA names it: a path or s3://bucket/key. */
  name: string;
  observe(): Promise<ArtifactObservation>;
  /** The raw bytes from `start` (default 0) to the end, or up to `end` inclusive. */
  open(range?: { start?: number; end?: number }): Promise<Readable>;
  /** A file on this host: a decompressing tool may read it by path. */
  localPath?: string;
}

export function localBackupObject(file: string): BackupObject {
  return {
    name: file,
    localPath: file,
    async observe() {
      const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
        throw new DrillError(DrillErrorTypes.BadConfig, `backup file ${file} cannot be read (${err.code}): check the path and that the worker may read it`, { cause: err });
      });
      if (!st.isFile()) throw new DrillError(DrillErrorTypes.BadConfig, `${file} is not a file: give a backup file (a directory backup is named by its folder in the source's backups location)`);
      return { size: st.size, mtimeMs: st.mtimeMs };
    },
    async open(range = {}) {
      return createReadStream(file, { start: range.start, end: range.end, highWaterMark: READ_CHUNK_BYTES });
    },
  };
}

/** The first bytes of an object, raw: what format detection reads. */
export async function readRawHead(object: BackupObject, bytes = BACKUP_HEAD_BYTES): Promise<Buffer> {
  const stream = await object.open({ start: 0, end: bytes - 1 });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** The first plain bytes after decompression; the decompressor is stopped once they are in. */
export async function readPlainHead(object: BackupObject, compression: Compression, bytes = BACKUP_HEAD_BYTES): Promise<Buffer> {
  const raw = await object.open();
  const plain = raw.pipe(decompressor(compression));
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of plain) {
      chunks.push(chunk as Buffer);
      have += (chunk as Buffer).length;
      if (have >= bytes) break;
    }
  } catch (err) {
    // A head that decompresses at all is enough here; the full read reports a broken stream.
    if (have === 0) throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${object.name} is not a readable ${compression} stream from its first bytes (${(err as Error).message.slice(0, 300)}): it is corrupted, or two jobs wrote it at once`, { cause: err });
  } finally {
    raw.destroy();
    plain.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

export interface FullRead {
  before: ArtifactObservation;
  after: ArtifactObservation;
  rawBytes: number;
  sha256: string;
  plainBytes: number;
  plainTail: Buffer;
}

/** Bytes of the raw stream read so far, of its size when the read began. */
export interface ReadProgress {
  rawBytes: number;
  ofRawBytes: number;
}

/**
 * The whole-stream summariser for a compression Node's zlib lacks: zstd in a worker thread when
 * the zstd-napi binding built (zstd-thread.ts), else, and for xz and bzip2, the host tool.
 */
function summariser(compression: 'zstd' | 'xz' | 'bzip2', opts: { tailBytes: number; headBytes?: number; file?: string }): ToolSummariser {
  const zstd = compression === 'zstd' ? zstdBinding() : undefined;
  if (zstd && 'path' in zstd) return summariseZstdInThread(zstd.path, opts);
  return summariseWithTool(compression, opts);
}

/** The raw bytes of a read, hashed and counted as they pass. */
function hashAsRead(raw: Readable, ofRawBytes: number, progress: (p: ReadProgress) => void): { rawBytes(): number; sha256(): string } {
  const hash = createHash('sha256');
  let rawBytes = 0;
  raw.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    rawBytes += chunk.length;
    progress({ rawBytes, ofRawBytes });
  });
  return { rawBytes: () => rawBytes, sha256: () => hash.digest('hex') };
}

/**
 * Reads the whole object through its decompressor: its sha256, plain size and plain tail. A
 * stream the decompressor rejects is ArtifactCorrupt, unless the object changed meanwhile: then
 * the caller's in-flight check names it. `before`: the object as observed just before.
 */
export async function readWhole(object: BackupObject, compression: Compression, before: ArtifactObservation, progress: (p: ReadProgress) => void = () => undefined, walk?: ArchiveWalk): Promise<FullRead> {
  const raw = await object.open();
  const hashed = hashAsRead(raw, before.size, progress);
  // An archive is walked here, member by member, so its plain bytes come back whatever the compression.
  if (walk || compression === 'gzip' || compression === 'none') return await settleRead(object, compression, before, hashed, summariseInProcess(raw, compression, walk));
  const tool = summariser(compression, { tailBytes: DUMP_TAIL_BYTES, file: object.localPath });
  return await settleRead(object, compression, before, hashed, feedTool(raw, tool, object.localPath !== undefined));
}

/**
 * zstd, xz, bzip2 and not an archive: the whole read starts at once, in the host tool, and the
 * plain head for format detection comes out of the same pass (no second decompressor, no
 * second request to a bucket). `abandon` when the head shows an archive or no known format.
 */
export interface ToolRead {
  plainHead: Promise<Buffer>;
  finish(): Promise<FullRead>;
  abandon(): void;
}

export async function startToolRead(object: BackupObject, compression: 'zstd' | 'xz' | 'bzip2', before: ArtifactObservation, progress: (p: ReadProgress) => void = () => undefined): Promise<ToolRead> {
  const tool = summariser(compression, { tailBytes: DUMP_TAIL_BYTES, headBytes: BACKUP_HEAD_BYTES, file: object.localPath });
  let raw: Readable;
  try {
    raw = await object.open();
  } catch (err) {
    tool.stop();
    throw err;
  }
  const hashed = hashAsRead(raw, before.size, progress);
  const plain = feedTool(raw, tool, object.localPath !== undefined);
  // Awaited by finish() or the head; an abandoned read's rejection is expected.
  plain.catch(() => undefined);
  return {
    plainHead: tool.head.then(async (head) => {
      if (head.length > 0) return head;
      const failure = await plain.then(() => undefined, (err: unknown) => err);
      if (failure === undefined) return head;
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${object.name} is not a readable ${compression} stream from its first bytes (${(failure as Error).message.slice(0, 300)}): it is corrupted, or two jobs wrote it at once`, { cause: failure });
    }),
    finish: () => settleRead(object, compression, before, hashed, plain),
    abandon() {
      tool.stop();
      raw.destroy();
    },
  };
}

/**
 * The tool's summary once the raw bytes are all read. A local file the tool reads itself while
 * Node hashes its own read of it (two cores, one pass each, the second from the page cache); a
 * stream (an object in a bucket) is piped into the tool.
 */
async function feedTool(raw: Readable, tool: ToolSummariser, toolReadsFile: boolean): Promise<PlainSummary> {
  if (toolReadsFile) return (await Promise.all([tool.summary, pipeline(raw, new Writable({ write: (_c, _e, done) => done() }))]))[0];
  try {
    await pipeline(raw, tool.input!);
  } catch (err) {
    // The tool stopped reading a broken stream (EPIPE here): its own words say why.
    await tool.summary;
    throw err;
  }
  return await tool.summary;
}

async function settleRead(object: BackupObject, compression: Compression, before: ArtifactObservation, hashed: { rawBytes(): number; sha256(): string }, reading: Promise<PlainSummary>): Promise<FullRead> {
  let plain: PlainSummary = { plainBytes: 0, tail: Buffer.alloc(0) };
  let failure: unknown;
  try {
    plain = await reading;
  } catch (err) {
    failure = err;
  }
  const after = await object.observe();
  const rawBytes = hashed.rawBytes();
  if (failure !== undefined) {
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.etag !== before.etag) return { before, after, rawBytes, sha256: '', plainBytes: plain.plainBytes, plainTail: plain.tail };
    // The archive walker's own verdict (a tar or xbstream cut short, changed bytes) names the archive.
    if (isDrillError(failure)) throw failure;
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `${object.name} is not a complete ${compression} stream (${(failure as Error).message.slice(0, 400)}): it was cut short or corrupted`, { cause: failure, details: { rawBytes } });
  }
  return { before, after, rawBytes, sha256: hashed.sha256(), plainBytes: plain.plainBytes, plainTail: plain.tail };
}

/** gzip (zlib) and plain files, and archives: the plain bytes pass through Node, which keeps their count and tail (and walks an archive). */
async function summariseInProcess(raw: Readable, compression: Compression, walk?: ArchiveWalk): Promise<PlainSummary> {
  let plainBytes = 0;
  let tail: Buffer = Buffer.alloc(0);
  await pipeline(
    raw,
    decompressor(compression),
    new Writable({
      highWaterMark: READ_CHUNK_BYTES,
      write(chunk: Buffer, _enc, done) {
        try {
          walk?.push(chunk);
        } catch (err) {
          return done(err as Error);
        }
        tail = keepDumpTail(tail, chunk, DUMP_TAIL_BYTES);
        plainBytes += chunk.length;
        done();
      },
    }),
  );
  return { plainBytes, tail };
}

export interface BackupInspection {
  name: string;
  format: BackupFormat;
  rawBytes: number;
  plainBytes: number;
  sha256: string;
  /** The file as it was read: size, mtime or ETag, for a later "unchanged since" check. */
  observed: ArtifactObservation;
  coordinates?: BackupCoordinates;
  /** The door checks passed, in order, for reports and `verify`'s output. */
  passed: string[];
  /** A physical backup: where its datadir lies in the archive, its databases, prepared or not. */
  physical?: PhysicalInspection;
}

/**
 * The door checks, before any sandbox: format by content, size against the last good backup,
 * the whole stream decompressed, unchanged while read, and a dump's completion trailer.
 * Each refusal is a typed DrillError (UnknownBackupFormat, BackupTooSmall, ArtifactCorrupt,
 * ArtifactInFlight, DumpTruncated).
 */
export interface LastGoodBackup {
  name: string;
  size: number;
  /** 'plain': uncompressed bytes, comparable across gzip, zstd and xz; 'raw': the file's own size. */
  measure: 'raw' | 'plain';
}

export async function inspectBackup(object: BackupObject, opts: { lastGood?: LastGoodBackup; minSizeRatio?: number; progress?: (p: ReadProgress) => void } = {}): Promise<BackupInspection> {
  const passed: string[] = [];
  const first = await object.observe();
  const raw = opts.lastGood?.measure === 'raw' ? opts.lastGood : undefined;
  checkBackupSize(object.name, first.size, raw, opts.minSizeRatio);
  passed.push(raw ? `size ${first.size} bytes, not much smaller than ${raw.name}` : `size ${first.size} bytes, not empty`);
  // An archive's format is told from all its members (mariabackup streams its info files last).
  const rawHead = await readRawHead(object);
  const compression = detectCompression(rawHead);
  // A host tool's whole read starts now and brings the plain head with it; an archive is read again, walked in Node.
  let toolRead = compression === 'zstd' || compression === 'xz' || compression === 'bzip2' ? await startToolRead(object, compression, first, opts.progress) : undefined;
  let plainHead: Buffer;
  let container: ReturnType<typeof payloadContainer>;
  let format: BackupFormat | undefined;
  try {
    plainHead = compression === 'none' ? rawHead : toolRead ? await toolRead.plainHead : await readPlainHead(object, compression);
    container = payloadContainer(plainHead);
    format = container ? undefined : detectBackupFormat({ head: rawHead, innerHead: plainHead, name: object.name });
  } catch (err) {
    toolRead?.abandon();
    throw err;
  }
  if (container && toolRead) {
    toolRead.abandon();
    toolRead = undefined;
  }
  const walk = container ? archiveWalk(container, object.name, crc32) : undefined;
  if (format) passed.push(`format ${describeFormat(format)}`);
  const whole = toolRead ? await toolRead.finish() : await readWhole(object, compression, first, opts.progress, walk);
  checkNotInFlight(object.name, first, whole.after);
  if (opts.lastGood?.measure === 'plain') {
    checkBackupSize(`${object.name} (uncompressed)`, whole.plainBytes, opts.lastGood, opts.minSizeRatio);
    passed.push(`${whole.plainBytes} bytes uncompressed, not much less than ${opts.lastGood.name}`);
  }
  passed.push(compression === 'none' ? `read whole (${whole.rawBytes} bytes), unchanged while read` : `${compression} stream whole (${whole.rawBytes} -> ${whole.plainBytes} bytes), unchanged while read`);
  let coordinates: BackupCoordinates | undefined;
  let physical: PhysicalInspection | undefined;
  if (walk) {
    const members = walk.end();
    format = detectBackupFormat({ head: rawHead, innerHead: plainHead, members, name: object.name });
    passed.push(`format ${describeFormat(format)}`, `${container} complete to its end`);
    if (format.kind === 'mariabackup' || format.kind === 'xtrabackup') {
      const found = inspectDatadir(object.name, format, members);
      ({ physical, coordinates } = found);
      passed.push(...found.passed);
    }
  }
  if (!format) throw new Error('unreachable: a backup without a format');
  if (format.kind === 'logical-dump') {
    const tail = whole.plainTail.toString('utf8');
    checkDumpComplete(object.name, tail);
    passed.push('ends with its "-- Dump completed" trailer');
    coordinates = coordinatesFromDump(plainHead.toString('utf8'), tail, format.flavor);
  }
  return { name: object.name, format, rawBytes: whole.rawBytes, plainBytes: whole.plainBytes, sha256: whole.sha256, observed: whole.after, coordinates, passed, ...(physical ? { physical } : {}) };
}

/** The format by content: magic bytes of the raw head, then the decompressed head. */
export async function detectFormatOf(object: BackupObject): Promise<BackupFormat> {
  return (await sniffFormat(object)).format;
}

/** The format, and the plain head it was read from (a dump's coordinates are in it). */
async function sniffFormat(object: BackupObject): Promise<{ format: BackupFormat; plainHead: Buffer }> {
  const { rawHead, plainHead } = await sniffHeads(object);
  return { format: detectBackupFormat({ head: rawHead, innerHead: plainHead, name: object.name }), plainHead };
}

async function sniffHeads(object: BackupObject): Promise<{ rawHead: Buffer; plainHead: Buffer }> {
  const rawHead = await readRawHead(object);
  const compression = detectCompression(rawHead);
  return { rawHead, plainHead: compression === 'none' ? rawHead : await readPlainHead(object, compression) };
}

export function describeFormat(f: BackupFormat): string {
  const what = f.kind === 'logical-dump' ? `${f.tool} dump` : f.kind;
  const scope = f.scope ? (f.scope.kind === 'one-database' ? `, one database${f.scope.database ? ` (${f.scope.database})` : ''}` : f.scope.kind === 'unknown' ? '' : `, ${f.scope.kind}${f.scope.seen.length ? ` (${f.scope.seen.join(', ')})` : ''}`) : '';
  const version = f.serverVersion ? `, server ${f.serverVersion}` : '';
  const members = f.memberCompression ? `, ${f.memberCompression} files` : '';
  return `${what}${f.compression === 'none' ? '' : `, ${f.compression}`}${f.container === 'file' ? '' : ` ${f.container}`}${members}${scope}${version}`;
}

/** An object of a backup location (a file of a folder, an object of a bucket prefix). */
export function storedBackupObject(store: ObjectStore, key: string): BackupObject {
  return {
    name: store.where(key),
    async observe() {
      const o = await store.head(key);
      if (!o) throw new DrillError(DrillErrorTypes.BadConfig, `${store.where(key)} does not exist: check the name (restore-drill backups <source> lists what is there)`);
      return { size: o.size, mtimeMs: o.modified.getTime(), etag: o.etag };
    },
    open: (range) => store.openRead(key, range),
  };
}
