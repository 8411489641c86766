/**
 * What the engine keeps per source on disk: published backups (backups/<id>/manifest.json)
 * and the binlog archive with its index (binlogs/index.json: sha256, size and GTID state
 * per file). Reading and atomic writing only; decisions live in domain/recovery/.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { sortBinlogNames } from '../../domain/binlog/files';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { StoreKeys, publishedFolders } from '../../domain/artifacts/store-layout';
import { artifactStoreOf, storeRef } from '../../adapters/artifact-store';
import type { ArchiveIndex, ArchivedFileEntry } from '../../domain/recovery/archive-index';
import type { BackupCandidate } from '../../domain/recovery/base-backup';
import type { Flavor } from '../../domain/types';
import type { EnginePaths } from '../deps';
import { binlogArchiveDir } from '../../adapters/local-layout';

export const ARCHIVE_INDEX_FILE = 'index.json';

/** Every published backup of a source in the store (folders with a manifest; .partial-* ones are unpublished). */
export async function listPublishedBackups(paths: EnginePaths, source: string): Promise<BackupCandidate[]> {
  const out: BackupCandidate[] = [];
  for (const m of await readPublishedManifests(paths, source)) {
    // A team's backup without coordinates cannot start a roll-forward: not a PITR candidate.
    if ('problem' in m || m.coordinates === undefined) continue;
    const c: BackupCandidate = { manifestPath: m.manifestPath, backupId: m.backupId, createdAt: m.createdAt, finishedAt: m.finishedAt, coordinates: m.coordinates };
    if (m.gtidSet !== undefined) c.gtidSet = m.gtidSet;
    out.push(c);
  }
  return out;
}

export type StoredManifest = BackupManifest & { folder: string; manifestPath: string };

/**
 * The manifests of a source's published backups, with their folder and reference; a folder
 * whose manifest is unreadable or names another source is a message instead (`folder: problem`).
 */
export async function readPublishedManifests(paths: EnginePaths, source: string): Promise<(StoredManifest | { folder: string; problem: string })[]> {
  const store = await artifactStoreOf(paths);
  const prefix = StoreKeys.backups(source);
  const keys = (await store.list(prefix)).map((o) => o.key.slice(prefix.length));
  const out: (StoredManifest | { folder: string; problem: string })[] = [];
  for (const folder of publishedFolders(keys, MANIFEST_FILE)) {
    const key = `${prefix}${folder}/${MANIFEST_FILE}`;
    const text = await store.read(key);
    if (text === undefined) continue; // removed since it was listed
    try {
      const m = parseManifest(text.toString('utf8'), store.ref(key));
      if (m.source !== source) out.push({ folder, problem: `its manifest names source ${JSON.stringify(m.source)}: move it to that source's folder or remove it by hand` });
      else out.push({ ...m, folder, manifestPath: store.ref(key) });
    } catch (err) {
      out.push({ folder, problem: (err as Error).message });
    }
  }
  return out;
}

/** Names of the binlog files present in an archive folder, in binlog order. */
export async function archivedNames(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return sortBinlogNames(names.filter((n) => !n.startsWith('.') && /\.\d+$/.test(n)));
}

const archiveIndexKey = (source: string) => `${StoreKeys.binlogs(source)}${ARCHIVE_INDEX_FILE}`;

export async function readArchiveIndex(paths: EnginePaths, source: string): Promise<ArchiveIndex> {
  const store = await artifactStoreOf(paths);
  const where = store.ref(archiveIndexKey(source));
  const text = await store.read(archiveIndexKey(source));
  if (text === undefined) return { format: 1, source, files: [] };
  try {
    const parsed = JSON.parse(text.toString('utf8')) as ArchiveIndex;
    if (parsed.format !== 1 || !Array.isArray(parsed.files)) throw new Error('unknown format');
    return parsed;
  } catch (err) {
    throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `binlog archive index ${where} is unreadable (${(err as Error).message}); move it aside so the next archiving run rebuilds it`, { cause: err });
  }
}

/**
 * Merges entries into the index (re-read just before writing, so a concurrent archiving
 * run's entries survive) and publishes it whole. In S3 the entries' files (from this host's
 * copy of the archive) are uploaded first, so the index never names an object not yet there.
 */
