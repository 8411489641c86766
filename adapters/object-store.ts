/**
 * Reading a team's own backups where they already are: a folder on the worker host or an
 * S3-compatible bucket. One small port (list, head, ranged streaming read) and two adapters.
 *
 * Keys are names relative to the location (`orders-2026-11-20.sql.gz`), the same for both
 * adapters. A location is one folder: a sub-folder (an S3 common prefix) is listed as one
 * directory entry (`nightly-2026-11-20/`), a directory backup such as mydumper's, whose files
 * `listFiles` lists. Reads stream, and a read that ends short of the object's length is an
 * error, never a short clean end.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import type * as S3SdkModule from '@aws-sdk/client-s3';
import { describeCredentialRef, formatBackupLocation, matchesFileName } from '../domain/artifacts/locations';
import type { BackupLocation, LocalBackupLocation, S3BackupLocation } from '../domain/artifacts/locations';
import { DrillError, DrillErrorTypes, isDrillError } from '../domain/errors';
import { resolveSecret } from './secrets';

export interface StoredObject {
  /** Name relative to the location; what head and openRead take. A directory's ends in '/'. */
  key: string;
  /** A directory entry stands for every file under it (`listFiles`). */
  kind: 'file' | 'directory';
  /** A directory's: the sum of its files'. */
  size: number;
  /** A directory's: its newest file's. */
  modified: Date;
  /** Changes whenever the content does: S3's ETag (unquoted), or size and mtime for a file; a directory's digests its files'. */
  etag: string;
}

/** Byte range, both ends inclusive (as HTTP Range and fs.createReadStream count). */
export interface ReadRange {
  start?: number;
  end?: number;
}

export interface ObjectStore {
  /**
   * Files and directories whose name starts with `prefix` (and matches the location's pattern),
   * newest first. Empty is not an error.
   */
  list(prefix?: string): Promise<StoredObject[]>;
  /** Every file under directory `dirKey` (`name/`), recursively, keys relative to the location (`name/db.t.sql.gz`), by key. */
  listFiles(dirKey: string): Promise<StoredObject[]>;
  /** undefined when there is no such object. */
  head(key: string): Promise<StoredObject | undefined>;
  openRead(key: string, range?: ReadRange): Promise<Readable>;
  /** Where `key` is, for messages and reports. */
  where(key: string): string;
  close(): void;
}

export interface ObjectStoreOptions {
  /** Objects per list request (S3 allows at most 1000). */
  pageSize?: number;
  /** Attempts per S3 request, retries included; Temporal retries the activity on top. */
  maxAttempts?: number;
}

const CHUNK_BYTES = 1024 * 1024;

export async function openObjectStore(location: BackupLocation, options: ObjectStoreOptions = {}): Promise<ObjectStore> {
  return location.kind === 'local' ? new LocalFolderStore(location) : await S3ObjectStore.open(location, options);
}

const newestFirst = (a: StoredObject, b: StoredObject): number =>
  b.modified.getTime() - a.modified.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);

/** A directory entry for `key` (ending in '/') from its files; undefined for an empty one. */
export function directoryEntry(key: string, files: readonly StoredObject[]): StoredObject | undefined {
  if (files.length === 0) return undefined;
  const digest = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) digest.update(`${f.key}\0${f.size}\0${f.etag}\n`);
  return {
    key,
    kind: 'directory',
    size: files.reduce((n, f) => n + f.size, 0),
    modified: new Date(Math.max(...files.map((f) => f.modified.getTime()))),
    etag: digest.digest('hex').slice(0, 32),
  };
}

const byKey = (a: StoredObject, b: StoredObject): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** `name/` for a directory key; BadConfig otherwise. */
function directoryKey(where: string, dirKey: string): string {
  if (!dirKey.endsWith('/') || dirKey === '/' || dirKey.startsWith('/') || dirKey.split('/').slice(0, -1).some((s) => s === '' || s === '.' || s === '..')) {
    throw new DrillError(DrillErrorTypes.BadConfig, `'${dirKey}' is not a directory name in ${where} (a relative name ending in '/')`);
  }
  return dirKey;
}

function checkRange(where: string, range: ReadRange): void {
  const { start = 0, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new DrillError(DrillErrorTypes.BadConfig, `${where}: byte range ${start}-${end ?? ''} is not a range (0 <= start <= end)`);
  }
}

/**
 * The body passed through a counter: fewer bytes than announced is an error, and an error of
 * the body (connection reset mid-read) arrives translated.
 */
