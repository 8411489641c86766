/**
 * The engine's artifact store: its own backups, the binlog archive and its index, reports and
 * per-source status, by key (domain/artifacts/store-layout.ts). One port, two adapters: a folder
 * on the worker host (the default, `<home>/artifacts`) and an S3-compatible bucket under a prefix.
 *
 * What crosses hosts is a reference (`ref`): the local adapter's is the file's path (one host),
 * the S3 adapter's `s3://bucket/key`. An activity that needs the bytes on its own disk stages
 * them (activities/artifacts/staging.ts) and checks their sha256 there.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBackupLocation, parseBackupLocation } from '../domain/artifacts/locations';
import type { S3BackupLocation, S3LocationOptions } from '../domain/artifacts/locations';
import { MiB, multipartPlan, parseS3Ref } from '../domain/artifacts/store-layout';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { openS3Client, s3Failure } from './object-store';
import type { S3Api } from './object-store';

export interface StoredArtifact {
  /** Relative to the store's root. */
  key: string;
  size: number;
  modified: Date;
}

/** What a download or upload moved: its bytes and their sha256. */
export interface MovedBytes {
  bytes: number;
  sha256: string;
}

export interface ArtifactStore {
  readonly kind: 'local' | 's3';
  /** The store as the configuration names it (no secret), for messages. */
  describe(): string;
  /** What results and reports carry for `key`: a path (local) or `s3://bucket/key`. */
  ref(key: string): string;
  /** The key a reference names in this store; undefined when it is not this store's. */
  keyOf(ref: string): string | undefined;
  /** A small object whole; undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;
  /** Replaces a small object at once: a reader sees the old one or the new one. */
  write(key: string, body: string | Buffer): Promise<void>;
  /** A local file uploaded as `key` (S3: multipart above the threshold), hashed as it is read. */
  putFile(key: string, file: string): Promise<MovedBytes>;
  /** `key` downloaded into a local file (under a temporary name, then renamed), hashed as it arrives. */
  getFile(key: string, file: string): Promise<MovedBytes>;
  /** Every object under `prefix`, recursively, by key; empty when none. */
  list(prefix: string): Promise<StoredArtifact[]>;
  /** Removes objects; absent ones are not an error. */
  remove(keys: readonly string[]): Promise<void>;
  /**
   * Publishes a folder written on this host (`localDir`, from `stagingDir`) as `prefix`, its
   * `last` file (the manifest) written last: before it exists, readers see nothing published.
   * Local: one rename. S3: the other files uploaded under `tempPrefix`, copied, `last` put.
   */
  publishFolder(localDir: string, opts: { prefix: string; tempPrefix: string; last: string }): Promise<void>;
  /** Where a folder to publish as `tempPrefix` is written: inside the store (local, so a rename publishes it) or under `workDir` (S3). */
  stagingDir(tempPrefix: string, workDir: string): string;
  /**
   * Unpublishes and removes the folder `prefix` (a backup): first it stops being published
   * (local: renamed to `.pruning-*`; S3: a `.pruning-*` marker, then the manifest deleted),
   * then its objects go. `finishRemovals` completes what a crash interrupted.
   */
  removeFolder(prefix: string, manifest: string): Promise<void>;
  finishRemovals(parentPrefix: string): Promise<void>;
  /** Fails with a clear BadConfig when the store cannot be used (missing bucket, refused keys). */
  check(): Promise<void>;
  close(): void;
}

/** Configured store: a folder, or s3://bucket/prefix/ with its server and key references (config/file-schema.ts `store`). */
export interface ArtifactStoreConfig {
  location: string;
  s3?: S3LocationOptions;
  /** Objects at least this big go up in parts (default 64 MiB), each `partMb` (default 16). */
  multipartThresholdMb?: number;
  partMb?: number;
}

/** The store for `config`; absent: the local folder `artifactRoot`. */
export async function openArtifactStore(artifactRoot: string, config?: ArtifactStoreConfig): Promise<ArtifactStore> {
  if (config === undefined) return new LocalArtifactStore(artifactRoot);
  const location = parseBackupLocation(config.location, config.s3 ?? {});
  if (location.pattern !== undefined) throw new DrillError(DrillErrorTypes.BadConfig, `store location '${config.location}': a store is a folder or a bucket prefix, not a file pattern`);
  if (location.kind === 'local') return new LocalArtifactStore(location.folder);
  return new S3ArtifactStore(location, await openS3Client(location), {
    thresholdBytes: (config.multipartThresholdMb ?? 64) * MiB,
    partBytes: (config.partMb ?? 16) * MiB,
  });
}

