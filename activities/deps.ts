/** What activities need from the outside world, injected by the worker (the composition root). */
import path from 'node:path';
import type { ContainerRuntime } from '../adapters/container-runtime';
import type { SecretRef } from '../config/schema';

export interface EnginePaths {
  /** Published backups and the binlog archive, per source. */
  artifactRoot: string;
  /** Per-drill scratch: sandbox sockets, option files. */
  workRoot: string;
}

export interface ActivityDeps {
  runtime: ContainerRuntime;
  paths: EnginePaths;
  /** Link prefix for alerts and reports, e.g. http://127.0.0.1:8233/namespaces/default/workflows */
  uiBaseUrl?: string;
  /** Where drill alerts are POSTed: a reference, resolved when an alert is sent. */
  alertWebhookRef?: SecretRef;
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

export function binlogArchiveDir(paths: EnginePaths, source: string): string {
  return path.join(sourceArtifactDir(paths, source), 'binlogs');
}
