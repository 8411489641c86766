/** Where the engine keeps things on disk: published artifacts per source, scratch per drill. */
import path from 'node:path';
import { parseBackupLocation } from '../domain/artifacts/locations';
import { safeSegment } from '../domain/artifacts/store-layout';
import type { ArtifactStoreConfig } from './artifact-store';

export { safeSegment };

export interface EnginePaths {
  /** Published backups and the binlog archive, per source. */
  artifactRoot: string;
  /** Per-drill scratch: sandbox sockets, option files, backups staged from the store. */
  workRoot: string;
  /** The configured artifact store (adapters/artifact-store/); absent: the folder `artifactRoot`. */
  store?: ArtifactStoreConfig;
}

export function defaultPaths(home = process.env.RESTORE_DRILL_HOME ?? path.join(process.env.HOME ?? '/root', '.restore-drill')): EnginePaths {
  return { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') };
}


export function drillWorkDir(paths: EnginePaths, drillId: string): string {
  return path.join(paths.workRoot, safeSegment(drillId));
}

export function sourceArtifactDir(paths: EnginePaths, source: string): string {
  return path.join(paths.artifactRoot, safeSegment(source));
}

/** Published backups of a source: `<id>/manifest.json` beside its artifact; `.partial-<id>` while one is written. */
export function sourceBackupsDir(paths: EnginePaths, source: string): string {
  return path.join(sourceArtifactDir(paths, source), 'backups');
}

export function binlogArchiveDir(paths: EnginePaths, source: string): string {
  return path.join(sourceArtifactDir(paths, source), 'binlogs');
}

/**
 * `paths` with the configured store: a local folder becomes the artifact root (the archive's
 * working copy and the store are then one folder), an S3 store is kept as `store`.
 */
export function withStore(paths: EnginePaths, store: ArtifactStoreConfig | undefined): EnginePaths {
  if (store === undefined) return paths;
  const location = parseBackupLocation(store.location, store.s3 ?? {});
  return location.kind === 'local' ? { ...paths, artifactRoot: location.folder } : { ...paths, store };
}
