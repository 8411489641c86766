/**
 * A team's own mariabackup backup (an xbstream, a tar of its directory, or the directory): how
 * its archive is walked at the door, where the datadir lies in it, and the script that extracts
 * and prepares a copy of it in a tool container. Pure; activities/physical/team-restore.ts runs it.
 */
import { coordinatesFromPhysical } from '../backups/coordinates';
import type { BackupCoordinates } from '../backups/coordinates';
import type { BackupFormat } from '../backups/format';
import type { Crc32 } from '../binlog/format';
import { SANDBOX_OWNED_SCHEMAS } from '../dump/system-schemas';
import { DrillError, DrillErrorTypes } from '../errors';
import { XbstreamWalker } from './backups';
import { TarWalker } from './tar-walker';
import type { ArchiveMember } from './tar-walker';

export type TeamArchive = 'mbstream' | 'tar' | 'directory';

/** The small files a physical backup's tool writes beside the datadir (and mydumper's metadata): their contents are kept. */
export function isBackupMetadata(path: string): boolean {
  const base = path.split('/').pop() ?? path;
  return /^(?:xtrabackup|mariadb_backup)_(?:checkpoints|info|binlog_info|galera_info|slave_info)$/.test(base) || base === 'backup-my.cnf' || base === 'metadata' || base === 'metadata.partial';
}

export interface ArchiveWalk {
  push(chunk: Uint8Array): void;
  /** Every member, once the whole archive has passed; fails (typed) when it is not complete. */
  end(): ArchiveMember[];
}

/** A streaming walker over a decompressed tar or xbstream: completeness checked, members listed. */
export function archiveWalk(container: 'tar' | 'xbstream', where: string, crc32: Crc32): ArchiveWalk {
  if (container === 'tar') return new TarWalker(where, isBackupMetadata);
  const walker = new XbstreamWalker(where, crc32, isBackupMetadata);
  return {
    push: (chunk) => walker.push(chunk as Buffer),
    end: () => {
      walker.end();
      return walker.members();
    },
  };
}

export interface DatadirLayout {
  /** The folder of the archive that holds the datadir ('' for its top; `./backup` as written in a tar). */
  root: string;
  /** Databases with tables in the copy, the server's own schemas left out. */
  databases: string[];
  checkpoints?: string;
  binlogInfo?: string;
  info?: string;
}

const metadataFile = (members: ArchiveMember[], suffix: string): ArchiveMember | undefined =>
  members.find((m) => m.path.split('/').pop() === `xtrabackup_${suffix}`) ?? members.find((m) => m.path.split('/').pop() === `mariadb_backup_${suffix}`);

const TABLE_FILE = /\.(?:ibd|frm|MYD|MAD|CSV|ARZ)$/;

/** Where the datadir is in an archive's (or a directory's) members, and what it holds. */
export function datadirLayout(members: ArchiveMember[]): DatadirLayout {
  const checkpoints = metadataFile(members, 'checkpoints');
  const anchor = checkpoints ?? metadataFile(members, 'info') ?? members.find((m) => /(?:^|\/)ibdata1$/.test(m.path));
  const slash = anchor ? anchor.path.lastIndexOf('/') : -1;
  const root = slash < 0 ? '' : anchor!.path.slice(0, slash);
  const inRoot = (p: string): string | undefined => (root === '' ? p : p.startsWith(`${root}/`) ? p.slice(root.length + 1) : undefined);
  const databases = new Set<string>();
  for (const m of members) {
    const rel = inRoot(m.path)?.replace(/^(?:\.\/)+/, '');
    const parts = rel?.split('/') ?? [];
    if (parts.length === 2 && TABLE_FILE.test(parts[1]!) && !SANDBOX_OWNED_SCHEMAS.includes(parts[0]!)) databases.add(decodeDirName(parts[0]!));
  }
  const content = (m: ArchiveMember | undefined): string | undefined => m?.content;
  return {
    root,
    databases: [...databases].sort(),
    ...(checkpoints?.content !== undefined ? { checkpoints: checkpoints.content } : {}),
    ...(content(metadataFile(members, 'binlog_info')) !== undefined ? { binlogInfo: content(metadataFile(members, 'binlog_info')) } : {}),
    ...(content(metadataFile(members, 'info')) !== undefined ? { info: content(metadataFile(members, 'info')) } : {}),
  };
}