/** sha256 and byte count of what streams through. */
function hashing(): { transform: Transform; done: () => MovedBytes } {
  const hash = createHash('sha256');
  let bytes = 0;
  const transform = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  return { transform, done: () => ({ bytes, sha256: hash.digest('hex') }) };
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
}

async function writeAtomically(file: string, body: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  const tmp = tempName(file);
  await writeFile(tmp, body, { mode: 0o640 });
  await rename(tmp, file);
}

async function fileBytes(file: string): Promise<MovedBytes> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

const PRUNING = '.pruning-';

function splitPrefix(prefix: string): { parent: string; name: string } {
  const trimmed = prefix.replace(/\/$/, '');
  const at = trimmed.lastIndexOf('/');
  return { parent: trimmed.slice(0, at + 1), name: trimmed.slice(at + 1) };
}

export class LocalArtifactStore implements ArtifactStore {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {}

  describe(): string {
    return `the folder ${this.root}`;
  }

  ref(key: string): string {
    return path.join(this.root, key);
  }

  keyOf(ref: string): string | undefined {
    const rel = path.relative(this.root, ref);
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel.split(path.sep).join('/');
  }

  async read(key: string): Promise<Buffer | undefined> {
    return readFile(this.ref(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
  }

  async write(key: string, body: string | Buffer): Promise<void> {
    await writeAtomically(this.ref(key), body);
  }

  async putFile(key: string, file: string): Promise<MovedBytes> {
    const target = this.ref(key);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o750 });
    const tmp = tempName(target);
    await copyFile(file, tmp);
    await rename(tmp, target);
    return fileBytes(target);
  }

