/**
 * Where the engine's own artifacts live in its store, by key: the same layout in a local folder
 * (keys are paths under it) and in an S3 bucket (keys follow the configured prefix).
 *
 *   <source>/backups/<backup id>/manifest.json   published when its manifest exists
 *   <source>/backups/.partial-<id>/...           an upload or write not yet published
 *   <source>/backups/.pruning-<id>               retention removing <id> (a folder locally, a marker object on S3)
 *   <source>/binlogs/<file>, binlogs/index.json  the binlog archive and its index
 *   <source>/reports/<drill id>/report.json      a drill's report (report.md beside it)
 *   <source>/archive-status.json, last-outcome.json
 *
 * Pure: the adapters (adapters/artifact-store/) read and write what this names.
 */
import { MANIFEST_FILE } from './manifest';

/** A file-system-safe form of an id (workflow ids may contain ':' or '/'). */
export function safeSegment(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120);
}

export const REPORT_JSON = 'report.json';
export const REPORT_MD = 'report.md';
export const PRUNING_PREFIX = '.pruning-';

export const StoreKeys = {
  source: (source: string) => `${safeSegment(source)}/`,
  backups: (source: string) => `${safeSegment(source)}/backups/`,
  backup: (source: string, backupId: string) => `${safeSegment(source)}/backups/${backupId}/`,
  manifest: (source: string, backupId: string) => `${safeSegment(source)}/backups/${backupId}/${MANIFEST_FILE}`,
  binlogs: (source: string) => `${safeSegment(source)}/binlogs/`,
  reports: (source: string) => `${safeSegment(source)}/reports/`,
  report: (source: string, drillId: string) => `${safeSegment(source)}/reports/${safeSegment(drillId)}/`,
  archiveStatus: (source: string) => `${safeSegment(source)}/archive-status.json`,
  lastOutcome: (source: string) => `${safeSegment(source)}/last-outcome.json`,
};

/**
 * The folders among `keys` (relative to a prefix such as `<source>/backups/`) that are
 * published: a first-level folder holding `marker` (its manifest, or report.json). Hidden
 * folders (`.partial-*`, `.pruning-*`) never are. Sorted by name.
 */
export function publishedFolders(relativeKeys: readonly string[], marker: string): string[] {
  const out = new Set<string>();
  for (const key of relativeKeys) {
    const [folder, file, ...rest] = key.split('/');
    if (folder === undefined || folder === '' || folder.startsWith('.') || rest.length > 0 || file !== marker) continue;
    out.add(folder);
  }
  return [...out].sort();
}

/**
 * First-level folders of `relativeKeys` that hold no `marker`: an upload that never finished
 * (a crashed host) or one still running. Hidden names excluded.
 */
export function unpublishedFolders(relativeKeys: readonly string[], marker: string): string[] {
  const published = new Set(publishedFolders(relativeKeys, marker));
  const all = new Set<string>();
  for (const key of relativeKeys) {
    const parts = key.split('/');
    if (parts.length < 2 || parts[0] === '' || parts[0]!.startsWith('.')) continue;
    all.add(parts[0]!);
  }
  return [...all].filter((f) => !published.has(f)).sort();
}

/** An `s3://bucket/key` reference: what activity results carry for an artifact in S3, never a host path. */
export interface S3Ref {
  bucket: string;
  key: string;
}

export function formatS3Ref(ref: S3Ref): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

export function parseS3Ref(text: string): S3Ref | undefined {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(text);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export const MiB = 1024 * 1024;
/** S3's limits: parts of 5 MiB to 5 GiB except the last, at most 10 000 of them. */
const MIN_PART = 5 * MiB;
const MAX_PARTS = 10_000;

/**
 * The parts a multipart upload of `size` bytes is cut into: `partBytes` each (raised so the
 * object fits in 10 000 parts), the last one shorter. Empty below `thresholdBytes`: one PUT.
 */
export function multipartPlan(size: number, thresholdBytes: number, partBytes: number): { start: number; end: number }[] {
  if (size < thresholdBytes || size === 0) return [];
  const part = Math.max(MIN_PART, partBytes, Math.ceil(size / MAX_PARTS));
  const parts: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += part) parts.push({ start, end: Math.min(size, start + part) - 1 });
  return parts;
}