function countedBody(body: Readable, expected: number | undefined, where: string): Readable {
  let seen = 0;
  const counted = new Transform({
    highWaterMark: CHUNK_BYTES,
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (expected === undefined || seen === expected) done();
      else done(new DrillError(DrillErrorTypes.Transient, `${where}: the read ended after ${seen} of ${expected} bytes`, { details: { seen, expected } }));
    },
  });
  body.on('error', (err) => counted.destroy(new DrillError(DrillErrorTypes.Transient, `${where}: the read broke after ${seen} bytes (${err.message})`, { cause: err })));
  counted.on('close', () => body.destroy()); // a reader that stops early frees the connection
  return body.pipe(counted);
}

class LocalFolderStore implements ObjectStore {
  constructor(private readonly location: LocalBackupLocation) {}

  where(key: string): string {
    return path.join(this.location.folder, key);
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const { folder, pattern } = this.location;
    const entries = await readdir(folder, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw this.fsError(err, folder);
    });
    const names = entries
      .filter((e) => (e.isFile() || e.isSymbolicLink() || e.isDirectory()) && e.name.startsWith(prefix) && (pattern === undefined || matchesFileName(pattern, e.name)))
      .map((e) => e.name);
    const objects = await Promise.all(names.map(async (name) => (await this.head(name)) ?? directoryEntry(`${name}/`, await this.listFiles(`${name}/`).catch(() => []))));
    return objects.filter((o): o is StoredObject => o !== undefined).sort(newestFirst);
  }

  async listFiles(dirKey: string): Promise<StoredObject[]> {
    const top = directoryKey(formatBackupLocation(this.location), dirKey);
    const out: StoredObject[] = [];
    const walk = async (rel: string): Promise<void> => {
      const dir = path.join(this.location.folder, rel);
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        throw this.fsError(err, dir);
      });
      for (const e of entries) {
        if (e.isDirectory()) await walk(`${rel}${e.name}/`);
        else if (e.isFile() || e.isSymbolicLink()) {
          const file = await this.head(`${rel}${e.name}`);
          if (file) out.push(file);
        }
      }
    };
    await walk(top);
    return out.sort(byKey);
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const file = this.pathOf(key);
    try {
      const s = await stat(file);
      if (!s.isFile()) return undefined;
      return { key, kind: 'file', size: s.size, modified: s.mtime, etag: `${s.size.toString(16)}-${Math.trunc(s.mtimeMs).toString(16)}` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.fsError(err as NodeJS.ErrnoException, file);
    }
  }

  async openRead(key: string, range: ReadRange = {}): Promise<Readable> {
    const file = this.pathOf(key);
    checkRange(file, range);
    // Opened here, so a missing or unreadable file rejects this call instead of a later stream event.
    const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      throw this.fsError(err, file);
    });
    const size = await handle.stat().then((s) => s.size, async (err: NodeJS.ErrnoException) => {
      await handle.close();
      throw this.fsError(err, file);
    });
    const start = range.start ?? 0;
    const end = Math.min(range.end ?? size - 1, size - 1);
    if (start > end) {
      await handle.close(); // an empty file, or a range past its end
      return Readable.from([]);
    }
    // The stream owns the handle and closes it once (a raw fd closed twice could hit a reused number).
    const stream = handle.createReadStream({ start, end, highWaterMark: CHUNK_BYTES });
    return countedBody(stream, Math.max(0, end - start + 1), file);
  }

  close(): void {}

  /** A file's path; a key may name a file in a sub-folder (`dir/db.t.sql`), never one outside the folder. */
  private pathOf(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new DrillError(DrillErrorTypes.BadConfig, `'${key}' is not a file name in ${formatBackupLocation(this.location)}`);
    }
    return path.join(this.location.folder, key);
  }

  private fsError(err: NodeJS.ErrnoException, file: string): DrillError {
    const what = `${file} on the worker host`;
    const [type, problem] =
      err.code === 'ENOENT' ? [DrillErrorTypes.BadConfig, `${what} does not exist; check the backup location`]
      : err.code === 'ENOTDIR' ? [DrillErrorTypes.BadConfig, `${what} is a file; a location names a folder (${path.dirname(file)}/) or a pattern in one (${path.dirname(file)}/*.sql.gz)`]
      : err.code === 'EACCES' || err.code === 'EPERM' ? [DrillErrorTypes.BadConfig, `${what} is not readable by the worker (${err.code}); grant it read access`]
      : [DrillErrorTypes.Transient, `${what} could not be read (${err.code ?? err.message})`];
    return new DrillError(type, problem, { cause: err, details: { file } });
  }
}

