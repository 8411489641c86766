/**
 * The door checks of a backup that is a directory (a local sub-folder or an S3 common prefix),
 * before any sandbox: its format from the file names and the small metadata files, a mydumper
 * dump still running or cut short, every member read whole (decompressed when its magic bytes
 * say so), the listing unchanged while read, and a sha256 over the files that names it.
 * Streams every file; nothing is held whole but the small metadata files.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { coordinatesFromMydumperMetadata } from '../domain/backups/coordinates';
import { checkDirectoryUnchanged, checkMydumperNotPartial, pathInDirectory } from '../domain/backups/directory';
import { checkBackupSize, checkMydumperComplete, checkNotInFlight } from '../domain/backups/door-checks';
import { detectCompression, detectDirectoryFormat } from '../domain/backups/format';
import type { BackupFormat, BackupMember, Compression } from '../domain/backups/format';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import type { BackupInspection, LastGoodBackup, ReadProgress } from './backup-reader';
import { describeFormat } from './backup-reader';
import { decompressor } from './decompress';
import { directorySha256, eachLimited, observation, toListed } from './directory-files';

// Shared with physical-directory.ts and the restore's copy of a directory (directory-files.ts).
export { directorySha256, toListed };
import { inspectPhysicalDirectory } from './physical-directory';
import type { ObjectStore, StoredObject } from './object-store';

/** Small files whose content format detection reads (mydumper's, mariabackup's and XtraBackup's). */
const METADATA_FILE = /^(?:metadata(?:\.partial)?|(?:xtrabackup|mariadb_backup)_(?:checkpoints|info|binlog_info)|backup-my\.cnf)$/;
const METADATA_MAX_BYTES = 1024 * 1024;
/** Files read at once: S3 round trips overlap, a local disk is not thrashed. */
const READ_PARALLEL = 4;


/** The directory's files and the members format detection needs; BadConfig when there is none. */
async function readLayout(store: ObjectStore, dirKey: string): Promise<{ files: StoredObject[]; members: BackupMember[] }> {
  const files = await store.listFiles(dirKey);
  if (files.length === 0) throw new DrillError(DrillErrorTypes.BadConfig, `${store.where(dirKey)} holds no files (or does not exist): check the name (restore-drill backups <source> lists what is there)`);
  const members: BackupMember[] = [];
  for (const f of files) {
    const path = pathInDirectory(dirKey, f.key);
    const base = path.split('/').pop()!;
    members.push(METADATA_FILE.test(base) && f.size <= METADATA_MAX_BYTES ? { path, content: (await readAll(await store.openRead(f.key))).toString('utf8') } : { path });
  }
  return { files, members };
}

