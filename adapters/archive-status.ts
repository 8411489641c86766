/**
 * A source's archive status in the artifact store (`<source>/archive-status.json`):
 * how far the binlog archive is known complete (written after each successful archiving run) and
 * its recoverable window as last described. Read back when the worker starts, so the lag and
 * window metrics survive a restart. Written whole at once (a local file under a temporary name, renamed).
 */
import type { WindowStatus } from '../domain/metrics/recorder';
import type { ArchiveLagState } from '../domain/recovery/rpo';
import { StoreKeys } from '../domain/artifacts/store-layout';
import { artifactStoreOf } from './artifact-store';
import type { EnginePaths } from './local-layout';

export interface ArchiveStatus {
  lag?: ArchiveLagState;
  window?: WindowStatus;
  /** The archive's gaps already alerted (their descriptions): each gap alerts once. */
  alertedGaps?: string[];
}

/** Empty when there is none yet or it is unreadable: the next run writes it again. */
export async function readArchiveStatus(paths: EnginePaths, source: string): Promise<ArchiveStatus> {
  const text = await (await artifactStoreOf(paths)).read(StoreKeys.archiveStatus(source)).catch(() => undefined);
  if (text === undefined) return {};
  try {
    return JSON.parse(text.toString('utf8')) as ArchiveStatus;
  } catch {
    return {};
  }
}

/** Replaces the given parts, keeps the others. */
export async function updateArchiveStatus(paths: EnginePaths, source: string, update: ArchiveStatus): Promise<ArchiveStatus> {
  const next = { ...(await readArchiveStatus(paths, source)), ...update };
  await (await artifactStoreOf(paths)).write(StoreKeys.archiveStatus(source), JSON.stringify(next, null, 2) + '\n');
  return next;
}
