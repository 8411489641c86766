/**
 * A source's archive status beside its artifacts (`<artifactRoot>/<source>/archive-status.json`):
 * how far the binlog archive is known complete (written after each successful archiving run) and
 * its recoverable window as last described. Read back when the worker starts, so the lag and
 * window metrics survive a restart. Written under a temporary name and renamed.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WindowStatus } from '../domain/metrics/recorder';
import type { ArchiveLagState } from '../domain/recovery/rpo';
import type { EnginePaths } from './local-layout';
import { sourceArtifactDir } from './local-layout';

export const ARCHIVE_STATUS_FILE = 'archive-status.json';


export interface ArchiveStatus {
  lag?: ArchiveLagState;
  window?: WindowStatus;
  /** The archive's gaps already alerted (their descriptions): each gap alerts once. */
  alertedGaps?: string[];
}

function statusFile(paths: EnginePaths, source: string): string {
  return path.join(sourceArtifactDir(paths, source), ARCHIVE_STATUS_FILE);
}

/** Empty when there is none yet or it is unreadable: the next run writes it again. */
export async function readArchiveStatus(paths: EnginePaths, source: string): Promise<ArchiveStatus> {
  const text = await readFile(statusFile(paths, source), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as ArchiveStatus;
  } catch {
    return {};
  }
}

/** Replaces the given parts, keeps the others. */
export async function updateArchiveStatus(paths: EnginePaths, source: string, update: ArchiveStatus): Promise<ArchiveStatus> {
  const file = statusFile(paths, source);
  const next = { ...(await readArchiveStatus(paths, source)), ...update };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o750 });
  // Per-process temporary name: two activities of one source may write at once.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o640 });
  await rename(tmp, file);
  return next;
}
