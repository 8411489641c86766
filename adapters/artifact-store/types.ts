/** The artifact store's port: what the local and S3 adapters both do, and how a store is configured. */
import type { S3LocationOptions } from '../../domain/artifacts/locations';

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