export async function updateArchiveIndex(paths: EnginePaths, source: string, flavor: Flavor, entries: readonly ArchivedFileEntry[]): Promise<ArchiveIndex> {
  const dir = binlogArchiveDir(paths, source);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const store = await artifactStoreOf(paths);
  if (store.kind !== 'local') for (const e of entries) await store.putFile(`${StoreKeys.binlogs(source)}${e.file}`, path.join(dir, e.file));
  const current = await readArchiveIndex(paths, source);
  const byFile = new Map(current.files.map((f) => [f.file, f]));
  for (const e of entries) {
    const old = byFile.get(e.file);
    if (old === undefined || e.bytes >= old.bytes) byFile.set(e.file, e);
  }
  const index: ArchiveIndex = { format: 1, source, flavor, files: sortBinlogNames([...byFile.keys()]).map((n) => byFile.get(n)!) };
  await writeArchiveIndex(paths, source, index);
  return index;
}

/**
 * Drops the entries of files retention removes (re-read just before writing, so entries an
 * archiving run added meanwhile survive) and publishes the index whole.
 */
export async function dropFromArchiveIndex(paths: EnginePaths, source: string, remove: (file: string) => boolean): Promise<ArchiveIndex> {
  const current = await readArchiveIndex(paths, source);
  const index: ArchiveIndex = { ...current, files: current.files.filter((f) => !remove(f.file)) };
  await writeArchiveIndex(paths, source, index);
  return index;
}

/** Written whole (a local file under a temporary name, renamed): a reader sees the old index or the new one. */
async function writeArchiveIndex(paths: EnginePaths, source: string, index: ArchiveIndex): Promise<void> {
  await (await artifactStoreOf(paths)).write(archiveIndexKey(source), JSON.stringify(index, null, 2) + '\n');
}

/** The binlog files the store's archive of a source holds, in binlog order. */
export async function storedArchiveNames(paths: EnginePaths, source: string): Promise<string[]> {
  const prefix = StoreKeys.binlogs(source);
  const names = (await (await artifactStoreOf(paths)).list(prefix)).map((o) => o.key.slice(prefix.length));
  return sortBinlogNames(names.filter((n) => !n.includes('/') && !n.startsWith('.') && /\.\d+$/.test(n)));
}

/** What plans and sandboxes are given for a source's archive: its folder (local store) or its prefix in S3. */
export function archiveRef(paths: EnginePaths, source: string): string {
  return storeRef(paths, StoreKeys.binlogs(source)).replace(/\/$/, '');
}

/**
 * This host's copy of a source's archive, complete as the store's index lists it: with S3, the
 * files it lacks (or holds shorter) are downloaded, each checked against the index's size and
 * sha256. The local store's folder is the archive itself. Returns the folder.
 */
export async function pullArchive(paths: EnginePaths, source: string): Promise<string> {
  const dir = binlogArchiveDir(paths, source);
  const store = await artifactStoreOf(paths);
  if (store.kind === 'local') return dir;
  const index = await readArchiveIndex(paths, source);
  for (const entry of index.files) {
    const local = path.join(dir, entry.file);
    const size = await stat(local).then((st) => st.size, () => -1);
    if (size >= entry.bytes) continue;
    const key = `${StoreKeys.binlogs(source)}${entry.file}`;
    const got = await store.getFile(key, local);
    if (got.bytes !== entry.bytes || got.sha256 !== entry.sha256) {
      await rm(local, { force: true });
      throw new DrillError(DrillErrorTypes.ArtifactCorrupt, `archived binlog ${store.ref(key)} has ${got.bytes} bytes with sha256 ${got.sha256} but the archive's index says ${entry.bytes} bytes with sha256 ${entry.sha256}: it changed after archiving`, { details: { file: entry.file } });
    }
  }
  return dir;
}

/** The local folder of the archive `ref` names (archiveRef), pulled from S3 when it is there. */
export async function localArchiveDir(paths: EnginePaths, ref: string): Promise<string> {
  const store = await artifactStoreOf(paths);
  const key = store.kind === 'local' ? undefined : store.keyOf(ref);
  if (key === undefined) return ref;
  return pullArchive(paths, key.split('/')[0]!);
}
