/**
 * What the engine keeps per source on disk: published backups (backups/<id>/manifest.json)
 * and the binlog archive with its index (binlogs/index.json: sha256, size and GTID state
 * per file). Reading and atomic writing only; decisions live in domain/recovery/.
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sortBinlogNames } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { ArchiveIndex, ArchivedFileEntry } from '../../domain/recovery/archive-index';
import type { BackupCandidate } from '../../domain/recovery/base-backup';
import type { Flavor } from '../../domain/types';
import type { EnginePaths } from '../deps';
import { binlogArchiveDir, sourceArtifactDir } from '../../adapters/local-layout';

export const ARCHIVE_INDEX_FILE = 'index.json';

/** Every published backup of a source (folders with a manifest; .partial-* folders are unpublished). */
export async function listPublishedBackups(paths: EnginePaths, source: string): Promise<BackupCandidate[]> {
  const dir = path.join(sourceArtifactDir(paths, source), 'backups');
  const entries = await readdir(dir).catch(() => [] as string[]);
  const out: BackupCandidate[] = [];
  for (const name of entries) {
    if (name.startsWith('.')) continue;
    const manifestPath = path.join(dir, name, MANIFEST_FILE);
    const text = await readFile(manifestPath, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const m = parseManifest(text, manifestPath);
    // A team's backup without coordinates cannot start a roll-forward: not a PITR candidate.
    if (m.source !== source || m.coordinates === undefined) continue;
    const c: BackupCandidate = { manifestPath, backupId: m.backupId, createdAt: m.createdAt, finishedAt: m.finishedAt, coordinates: m.coordinates };
    if (m.gtidSet !== undefined) c.gtidSet = m.gtidSet;
    out.push(c);
  }
  return out;
}

/** Names of the binlog files present in an archive folder, in binlog order. */
export async function archivedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return sortBinlogNames(names.filter((n) => !n.startsWith('.') && /\.\d+$/.test(n)));
}

export async function readArchiveIndex(paths: EnginePaths, source: string): Promise<ArchiveIndex> {
  const file = path.join(binlogArchiveDir(paths, source), ARCHIVE_INDEX_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { format: 1, source, files: [] };
  try {
    const parsed = JSON.parse(text) as ArchiveIndex;
    if (parsed.format !== 1 || !Array.isArray(parsed.files)) throw new Error('unknown format');
    return parsed;
  } catch (err) {
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `binlog archive index ${file} is unreadable (${(err as Error).message}); move it aside so the next archiving run rebuilds it`, { cause: err });
  }
}

/**
 * Merges entries into the index (re-read just before writing, so a concurrent archiving
 * run's entries survive) and publishes it with one rename.
 */
export async function updateArchiveIndex(paths: EnginePaths, source: string, flavor: Flavor, entries: readonly ArchivedFileEntry[]): Promise<ArchiveIndex> {
  const dir = binlogArchiveDir(paths, source);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const current = await readArchiveIndex(paths, source);
  const byFile = new Map(current.files.map((f) => [f.file, f]));
  for (const e of entries) {
    const old = byFile.get(e.file);
    if (old === undefined || e.bytes >= old.bytes) byFile.set(e.file, e);
  }
  const index: ArchiveIndex = { format: 1, source, flavor, files: sortBinlogNames([...byFile.keys()]).map((n) => byFile.get(n)!) };
  await writeArchiveIndex(dir, index);
  return index;
}

/**
 * Drops the entries of files retention removes (re-read just before writing, so entries an
 * archiving run added meanwhile survive) and publishes the index with one rename.
 */
export async function dropFromArchiveIndex(paths: EnginePaths, source: string, remove: (file: string) => boolean): Promise<ArchiveIndex> {
  const current = await readArchiveIndex(paths, source);
  const index: ArchiveIndex = { ...current, files: current.files.filter((f) => !remove(f.file)) };
  await writeArchiveIndex(binlogArchiveDir(paths, source), index);
  return index;
}

/** Temp file + rename: a reader sees the old index or the new one, never half of one. */
async function writeArchiveIndex(dir: string, index: ArchiveIndex): Promise<void> {
  const tmp = path.join(dir, `.${ARCHIVE_INDEX_FILE}.${process.pid}.${Date.now()}`);
  await writeFile(tmp, JSON.stringify(index, null, 2) + '\n', { mode: 0o640 });
  await rename(tmp, path.join(dir, ARCHIVE_INDEX_FILE));
}
