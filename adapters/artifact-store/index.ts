/**
 * The engine's artifact store: its own backups, the binlog archive and its index, reports and
 * per-source status, by key (domain/artifacts/store-layout.ts). One port, two adapters: a folder
 * on the worker host (the default, `<home>/artifacts`) and an S3-compatible bucket under a prefix.
 *
 * What crosses hosts is a reference (`ref`): the local adapter's is the file's path (one host),
 * the S3 adapter's `s3://bucket/key`. An activity that needs the bytes on its own disk stages
 * them (activities/artifacts/staging.ts) and checks their sha256 there.
 */
import path from 'node:path';
import { parseBackupLocation } from '../../domain/artifacts/locations';
import { MiB } from '../../domain/artifacts/store-layout';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { openS3Client } from '../object-store';
import { LocalArtifactStore } from './local';
import { S3ArtifactStore } from './s3';
import type { ArtifactStore, ArtifactStoreConfig } from './types';

export { LocalArtifactStore } from './local';
export { S3ArtifactStore } from './s3';

export type { ArtifactStore, ArtifactStoreConfig, MovedBytes, StoredArtifact } from './types';

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