/** What the SDK's errors carry that the translation needs. */
interface SdkError extends Error {
  code?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden', 'InvalidToken', 'ExpiredToken']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/** The AWS SDK's S3 module: its classes are the client and the commands it sends. */
export type S3Sdk = typeof S3SdkModule;

/** An SDK client and the SDK it came from, which is loaded here on first use: commands that touch only local files start without its 100 ms. */
export interface S3Api {
  client: S3Client;
  sdk: S3Sdk;
}

/** An SDK client for an S3 location, its credentials resolved from their references here, on the worker. */
export async function openS3Client(location: S3BackupLocation, options: ObjectStoreOptions = {}): Promise<S3Api> {
  // The SDK warns on every process start that its 2027 releases need Node 22; this package pins
  // its SDK release, so the warning would only clutter each command's output and the worker logs.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const what = formatBackupLocation(location);
  const credentials = location.credentials && {
    accessKeyId: (await resolveSecret(location.credentials.accessKeyId, `S3 access key id for ${what}`))!,
    secretAccessKey: (await resolveSecret(location.credentials.secretAccessKey, `S3 secret access key for ${what}`))!,
  };
  const client = new sdk.S3Client({
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    ...(location.endpoint !== undefined && { endpoint: location.endpoint }),
    ...(credentials && { credentials }),
    maxAttempts: options.maxAttempts ?? 3,
    // Checksums only where S3 requires them: S3-compatible servers differ in the newer ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // No overall request timeout: a backup may take an hour to stream. An idle socket is dead.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 120_000 },
  });
  return { client, sdk };
}

class S3ObjectStore implements ObjectStore {
  private constructor(
    private readonly location: S3BackupLocation,
    private readonly s3: S3Api,
    private readonly pageSize: number,
  ) {}

  static async open(location: S3BackupLocation, options: ObjectStoreOptions): Promise<S3ObjectStore> {
    return new S3ObjectStore(location, await openS3Client(location, options), Math.min(Math.max(options.pageSize ?? 1000, 1), 1000));
  }

  where(key: string): string {
    return `s3://${this.location.bucket}/${this.location.prefix}${key}${this.location.endpoint ? ` at ${this.location.endpoint}` : ''}`;
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const { bucket, prefix: folder, pattern } = this.location;
    const objects: StoredObject[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.s3.client
        .send(new this.s3.sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: folder + prefix, Delimiter: '/', MaxKeys: this.pageSize, ContinuationToken: continuationToken }))
        .catch((err: unknown) => {
          throw this.translate(err, `listing s3://${bucket}/${folder}${prefix}`);
        });
      for (const o of page.Contents ?? []) {
        const key = o.Key!.slice(folder.length);
        if (key === '' || key.endsWith('/') || (pattern !== undefined && !matchesFileName(pattern, key))) continue;
        objects.push({ key, kind: 'file', size: o.Size ?? 0, modified: o.LastModified ?? new Date(0), etag: unquote(o.ETag) });
      }
      for (const p of page.CommonPrefixes ?? []) {
        const key = p.Prefix!.slice(folder.length);
        if (key === '/' || (pattern !== undefined && !matchesFileName(pattern, key.slice(0, -1)))) continue;
        const entry = directoryEntry(key, await this.listFiles(key));
        if (entry) objects.push(entry);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return objects.sort(newestFirst);
  }

  async listFiles(dirKey: string): Promise<StoredObject[]> {
    const { bucket, prefix: folder } = this.location;
    const top = directoryKey(formatBackupLocation(this.location), dirKey);
    const files: StoredObject[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.s3.client
        .send(new this.s3.sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: folder + top, MaxKeys: this.pageSize, ContinuationToken: continuationToken }))
        .catch((err: unknown) => {
          throw this.translate(err, `listing s3://${bucket}/${folder}${top}`);
        });
      for (const o of page.Contents ?? []) {
        const key = o.Key!.slice(folder.length);
        if (!key.endsWith('/')) files.push({ key, kind: 'file', size: o.Size ?? 0, modified: o.LastModified ?? new Date(0), etag: unquote(o.ETag) });
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
    return files.sort(byKey);
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const o = await this.s3.client.send(new this.s3.sdk.HeadObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
      return { key, kind: 'file', size: o.ContentLength ?? 0, modified: o.LastModified ?? new Date(0), etag: unquote(o.ETag) };
    } catch (err) {
      if ((err as SdkError).$metadata?.httpStatusCode === 404 && (err as SdkError).name !== 'NoSuchBucket') return undefined;
      throw this.translate(err, `reading the metadata of ${this.where(key)}`);
    }
  }