/** MariaDB encodes non-ASCII database names in folder names as `@xxxx`; `@002d` is `-`. */
function decodeDirName(dir: string): string {
  return dir.replace(/@([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * DumpTruncated when the checkpoints file is missing: mariabackup writes it last, after the
 * copy of the redo log, so a backup without it was cut short (or is not a whole backup).
 */
export function checkCheckpointsPresent(name: string, layout: DatadirLayout): void {
  if (layout.checkpoints !== undefined) return;
  throw new DrillError(
    DrillErrorTypes.DumpTruncated,
    `physical backup ${name} has no xtrabackup_checkpoints (mariadb_backup_checkpoints) file: mariabackup writes it last, so the backup was cut short or is not a whole backup directory; take a new backup`,
    { details: { name } },
  );
}

/** `tar --strip-components` that puts the datadir's files at the top of the target (GNU tar counts a leading `.`). */
export function stripComponents(root: string): number {
  return root === '' ? 0 : root.split('/').filter((s) => s !== '').length;
}

/**
 * Extracts a team's archive from `input` (a FIFO the worker feeds with the decompressed bytes)
 * into `target`, then prepares it (crash recovery of the copied redo) unless its checkpoints say
 * it was prepared already. A directory is copied into `target` by the worker: prepare only.
 */
export function teamPhysicalRestoreScript(opts: { archive: TeamArchive; input: string; target: string; root: string; prepared: boolean; useMemoryMb: number }): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const extract =
    opts.archive === 'mbstream'
      ? [`mbstream -x -C ${q(opts.target)} < ${q(opts.input)}`]
      : opts.archive === 'tar'
        ? [`tar -xf - -C ${q(opts.target)} --no-same-owner --strip-components=${stripComponents(opts.root)} < ${q(opts.input)}`]
        : [];
  const prepare = opts.prepared ? ['echo "already prepared: --prepare skipped" >&2'] : [`mariabackup --prepare --use-memory=${opts.useMemoryMb}M --target-dir=${q(opts.target)}`];
  return ['set -eu -o pipefail', ...extract, ...prepare].join('\n');
}

/** What a physical backup's door checks found: its datadir's place and databases, prepared or not. */
export interface PhysicalInspection {
  root: string;
  databases: string[];
  prepared: boolean;
}

/** The door checks on a physical backup's members, once they have all passed: checkpoints there, then its coordinates. */
export function inspectDatadir(name: string, format: BackupFormat, members: ArchiveMember[]): { physical: PhysicalInspection; coordinates: BackupCoordinates; passed: string[] } {
  const layout = datadirLayout(members);
  checkCheckpointsPresent(name, layout);
  const prepared = format.physical?.prepared ?? false;
  return {
    physical: { root: layout.root, databases: layout.databases, prepared },
    coordinates: coordinatesFromPhysical({ ...(layout.binlogInfo !== undefined ? { binlogInfo: layout.binlogInfo } : {}), ...(layout.info !== undefined ? { info: layout.info } : {}) }),
    passed: [`${members.length} files, checkpoints file there (${format.physical?.backupType ?? 'no backup_type'}${prepared ? ': prepared, --prepare skipped' : ''})`],
  };
}

/** A team's physical backup in its manifest: how it is packed, prepared or not, where its datadir lies. */
export function teamPhysicalFields(format: BackupFormat, physical: PhysicalInspection): { archive: TeamArchive; prepared: boolean; archiveRoot?: string } {
  const archive: TeamArchive = format.container === 'xbstream' ? 'mbstream' : format.container === 'tar' ? 'tar' : 'directory';
  return { archive, prepared: physical.prepared, ...(physical.root ? { archiveRoot: physical.root } : {}) };
}
