/**
 * Door-check decisions for a backup that is a directory of files (mydumper, mariabackup): is
 * it the same directory after it was read, and the text whose sha256 names it in a manifest.
 * Pure: listings in, errors or text out.
 */
import { DrillError, DrillErrorTypes } from '../errors';

/** One file of a directory as a listing shows it (key relative to the location). */
export interface ListedFile {
  key: string;
  size: number;
  modifiedMs: number;
  etag: string;
}

/**
 * ArtifactInFlight (retryable) when a directory's listing changed while it was read: a file
 * added, removed, grown, rewritten. A dumper still writing it is retried later, never called corrupt.
 */
export function checkDirectoryUnchanged(name: string, before: readonly ListedFile[], after: readonly ListedFile[]): void {
  const was = new Map(before.map((f) => [f.key, f]));
  const now = new Map(after.map((f) => [f.key, f]));
  const changes: string[] = [];
  for (const [key, f] of now) {
    const old = was.get(key);
    if (!old) changes.push(`${key} appeared`);
    else if (old.size !== f.size) changes.push(`${key} size ${old.size} -> ${f.size}`);
    else if (old.modifiedMs !== f.modifiedMs || old.etag !== f.etag) changes.push(`${key} was rewritten`);
  }
  for (const key of was.keys()) if (!now.has(key)) changes.push(`${key} disappeared`);
  if (changes.length === 0) return;
  throw new DrillError(
    DrillErrorTypes.ArtifactInFlight,
    `directory ${name} changed while it was read (${changes.slice(0, 5).join('; ')}${changes.length > 5 ? `; ${changes.length - 5} more` : ''}): a backup still being written; retried later, not called corrupt`,
    { details: { name, changes: changes.slice(0, 20) } },
  );
}

/**
 * What a directory's sha256 is taken over: one line per file, sorted by path relative to the
 * directory, `<path> <sha256 of its bytes>`. Renaming, adding or changing any file changes it.
 */
export function directoryDigestText(files: readonly { path: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path} ${f.sha256}\n`)
    .join('');
}

/** A file's path inside directory `dirKey` (`name/`) of a location. */
export const pathInDirectory = (dirKey: string, key: string): string => (key.startsWith(dirKey) ? key.slice(dirKey.length) : key);

/** How long a mydumper directory with `metadata.partial` may sit unchanged before it is called dead, not running. */
export const MYDUMPER_STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * mydumper renames `metadata.partial` to `metadata` when it finishes. With only the former, the
 * dump is still running (ArtifactInFlight, retried later) unless nothing in the directory changed
 * for `staleAfterMs`: then mydumper died part-way (DumpTruncated, take a new backup).
 */
export function checkMydumperNotPartial(name: string, paths: readonly string[], newestModifiedMs: number, nowMs: number, staleAfterMs = MYDUMPER_STALE_AFTER_MS): void {
  const base = paths.map((p) => p.split('/').pop());
  if (base.includes('metadata') || !base.includes('metadata.partial')) return;
  const idleMs = nowMs - newestModifiedMs;
  if (idleMs < staleAfterMs) return; // checkMydumperComplete calls it in flight
  throw new DrillError(
    DrillErrorTypes.DumpTruncated,
    `mydumper directory ${name} has metadata.partial and no metadata, and nothing in it changed for ${Math.round(idleMs / 60_000)} min: mydumper died part-way; take a new backup`,
    { details: { name, idleMs } },
  );
}