/** A directory's format by its layout (names, then the metadata files' contents). */
export async function detectDirectoryFormatOf(store: ObjectStore, dirKey: string): Promise<BackupFormat> {
  const { members } = await readLayout(store, dirKey);
  return detectDirectoryFormat(members, store.where(dirKey));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A stream that hashes the raw bytes and decompresses them by the first bytes' magic: a
 * member's compression is told by content, like a file backup's.
 */
export async function openMember(store: ObjectStore, key: string): Promise<{ plain: AsyncIterable<Buffer>; rawBytes: () => number; sha256: () => string; compression: () => Compression; close(): void }> {
  const raw = await store.openRead(key);
  const hash = createHash('sha256');
  let rawBytes = 0;
  let compression: Compression | undefined;
  const sniffed = (async function* () {
    let first = true;
    for await (const chunk of raw) {
      const buf = chunk as Buffer;
      hash.update(buf);
      rawBytes += buf.length;
      if (first) {
        // Six bytes tell every supported magic; a read always brings more than that unless the file is that short.
        compression = detectCompression(buf);
        first = false;
      }
      yield buf;
    }
  })();
  // The first chunk decides the decompressor: read it, then hand it and the rest through.
  const head = await sniffed.next();
  const c = (compression ??= 'none');
  const rest = (async function* () {
    if (!head.done) yield head.value;
    yield* sniffed;
  })();
  const decompress = decompressor(c);
  const plain = c === 'none' ? rest : (pipelineInto(rest, decompress) as AsyncIterable<Buffer>);
  let digest: string | undefined;
  return {
    plain,
    rawBytes: () => rawBytes,
    sha256: () => (digest ??= hash.digest('hex')),
    compression: () => c,
    close: () => {
      raw.destroy();
      decompress.destroy();
    },
  };
}

function pipelineInto(source: AsyncIterable<Buffer>, through: NodeJS.ReadWriteStream & { destroy(err?: Error): void }): AsyncIterable<unknown> {
  void pipeline(source, through).catch((err: Error) => through.destroy(err));
  return through as unknown as AsyncIterable<unknown>;
}

interface MemberRead {
  path: string;
  sha256: string;
  rawBytes: number;
  plainBytes: number;
  compression: Compression;
}

/** One member read whole; a stream its decompressor rejects is ArtifactCorrupt, naming the file. */
async function readMember(store: ObjectStore, dirKey: string, file: StoredObject): Promise<MemberRead> {
  const member = await openMember(store, file.key);
  let plainBytes = 0;
  try {
    await pipeline(
      member.plain,
      new Writable({
        write(chunk: Buffer, _enc, done) {
          plainBytes += chunk.length;
          done();
        },
      }),
    );
  } catch (err) {
    if ((err as DrillError).type === DrillErrorTypes.Transient || (err as DrillError).type === DrillErrorTypes.ArtifactInFlight) throw err;
    throw new DrillError(
      DrillErrorTypes.ArtifactCorrupt,
      `${store.where(file.key)} is not a complete ${member.compression()} stream (${(err as Error).message.slice(0, 300)}): the backup was cut short or corrupted (${plainBytes} plain bytes came out before the break)`,
      { cause: err, details: { file: file.key, plainBytes } },
    );
  } finally {
    member.close();
  }
  return { path: pathInDirectory(dirKey, file.key), sha256: member.sha256(), rawBytes: member.rawBytes(), plainBytes, compression: member.compression() };
}

/**
 * The door checks of directory `dirKey` of a location. Each refusal is a typed DrillError:
 * UnknownBackupFormat, ArtifactInFlight (metadata.partial, or the listing changed while read),
 * DumpTruncated (no metadata, or no "Finished dump at"), ArtifactCorrupt (a member that does not
 * decompress whole), BackupTooSmall. Physical directories are left to their own reader.
 */
export async function inspectBackupDirectory(
  store: ObjectStore,
  dirKey: string,
  opts: { lastGood?: LastGoodBackup; minSizeRatio?: number; progress?: (p: ReadProgress) => void } = {},
): Promise<BackupInspection> {
  const name = store.where(dirKey);
  const passed: string[] = [];
  const { files, members } = await readLayout(store, dirKey);
  const format = detectDirectoryFormat(members, name);
  if (format.kind === 'mariabackup' || format.kind === 'xtrabackup') return inspectPhysicalDirectory(store, dirKey, { files, members, format }, opts);
  if (format.kind !== 'mydumper') {
    throw new DrillError(DrillErrorTypes.UnsupportedBackupFormat, `${name} is a ${format.kind} directory, which restore-drill does not verify as a directory yet`, { details: { name, kind: format.kind } });
  }
  const metadata = members.find((m) => m.path === 'metadata')?.content;
  checkMydumperNotPartial(name, members.map((m) => m.path), Math.max(0, ...files.map((f) => f.modified.getTime())), Date.now());
  checkMydumperComplete(name, members.map((m) => m.path), metadata);
  passed.push('mydumper finished it (metadata with its "Finished dump at" line)');
  const total = files.reduce((n, f) => n + f.size, 0);
  const raw = opts.lastGood?.measure === 'raw' ? opts.lastGood : undefined;
  checkBackupSize(name, total, raw, opts.minSizeRatio);
  passed.push(raw ? `${total} bytes in ${files.length} files, not much smaller than ${raw.name}` : `${total} bytes in ${files.length} files, not empty`);
  passed.push(`format ${describeFormat(format)}`);

  let rawBytes = 0;
  let plainBytes = 0;
  let reads: MemberRead[];
  try {
    reads = await eachLimited(files, READ_PARALLEL, async (f) => {
      const r = await readMember(store, dirKey, f);
      rawBytes += r.rawBytes;
      plainBytes += r.plainBytes;
      opts.progress?.({ rawBytes, ofRawBytes: total });
      return r;
    });
  } catch (err) {
    // A member that broke because the dumper was still writing it is in flight, not corrupt.
    checkDirectoryUnchanged(name, toListed(files), toListed(await store.listFiles(dirKey)));
    throw err;
  }
  const after = await store.listFiles(dirKey);
  checkDirectoryUnchanged(name, toListed(files), toListed(after));
  const observedBefore = observation(files);
  checkNotInFlight(name, observedBefore, observation(after));
  if (opts.lastGood?.measure === 'plain') {
    checkBackupSize(`${name} (uncompressed)`, plainBytes, opts.lastGood, opts.minSizeRatio);
    passed.push(`${plainBytes} bytes uncompressed, not much less than ${opts.lastGood.name}`);
  }
  const compressed = reads.filter((r) => r.compression !== 'none');
  passed.push(`${files.length} files read whole${compressed.length > 0 ? ` (${compressed.length} ${compressed[0]!.compression} streams whole)` : ''}, ${rawBytes} -> ${plainBytes} bytes, unchanged while read`);
  const coordinates = coordinatesFromMydumperMetadata(metadata ?? '');
  return { name, format, rawBytes, plainBytes, sha256: directorySha256(reads), observed: observedBefore, coordinates, passed };
}
