/** Where the engine keeps things on disk: published artifacts per source, scratch per drill. */
import path from 'node:path';

export interface EnginePaths {
  /** Published backups and the binlog archive, per source. */
  artifactRoot: string;
  /** Per-drill scratch: sandbox sockets, option files. */
  workRoot: string;
}

export function defaultPaths(home = process.env.RESTORE_DRILL_HOME ?? path.join(process.env.HOME ?? '/root', '.restore-drill')): EnginePaths {
  return { artifactRoot: path.join(home, 'artifacts'), workRoot: path.join(home, 'work') };
}

/** A file-system-safe form of a workflow id (ids may contain ':' or '/'). */
export function safeSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120);
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
