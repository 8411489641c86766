/**
 * Where a team's backup starts in the binary log: the replication coordinates its tool wrote
 * down, so a drill can roll it forward, or the reason it cannot. Pure: the caller reads the
 * dump's head and tail, mydumper's `metadata`, or mariabackup's binlog and info files.
 *
 * Formats:
 *   mysqldump / mariadb-dump: domain/dump/format.ts (parseDump reads them; reused here)
 *   mydumper 0.10 metadata: "Started dump at:", "SHOW MASTER STATUS:\n\tLog: f\n\tPos: n\n\tGTID:set",
 *     "SHOW SLAVE STATUS:" (same keys plus Host), "Finished dump at:"; 0.12+ writes an
 *     INI file: "[master]" with "File = ", "Position = ", "Executed_Gtid_Set = ".
 *   mariabackup / XtraBackup: xtrabackup_binlog_info (mariadb_backup_binlog_info in MariaDB 10.11+):
 *     "file<TAB>position[<TAB>gtid]"; xtrabackup_info: "binlog_pos = filename 'f', position 'n', GTID of the last change 's'".
 */
import { parseDump } from '../dump/format';
import { parseMariabackupBinlogPosition } from '../physical/backups';
import type { Flavor, RecoveryPoint } from '../types';

/** Wall-clock times the tool printed, `YYYY-MM-DD HH:MM:SS` in the time zone of the host that ran it. */
export interface BackupTimes {
  startedAt?: string;
  finishedAt?: string;
}

export type BackupCoordinates =
  | {
      found: true;
      point: RecoveryPoint;
      /**
       * `its-source`: the backup was taken on a replica with `--dump-slave` / `--dump-replica`
       * (or mydumper saw only SHOW SLAVE STATUS): the coordinates are in the binlog of the
       * replica's source, not of the server backed up.
       */
      of: 'backed-up-server' | 'its-source';
      times: BackupTimes;
    }
  | { found: false; reason: string; gtidSet?: string; times: BackupTimes };

const NO_COORDINATES = 'cannot be rolled forward: restorable only as it was when it was taken';

/** `-- Dump completed on 2026-12-04  2:30:01` (mysqldump pads the hour with a space). */
export function dumpCompletedAt(tail: string): string | undefined {
  const m = /^-- Dump completed on (\d{4}-\d{2}-\d{2}) +(\d{1,2}):(\d{2}):(\d{2})\s*$/m.exec(tail.replace(/\r/g, ''));
  return m ? `${m[1]} ${m[2]!.padStart(2, '0')}:${m[3]}:${m[4]}` : undefined;
}

/** "Position to start replication or point-in-time recovery from (the master of this slave)" and 8.0.26+'s "(the primary of this replica)". */
const DUMP_REPLICA_COMMENT = /recovery from \(the (?:master|primary|source) of this (?:slave|replica)\)/i;
const STOP_REPLICA = /^STOP (?:ALL )?(?:SLAVES?|REPLICA)\b/m;
/**
 * `--dump-slave --include-master-host-port` puts MASTER_HOST and MASTER_PORT before the file,
 * a form parseDumpHead does not read: `CHANGE MASTER '' TO MASTER_HOST='h', MASTER_PORT=3306, MASTER_LOG_FILE='f', MASTER_LOG_POS=n;`
 */
