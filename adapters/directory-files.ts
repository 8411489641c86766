/**
 * Helpers shared by the directory door checks (backup-directory.ts, physical-directory.ts) and
 * the copy of a directory backup: listings as the domain compares them, bounded parallel reads,
 * and the sha256 and observation that name a directory.
 */
import { createHash } from 'node:crypto';
import { directoryDigestText } from '../domain/backups/directory';
import type { ListedFile } from '../domain/backups/directory';
import type { StoredObject } from './object-store';

export const toListed = (files: readonly StoredObject[]): ListedFile[] => files.map((f) => ({ key: f.key, size: f.size, modifiedMs: f.modified.getTime(), etag: f.etag }));

/** Runs `work` on every item, `parallel` at a time, in order of start; the first failure stops the rest. */
export async function eachLimited<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (!failed && next < items.length) {
        const i = next++;
        try {
          out[i] = await work(items[i]!);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
  return out;
}

/** The sha256 naming a directory: over `path sha256` lines of its files (domain/backups/directory.ts). */
export function directorySha256(members: readonly { path: string; sha256: string }[]): string {
  return createHash('sha256').update(directoryDigestText(members)).digest('hex');
}

/** A directory as one observation: total size, newest file, and a digest of its listing as the etag. */
export function observation(files: readonly StoredObject[]): { size: number; mtimeMs: number; etag: string } {
  const listing = createHash('sha256');
  for (const f of toListed(files)) listing.update(`${f.key}\0${f.size}\0${f.modifiedMs}\0${f.etag}\n`);
  return { size: files.reduce((n, f) => n + f.size, 0), mtimeMs: Math.max(0, ...files.map((f) => f.modified.getTime())), etag: listing.digest('hex').slice(0, 32) };
}
