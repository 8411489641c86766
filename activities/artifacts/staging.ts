/**
 * A published backup brought onto this host's disk by the activity that needs it. With the
 * local store the reference is already a path here and is used as it is. With S3 the backup's
 * objects are downloaded into the drill's work folder (`staged/<backup id>/`, its chain's
 * other members beside it), and each artifact's size and sha256 are checked against its
 * manifest before anything reads it. A second activity of the same drill on the same host
 * reuses the staged copy; the drill's cleanup removes it with the work folder.
 */
import { Context } from '@temporalio/activity';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { artifactStoreOf } from '../../adapters/artifact-store';
import type { ArtifactStore } from '../../adapters/artifact-store';
import { drillWorkDir } from '../../adapters/local-layout';
import { MANIFEST_FILE, parseManifest } from '../../domain/artifacts/manifest';
import type { BackupManifest } from '../../domain/artifacts/manifest';
import { parseS3Ref } from '../../domain/artifacts/store-layout';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import type { ActivityDeps } from '../deps';

const STAGED_MARKER = '.staged';

export function isStoreRef(ref: string): boolean {
  return parseS3Ref(ref) !== undefined;
}

/** The running activity's workflow id (the drill), else `fallback` (a function called outside an activity). */
export function currentDrillId(fallback: string): string {
  try {
    return Context.current().info.workflowExecution?.workflowId ?? fallback;
  } catch {
    return fallback;
  }
}

function keyIn(store: ArtifactStore, ref: string): string {
  const key = store.keyOf(ref);
  if (key === undefined)
    throw new DrillError(DrillErrorTypes.BadConfig, `${ref} is not in this worker's artifact store (${store.describe()}); give a backup published there, or configure the worker's store to hold it`);
  return key;
}

/** A published backup's manifest read from the store; an unpublished one (no manifest) is refused. */
export async function readStoredManifest(store: ArtifactStore, manifestKey: string): Promise<BackupManifest> {
  const text = await store.read(manifestKey);
  if (text === undefined)
    throw new DrillError(DrillErrorTypes.BadConfig, `backup manifest ${store.ref(manifestKey)} does not exist: the backup was never published (or retention removed it); give a published manifest.json`);
  return parseManifest(text.toString('utf8'), store.ref(manifestKey));
}

/**
 * The local folder of the backup whose folder, manifest or artifact `ref` names: `ref`'s own
 * folder for a path, the staged copy for an S3 reference. `drillId` names the work folder.
 */
export async function stagedBackupDir(deps: ActivityDeps, ref: string, drillId: string, what: 'folder' | 'file'): Promise<string> {
  if (!isStoreRef(ref)) return what === 'folder' ? ref : path.dirname(ref);
  const store = await artifactStoreOf(deps.paths);
  const key = keyIn(store, ref).replace(/\/$/, '');
  const folderKey = what === 'folder' ? key : path.posix.dirname(key);
  const stagedRoot = stagedRootOf(deps, drillId);
  const manifest = await stageFolder(store, `${folderKey}/`, stagedRoot);
  // An increment is prepared through its whole chain: its members are staged beside it.
  for (const member of manifest.chain?.members.slice(0, -1) ?? []) await stageFolder(store, `${path.posix.dirname(folderKey)}/${member.backupId}/`, stagedRoot);
  return path.join(stagedRoot, path.posix.basename(folderKey));
}

/** The local path of the artifact (or manifest) `ref` names. */
export async function stagedFile(deps: ActivityDeps, ref: string, drillId: string): Promise<string> {
  if (!isStoreRef(ref)) return ref;
  return path.join(await stagedBackupDir(deps, ref, drillId, 'file'), path.posix.basename(ref));
}

async function stageFolder(store: ArtifactStore, folderKey: string, stagedRoot: string): Promise<BackupManifest> {
  const dir = path.join(stagedRoot, path.posix.basename(folderKey.replace(/\/$/, '')));
  const manifestKey = `${folderKey}${MANIFEST_FILE}`;
  const marker = await readFile(path.join(dir, STAGED_MARKER), 'utf8').catch(() => undefined);
  if (marker !== undefined) return parseManifest(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'), store.ref(manifestKey));
  const manifest = await readStoredManifest(store, manifestKey);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o750 });
  // A team's backup adopted where it is: only its manifest lives in the store.
  if (!manifest.origin) {
    const fileKey = `${folderKey}${manifest.file}`;
    const got = await store.getFile(fileKey, path.join(dir, manifest.file));
    if (got.bytes !== manifest.bytes || got.sha256 !== manifest.sha256) {
      await rm(dir, { recursive: true, force: true });
      throw new DrillError(
        DrillErrorTypes.ArtifactCorrupt,
        `backup file ${store.ref(fileKey)} has ${got.bytes} bytes with sha256 ${got.sha256} but its manifest says ${manifest.bytes} bytes with sha256 ${manifest.sha256}: it changed after publication`,
        { details: { actual: got.sha256, expected: manifest.sha256, bytes: got.bytes } },
      );
    }
  }
  await writeFile(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o640 });
  await writeFile(path.join(dir, STAGED_MARKER), `${manifest.sha256}\n`, { mode: 0o640 });
  return manifest;
}

function stagedRootOf(deps: ActivityDeps, drillId: string): string {
  return path.join(drillWorkDir(deps.paths, drillId), 'staged');
}

/**
 * The folder a backup was written in on this host, just published to the store, kept as the
 * drill's staged copy: the same host's verify and restore read it instead of downloading it again.
 */
export async function keepAsStaged(deps: ActivityDeps, drillId: string, localDir: string, manifest: BackupManifest): Promise<void> {
  const dir = path.join(stagedRootOf(deps, drillId), manifest.backupId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true, mode: 0o750 });
  await rename(localDir, dir);
  await writeFile(path.join(dir, STAGED_MARKER), `${manifest.sha256}\n`, { mode: 0o640 });
}
