/** The artifact store in an S3-compatible bucket under a prefix: multipart above a threshold, a manifest written last. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBackupLocation } from '../../domain/artifacts/locations';
import type { S3BackupLocation } from '../../domain/artifacts/locations';
import { MiB, multipartPlan, parseS3Ref } from '../../domain/artifacts/store-layout';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { s3Failure } from '../object-store';
import type { S3Api } from '../object-store';
import { PRUNING, hashing, splitPrefix, tempName } from './files';
import type { ArtifactStore, MovedBytes, StoredArtifact } from './types';

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
