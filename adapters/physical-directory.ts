/**
 * The door checks of a mariabackup (or XtraBackup) backup directory: its checkpoints file and
 * binlog position, every file read whole (raw: a datadir's files are not compressed streams),
 * the listing unchanged while read, and a sha256 over the files' sha256s that names it.
 */
import { createHash } from 'node:crypto';
import { checkDirectoryUnchanged, pathInDirectory } from '../domain/backups/directory';
import { checkBackupSize } from '../domain/backups/door-checks';
import type { BackupFormat, BackupMember } from '../domain/backups/format';
import { inspectDatadir } from '../domain/physical/team-backup';
import { directorySha256, eachLimited, observation, toListed } from './directory-files';
import type { BackupInspection, LastGoodBackup, ReadProgress } from './backup-reader';
import { describeFormat } from './backup-reader';
import type { ObjectStore, StoredObject } from './object-store';

const READ_PARALLEL = 4;

/** One file of a directory read whole: its sha256 (what the restore's copy is checked against). */
export async function hashStoredFile(store: ObjectStore, key: string, onBytes: (n: number) => void = () => undefined): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await store.openRead(key)) {
    hash.update(chunk as Buffer);
    onBytes((chunk as Buffer).length);
  }
  return hash.digest('hex');
}

export async function inspectPhysicalDirectory(
  store: ObjectStore,
  dirKey: string,
  layout: { files: StoredObject[]; members: BackupMember[]; format: BackupFormat },
  opts: { lastGood?: LastGoodBackup; minSizeRatio?: number; progress?: (p: ReadProgress) => void } = {},
): Promise<BackupInspection> {
  const name = store.where(dirKey);
  const { files, members, format } = layout;
  const total = files.reduce((n, f) => n + f.size, 0);
  checkBackupSize(name, total, opts.lastGood, opts.minSizeRatio);
  const passed = [`${total} bytes in ${files.length} files, not empty`, `format ${describeFormat(format)}`];
  const found = inspectDatadir(name, format, members);
  passed.push(...found.passed);
  let rawBytes = 0;
  let reads: { path: string; sha256: string }[];
  try {
    reads = await eachLimited(files, READ_PARALLEL, async (f) => ({
      path: pathInDirectory(dirKey, f.key),
      sha256: await hashStoredFile(store, f.key, (n) => opts.progress?.({ rawBytes: (rawBytes += n), ofRawBytes: total })),
    }));
  } catch (err) {
    checkDirectoryUnchanged(name, toListed(files), toListed(await store.listFiles(dirKey)));
    throw err;
  }
  checkDirectoryUnchanged(name, toListed(files), toListed(await store.listFiles(dirKey)));
  passed.push(`${files.length} files read whole (${rawBytes} bytes), unchanged while read`);
  return { name, format, rawBytes, plainBytes: rawBytes, sha256: directorySha256(reads), observed: observation(files), coordinates: found.coordinates, passed, physical: found.physical };
}