  async getFile(key: string, file: string): Promise<MovedBytes> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
    const tmp = tempName(file);
    await copyFile(this.ref(key), tmp);
    await rename(tmp, file);
    return fileBytes(file);
  }

  async list(prefix: string): Promise<StoredArtifact[]> {
    const out: StoredArtifact[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(path.join(this.root, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const key = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(key);
        else if (e.isFile()) {
          const st = await stat(path.join(this.root, key)).catch(() => undefined);
          if (st) out.push({ key, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(prefix.replace(/\/$/, ''));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) await rm(this.ref(key), { force: true });
  }

  async publishFolder(localDir: string, opts: { prefix: string }): Promise<void> {
    await rename(localDir, this.ref(opts.prefix));
  }

  stagingDir(tempPrefix: string): string {
    return this.ref(tempPrefix);
  }

  async removeFolder(prefix: string): Promise<void> {
    const { parent, name } = splitPrefix(prefix);
    const pruning = this.ref(`${parent}${PRUNING}${name}`);
    await rename(this.ref(prefix), pruning);
    await rm(pruning, { recursive: true, force: true });
  }

  async finishRemovals(parentPrefix: string): Promise<void> {
    for (const name of await readdir(this.ref(parentPrefix)).catch(() => [] as string[]))
      if (name.startsWith(PRUNING)) await rm(path.join(this.ref(parentPrefix), name), { recursive: true, force: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o750 }).catch((err: NodeJS.ErrnoException) => {
      throw new DrillError(DrillErrorTypes.BadConfig, `artifact store ${this.root} cannot be created on the worker host (${err.code}); create it or give the worker write access`, { cause: err });
    });
  }

  close(): void {}
}

interface Multipart {
  thresholdBytes: number;
  partBytes: number;
}

/** S3 refuses CopyObject above 5 GiB: a bigger object is uploaded again from the local copy. */
const COPY_LIMIT = 5 * 1024 * MiB;

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3' as const;
  constructor(
    private readonly location: S3BackupLocation,
    private readonly s3: S3Api,
    private readonly multipart: Multipart,
  ) {}

  describe(): string {
    return formatBackupLocation(this.location);
  }

  ref(key: string): string {
    return `s3://${this.location.bucket}/${this.location.prefix}${key}`;
  }

  keyOf(ref: string): string | undefined {
    const parsed = parseS3Ref(ref);
    if (!parsed || parsed.bucket !== this.location.bucket || !parsed.key.startsWith(this.location.prefix)) return undefined;
    return parsed.key.slice(this.location.prefix.length);
  }

  private fail(err: unknown, doing: string): DrillError {
    return s3Failure(err, doing, this.location);
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      const reply = await this.s3.client.send(new this.s3.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key }));
      return Buffer.from(await reply.Body!.transformToByteArray());
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw this.fail(err, `reading ${this.ref(key)}`);
    }
  }

  async write(key: string, body: string | Buffer): Promise<void> {
    await this.s3.client
      .send(new this.s3.sdk.PutObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key, Body: typeof body === 'string' ? Buffer.from(body) : body }))
      .catch((err: unknown) => {
        throw this.fail(err, `writing ${this.ref(key)}`);
      });
  }

  async putFile(key: string, file: string): Promise<MovedBytes> {
    const { size } = await stat(file);
    const parts = multipartPlan(size, this.multipart.thresholdBytes, this.multipart.partBytes);
    const Bucket = this.location.bucket;
    const Key = this.location.prefix + key;
    const where = this.ref(key);
    if (parts.length === 0) {
      const body = await readFile(file);
      await this.s3.client.send(new this.s3.sdk.PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length })).catch((err: unknown) => {
        throw this.fail(err, `uploading ${where}`);
      });
      return { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
    }
    const created = await this.s3.client.send(new this.s3.sdk.CreateMultipartUploadCommand({ Bucket, Key })).catch((err: unknown) => {
      throw this.fail(err, `starting the upload of ${where}`);
    });
    const UploadId = created.UploadId!;
    const hash = createHash('sha256');
    const handle = await open(file, 'r');
    try {
      const done: { ETag: string; PartNumber: number }[] = [];
      for (const [i, part] of parts.entries()) {
        const body = Buffer.alloc(part.end - part.start + 1);
        const { bytesRead } = await handle.read(body, 0, body.length, part.start);
        if (bytesRead !== body.length) throw new DrillError(DrillErrorTypes.Transient, `${file} shrank while it was uploaded to ${where}`);
        hash.update(body);
        const reply = await this.s3.client.send(new this.s3.sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body, ContentLength: body.length }));
        done.push({ ETag: reply.ETag!, PartNumber: i + 1 });
      }
      await this.s3.client.send(new this.s3.sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
      return { bytes: size, sha256: hash.digest('hex') };
    } catch (err) {
      await this.s3.client.send(new this.s3.sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw this.fail(err, `uploading ${where} in ${parts.length} parts`);
    } finally {
      await handle.close();
    }
  }

  async getFile(key: string, file: string): Promise<MovedBytes> {
    const where = this.ref(key);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
    const tmp = tempName(file);
    try {
      const reply = await this.s3.client.send(new this.s3.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: this.location.prefix + key })).catch((err: unknown) => {
        throw this.fail(err, `downloading ${where}`);
      });
      if (!(reply.Body instanceof Readable)) throw new DrillError(DrillErrorTypes.Transient, `downloading ${where}: the SDK returned no Node stream`);
      const h = hashing();
      await pipeline(reply.Body, h.transform, createWriteStream(tmp, { mode: 0o640 })).catch((err: unknown) => {
        throw this.fail(err, `downloading ${where}`);
      });
      const moved = h.done();
      if (reply.ContentLength !== undefined && moved.bytes !== reply.ContentLength)
        throw new DrillError(DrillErrorTypes.Transient, `downloading ${where}: ${moved.bytes} of ${reply.ContentLength} bytes arrived`);
      await rename(tmp, file);
      return moved;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async list(prefix: string): Promise<StoredArtifact[]> {
    const out: StoredArtifact[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.s3.client
        .send(new this.s3.sdk.ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.location.prefix + prefix, ContinuationToken }))
        .catch((err: unknown) => {
          throw this.fail(err, `listing ${this.ref(prefix)}`);
        });
      for (const o of page.Contents ?? []) {
        const key = o.Key!.slice(this.location.prefix.length);
        if (!key.endsWith('/')) out.push({ key, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const reply = await this.s3.client
        .send(new this.s3.sdk.DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: batch.map((k) => ({ Key: this.location.prefix + k })), Quiet: true } }))
        .catch((err: unknown) => {
          throw this.fail(err, `removing ${batch.length} object(s) under ${this.ref('')}`);
        });
      const failed = (reply.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new DrillError(DrillErrorTypes.Transient, `removing ${failed[0]!.Key}: ${failed[0]!.Code} (${failed[0]!.Message}) and ${failed.length - 1} more`);
    }
  }

  async publishFolder(localDir: string, opts: { prefix: string; tempPrefix: string; last: string }): Promise<void> {
    const files = (await readdir(localDir, { withFileTypes: true })).filter((e) => e.isFile() && e.name !== opts.last).map((e) => e.name);
    for (const name of files) await this.putFile(`${opts.tempPrefix}${name}`, path.join(localDir, name));
    for (const name of files) await this.copy(`${opts.tempPrefix}${name}`, `${opts.prefix}${name}`, path.join(localDir, name));
    await this.putFile(`${opts.prefix}${opts.last}`, path.join(localDir, opts.last));
    await this.remove(files.map((name) => `${opts.tempPrefix}${name}`));
  }

  private async copy(from: string, to: string, localCopy: string): Promise<void> {
    if ((await stat(localCopy)).size > COPY_LIMIT) {
      await this.putFile(to, localCopy);
      return;
    }
    const Bucket = this.location.bucket;
    await this.s3.client
      .send(new this.s3.sdk.CopyObjectCommand({ Bucket, Key: this.location.prefix + to, CopySource: `${Bucket}/${encodeURI(this.location.prefix + from)}` }))
      .catch((err: unknown) => {
        throw this.fail(err, `copying ${this.ref(from)} to ${this.ref(to)}`);
      });
  }

  stagingDir(tempPrefix: string, workDir: string): string {
    return path.join(workDir, 'outgoing', tempPrefix.replace(/\/$/, '').replace(/\//g, '_'));
  }

  async removeFolder(prefix: string, manifest: string): Promise<void> {
    const { parent, name } = splitPrefix(prefix);
    const marker = `${parent}${PRUNING}${name}`;
    await this.write(marker, '');
    await this.remove([`${prefix}${manifest}`]);
    await this.remove((await this.list(prefix)).map((o) => o.key));
    await this.remove([marker]);
  }

  async finishRemovals(parentPrefix: string): Promise<void> {
    for (const o of await this.list(parentPrefix)) {
      const rel = o.key.slice(parentPrefix.length);
      if (!rel.startsWith(PRUNING) || rel.includes('/')) continue;
      const prefix = `${parentPrefix}${rel.slice(PRUNING.length)}/`;
      await this.remove((await this.list(prefix)).map((x) => x.key));
      await this.remove([o.key]);
    }
  }

  async check(): Promise<void> {
    await this.s3.client.send(new this.s3.sdk.HeadBucketCommand({ Bucket: this.location.bucket })).catch((err: unknown) => {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 404) err = Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket', $metadata: e.$metadata });
      throw this.fail(err, `artifact store ${this.describe()}`);
    });
  }

  close(): void {
    this.s3.client.destroy();
  }
}

const opened = new Map<string, Promise<ArtifactStore>>();

/** The store of a worker or CLI's paths, opened once per configuration (its S3 client is reused). */
export function artifactStoreOf(paths: { artifactRoot: string; store?: ArtifactStoreConfig }): Promise<ArtifactStore> {
  const id = JSON.stringify([paths.artifactRoot, paths.store ?? null]);
  let store = opened.get(id);
  if (!store) {
    store = openArtifactStore(paths.artifactRoot, paths.store);
    store.catch(() => opened.delete(id));
    opened.set(id, store);
  }
  return store;
}

/** What `ref(key)` of the paths' store says, without opening it (no client, no secret read). */
export function storeRef(paths: { artifactRoot: string; store?: ArtifactStoreConfig }, key: string): string {
  if (paths.store === undefined) return path.join(paths.artifactRoot, key);
  const location = parseBackupLocation(paths.store.location, paths.store.s3 ?? {});
  return location.kind === 'local' ? path.join(location.folder, key) : `s3://${location.bucket}/${location.prefix}${key}`;
}
