/**
 * A bucket of its own on the rclone S3 server (deploy/s3.sh) for one test file or bench run: the
 * artifact store's configuration, with the server's keys by reference, and an administrator's
 * view of the objects to check what the engine left there.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStoreConfig } from '../../adapters/artifact-store';

export interface TestBucket {
  name: string;
  /** The artifact store at `s3://<bucket>/<prefix>`. */
  store(prefix: string): ArtifactStoreConfig;
  keysUnder(prefix: string): Promise<string[]>;
  object(key: string): Promise<Buffer>;
  /** Deletes every object, then the bucket. */
  destroy(): Promise<void>;
}

const CREDENTIALS = path.join(process.env.RESTORE_DRILL_HOME ?? path.join(os.homedir(), '.restore-drill'), 's3-credentials');
/** The project's S3 server and its key files (deploy/s3.sh), for suites that put objects there by hand. */
export const S3_ENDPOINT = `http://127.0.0.1:${process.env.RD_S3_PORT ?? 9768}`;
export const KEY_FILE = path.join(CREDENTIALS, 'access-key-id');
export const SECRET_FILE = path.join(CREDENTIALS, 'secret-access-key');

/** A client with the S3 server's own keys: to make buckets, put a team's backups, see what the engine left. */
export async function s3Admin(): Promise<S3Client> {
  if (!existsSync(SECRET_FILE)) throw new Error(`no S3 credentials in ${CREDENTIALS}: run deploy/s3.sh start`);
  return new S3Client({
    endpoint: S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: (await readFile(KEY_FILE, 'utf8')).trim(), secretAccessKey: (await readFile(SECRET_FILE, 'utf8')).trim() },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function emptyAndDelete(admin: S3Client, name: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: name, ContinuationToken: token }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length) await admin.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await admin.send(new DeleteBucketCommand({ Bucket: name })).catch(() => undefined);
}

/** Deletes a bucket a test made by hand and every object in it; a bucket never made is no error. */
export async function removeBucket(name: string): Promise<void> {
  const admin = await s3Admin();
  try {
    await emptyAndDelete(admin, name).catch((err: Error) => {
      if (err.name !== 'NoSuchBucket') throw err;
    });
  } finally {
    admin.destroy();
  }
}

export async function createTestBucket(label: string): Promise<TestBucket> {
  const keyRef = { file: KEY_FILE };
  const secretRef = { file: SECRET_FILE };
  const endpoint = S3_ENDPOINT;
  const name = `rd-${label}-${Date.now().toString(36)}`;
  const admin = await s3Admin();
  await admin.send(new CreateBucketCommand({ Bucket: name })).catch((err: Error) => {
    admin.destroy();
    throw new Error(`the S3 server at ${endpoint} refused CreateBucket (${err.name}: ${err.message}): run deploy/s3.sh start`);
  });
  const keysUnder = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await admin.send(new ListObjectsV2Command({ Bucket: name, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  };
  return {
    name,
    store: (prefix) => ({ location: `s3://${name}/${prefix}`, s3: { endpoint, accessKeyIdRef: keyRef, secretAccessKeyRef: secretRef } }),
    keysUnder,
    object: async (key) => Buffer.from(await (await admin.send(new GetObjectCommand({ Bucket: name, Key: key }))).Body!.transformToByteArray()),
    async destroy() {
      try {
        await emptyAndDelete(admin, name);
      } finally {
        admin.destroy();
      }
    },
  };
}