  async openRead(key: string, range: ReadRange = {}): Promise<Readable> {
    const where = this.where(key);
    checkRange(where, range);
    const ranged = range.start !== undefined || range.end !== undefined;
    let reply: GetObjectCommandOutput;
    try {
      reply = await this.s3.client.send(new this.s3.sdk.GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.location.prefix + key,
        ...(ranged && { Range: `bytes=${range.start ?? 0}-${range.end ?? ''}` }),
      }));
    } catch (err) {
      if ((err as SdkError).name === 'InvalidRange') return Readable.from([]); // start at or past the end
      throw this.translate(err, `reading ${where}`);
    }
    if (!(reply.Body instanceof Readable)) throw new DrillError(DrillErrorTypes.Transient, `reading ${where}: the SDK returned no Node stream`);
    return countedBody(reply.Body, reply.ContentLength, where);
  }

  close(): void {
    this.s3.client.destroy();
  }

  private translate(err: unknown, doing: string): DrillError {
    return s3Failure(err, doing, this.location);
  }
}

/** One DrillError per kind of failure of an S3 request, naming references and never their values. */
export function s3Failure(err: unknown, doing: string, location: S3BackupLocation): DrillError {
  if (isDrillError(err)) return err;
  const e = err as SdkError;
  const code = e.name && e.name !== 'Error' ? e.name : e.code ?? (e.cause as SdkError | undefined)?.code ?? 'unknown';
  const status = e.$metadata?.httpStatusCode;
  const server = location.endpoint ?? `AWS S3 (${location.region})`;
  const details = { code, status, bucket: location.bucket };
  const fail = (type: DrillError['type'], message: string) => new DrillError(type, `${doing}: ${message}`, { cause: err, details });
  if (code === 'NoSuchBucket') {
    return fail(DrillErrorTypes.BadConfig, `bucket '${location.bucket}' does not exist on ${server}; check the bucket in the backup location`);
  }
  if (code === 'NoSuchKey' || (status === 404 && code === 'NotFound')) {
    return fail(DrillErrorTypes.ArtifactInFlight, 'the object is gone (deleted or replaced since it was listed)');
  }
  if (CREDENTIAL_CODES.has(code) || status === 401 || status === 403) return fail(DrillErrorTypes.BadConfig, s3Refusal(location, code, server));
  if (code === 'CredentialsProviderError') {
    return fail(DrillErrorTypes.BadConfig, 'no S3 credentials found; give accessKeyIdRef and secretAccessKeyRef in the backup location');
  }
  // The retry middleware wraps an error from another realm (jest's sandbox) keeping only its
  // text ("AWS SDK error wrapper for Error: connect ECONNREFUSED ..."), so the text counts too.
  const network = [e.code, (e.cause as SdkError | undefined)?.code, code, ...(e.message.match(/\bE[A-Z]+\b/g) ?? [])]
    .find((c) => c !== undefined && NETWORK_CODES.has(c));
  if (network !== undefined || code === 'TimeoutError') {
    return fail(DrillErrorTypes.Transient, `${server} does not answer (${network ?? code}); check the endpoint and that the server runs`);
  }
  if (status !== undefined && status >= 400 && status < 500) return fail(DrillErrorTypes.BadConfig, `${server} refused it (${code}, HTTP ${status})`);
  return fail(DrillErrorTypes.Transient, `${server} failed (${code}${status ? `, HTTP ${status}` : ''}: ${e.message})`);
}

function s3Refusal(location: S3BackupLocation, code: string, server: string): string {
  const refs = location.credentials;
  if (!refs) return `${server} refused the request (${code}): no credentials are referenced; give accessKeyIdRef and secretAccessKeyRef`;
  const keyRef = describeCredentialRef(refs.accessKeyId);
  const secretRef = describeCredentialRef(refs.secretAccessKey);
  if (code === 'InvalidAccessKeyId') return `${server} does not know the access key id (${code}); check the key in ${keyRef}`;
  if (code === 'SignatureDoesNotMatch') return `${server} rejected the signature (${code}): the secret access key in ${secretRef} does not belong to the key in ${keyRef}`;
  return `${server} refused access (${code}); check the key in ${keyRef}, the secret in ${secretRef}, and that this key may read bucket '${location.bucket}'`;
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