const CHANGE_WITH_HOST = /^(?:-- )?CHANGE (?:MASTER(?: '[^']*')?|REPLICATION SOURCE) TO [^;]*?(?:MASTER|SOURCE)_LOG_FILE='((?:[^'\\]|\\.)*)',\s*(?:MASTER|SOURCE)_LOG_POS=(\d+)/m;

/**
 * Coordinates of a mysqldump / mariadb-dump file, from its first and last bytes
 * (DUMP_HEAD_BYTES / DUMP_TAIL_BYTES): mariadb-dump 10.11+ writes its GTID position at the end.
 */
export function coordinatesFromDump(head: string, tail = '', flavor: Flavor | 'unknown' = 'unknown'): BackupCoordinates {
  const finishedAt = dumpCompletedAt(tail);
  const times: BackupTimes = finishedAt ? { finishedAt } : {};
  const flavors: Flavor[] = flavor === 'unknown' ? ['mysql', 'mariadb'] : [flavor];
  const parsed = flavors.map((f) => parseDump(head, tail, f));
  const coordinates = parsed.find((p) => p.coordinates)?.coordinates ?? withHost(head);
  const gtidSet = parsed.find((p) => p.gtidSet)?.gtidSet;
  if (!coordinates) {
    return gtidSet
      ? { found: false, gtidSet, times, reason: `the dump records a GTID set but no binlog file and position (taken without --source-data / --master-data): ${NO_COORDINATES}` }
      : { found: false, times, reason: `taken without --source-data / --master-data: ${NO_COORDINATES}` };
  }
  const of = DUMP_REPLICA_COMMENT.test(head) || STOP_REPLICA.test(head) ? 'its-source' : 'backed-up-server';
  return { found: true, of, times, point: { coordinates, ...(gtidSet ? { gtidSet } : {}) } };
}

function withHost(head: string): RecoveryPoint['coordinates'] | undefined {
  const m = CHANGE_WITH_HOST.exec(head.replace(/\r\n/g, '\n'));
  return m ? { file: m[1]!.replace(/\\(.)/g, '$1'), position: Number(m[2]) } : undefined;
}

/** One `SHOW ... STATUS:` block of mydumper 0.10's metadata, or the `[master]` section of 0.12+. */
function metadataSection(text: string, header: RegExp): Map<string, string> | undefined {
  const start = header.exec(text);
  if (!start) return undefined;
  // mydumper ends every section with an empty line.
  const body = text.slice(start.index + start[0].length).split(/\n[ \t]*\n/)[0] ?? '';
  const out = new Map<string, string>();
  let last = '';
  for (const line of body.split('\n')) {
    const kv = /^\s*(?:#\s*)?([A-Za-z_ ]+?)\s*(?::|=)\s*(.*)$/.exec(line);
    if (kv) {
      last = kv[1]!.toLowerCase();
      out.set(last, kv[2]!.trim());
    } else if (last && line.trim()) {
      // MySQL 8 prints a long Executed_Gtid_Set over lines; mydumper 0.10 copies it as is.
      out.set(last, (out.get(last) ?? '') + line.trim());
    }
  }
  return out;
}

function pointFrom(section: Map<string, string>, fileKey: string, posKey: string, gtidKey: string): RecoveryPoint | undefined {
  const file = section.get(fileKey);
  const pos = section.get(posKey);
  if (!file || !pos || !/^\d+$/.test(pos)) return undefined;
  const gtidSet = (section.get(gtidKey) ?? '').replace(/\s+/g, '');
  return { coordinates: { file, position: Number(pos) }, ...(gtidSet ? { gtidSet } : {}) };
}

/** Coordinates recorded in a mydumper `metadata` file. */
export function coordinatesFromMydumperMetadata(metadata: string): BackupCoordinates {
  const text = metadata.replace(/\r\n/g, '\n');
  const time = (label: string): string | undefined => new RegExp(`^#? ?${label} dump at: (\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2})`, 'm').exec(text)?.[1];
  const startedAt = time('Started');
  const finishedAt = time('Finished');
  const times: BackupTimes = { ...(startedAt ? { startedAt } : {}), ...(finishedAt ? { finishedAt } : {}) };

  const master = metadataSection(text, /^SHOW MASTER STATUS:/m);
  const ini = metadataSection(text, /^\[master\]/m);
  const own = (master && pointFrom(master, 'log', 'pos', 'gtid')) ?? (ini && pointFrom(ini, 'file', 'position', 'executed_gtid_set'));
  if (own) return { found: true, of: 'backed-up-server', point: own, times };

  const replica = metadataSection(text, /^SHOW SLAVE STATUS:/m);
  const upstream = replica && pointFrom(replica, 'log', 'pos', 'gtid');
  if (upstream) return { found: true, of: 'its-source', point: upstream, times };
  return { found: false, times, reason: `mydumper found no binary log position (SHOW MASTER STATUS empty: the server ran without log_bin, or it is MySQL 8.4+, where that statement is gone and mydumper 0.10 records nothing): ${NO_COORDINATES}` };
}

/**
 * Coordinates of a mariabackup / XtraBackup backup, from `xtrabackup_binlog_info` (or
 * `mariadb_backup_binlog_info`) and, when that file is missing, the `binlog_pos` line of
 * `xtrabackup_info`. Times come from the info file's start_time and end_time.
 */
export function coordinatesFromPhysical(files: { binlogInfo?: string; info?: string }): BackupCoordinates {
  const info = files.info ?? '';
  const field = (key: string): string | undefined => new RegExp(`^${key}\\s*=\\s*(.*?)\\s*$`, 'm').exec(info)?.[1];
  const startedAt = field('start_time');
  const finishedAt = field('end_time');
  const times: BackupTimes = { ...(startedAt ? { startedAt } : {}), ...(finishedAt ? { finishedAt } : {}) };

  const fields = (files.binlogInfo ?? '').trim().split(/\t/);
  if (fields.length >= 2 && fields[0] && /^\d+$/.test(fields[1]!.trim())) {
    // XtraBackup copies a long gtid_executed with its line breaks.
    const gtidSet = fields.slice(2).join('').replace(/\s+/g, '');
    return { found: true, of: 'backed-up-server', times, point: { coordinates: { file: fields[0].trim(), position: Number(fields[1]) }, ...(gtidSet ? { gtidSet } : {}) } };
  }
  const pos = field('binlog_pos');
  if (pos) {
    try {
      return { found: true, of: 'backed-up-server', times, point: parseMariabackupBinlogPosition(`MySQL binlog position: ${pos}`) };
    } catch {
      // an unreadable binlog_pos is the same as none
    }
  }
  return { found: false, times, reason: `the backup records no binary log position (no xtrabackup_binlog_info: the server ran without log_bin): ${NO_COORDINATES}` };
}
