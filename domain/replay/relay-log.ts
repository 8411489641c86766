/**
 * Replay through the server's own applier: the archived binlog files are handed to the
 * sandbox as relay logs and its SQL thread applies them, much faster than piping mysqlbinlog
 * into a client (README, benchmarks). Pure: the layout, the statements and the reading of the
 * applier's status are decided here; activities/replay/applier.ts runs them.
 */
import { DrillError, DrillErrorTypes } from '../errors';
import { CONTAINER_DATADIR } from '../flavors';
import type { BinlogCoordinates, Flavor } from '../types';

/** The sandbox's relay log basename (`--relay-log`, domain/flavors.ts): fixed, so names never depend on the container's host name. */
export const SANDBOX_RELAY_LOG = 'relay-bin';
/**
 * Marks the applier channel as restore-drill's relay-log replay. Never resolved: the IO
 * thread is never started and the sandbox has no network (an `.invalid` name cannot resolve, RFC 2606).
 */
export const RELAY_REPLAY_HOST = 'relay-replay.invalid';

export interface RelayLink {
  /** Archived binlog file name (mounted read-only in the sandbox). */
  binlog: string;
  /** Relay log name it is linked as in the sandbox datadir. */
  relay: string;
}

export interface RelayPoint {
  relayFile: string;
  position: number;
  /**
   * The source binlog file this relay log is (the same bytes). MariaDB is told it as the
   * master's file: the relay logs have no Rotate event naming it, and its parallel applier
   * compares that name with every group's (a null name crashed it, docs/performance.md).
   */
  binlogFile?: string;
}

export interface RelayReplayLayout {
  links: RelayLink[];
  /** One run of the applier per replay segment (skipped transactions fall between runs). */
  runs: { start: RelayPoint; until: RelayPoint }[];
}

function relayName(index: number): string {
  return `${SANDBOX_RELAY_LOG}.${String(index).padStart(6, '0')}`;
}

/**
 * Relay logs numbered 1..n in replay order, so the server's own next file (n+1) sorts after
 * them. Links keep bytes, so a binlog position is the same relay log position.
 */
export function relayReplayLayout(files: readonly string[], segments: readonly { from: BinlogCoordinates; to: BinlogCoordinates }[]): RelayReplayLayout {
  if (files.length === 0 || segments.length === 0) throw new DrillError(DrillErrorTypes.BadTarget, 'a relay-log replay needs at least one binlog file and one segment');
  const links = files.map((binlog, i) => ({ binlog, relay: relayName(i + 1) }));
  const at = (c: BinlogCoordinates, what: string): RelayPoint => {
    const link = links.find((l) => l.binlog === c.file);
    if (!link) throw new DrillError(DrillErrorTypes.BadTarget, `the replay ${what} ${c.file}:${c.position} is not in the planned files ${files.join(', ')}`);
    return { relayFile: link.relay, position: c.position, binlogFile: c.file };
  };
  return { links, runs: segments.map((seg) => ({ start: at(seg.from, 'start'), until: at(seg.to, 'stop') })) };
}

/** Shell script run in the sandbox: symlinks the read-only archive files into the datadir as relay logs and writes their index. */
export function relayLinkScript(layout: RelayReplayLayout, binlogDir: string): string {
  const dir = CONTAINER_DATADIR;
  const lines = ['set -eu', `cd ${dir}`, `rm -f ${SANDBOX_RELAY_LOG}.[0-9]* ${SANDBOX_RELAY_LOG}.index`];
  // Symlinks, not copies: the SQL thread only reads relay logs; purging one unlinks the link.
  for (const l of layout.links) lines.push(`ln -s '${binlogDir}/${l.binlog}' '${l.relay}'`);
  lines.push(`printf '%s\\n' ${layout.links.map((l) => `'./${l.relay}'`).join(' ')} > ${SANDBOX_RELAY_LOG}.index`);
  return lines.join('\n');
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface ApplierStatements {
  /** Stops and forgets an earlier channel; errors are tolerated (there may be none). */
  reset: string[];
  /** Points the applier at a run's start: the first run also names the (never contacted) source. */
  position(run: RelayPoint, first: boolean): string[];
  start(until: RelayPoint): string;
  stop: string;
  status: string;
  /**
   * A wait in the server until the transaction `gtid` is applied, at most
   * APPLIER_WAIT_SECONDS; undefined where the applier's status is only polled. Its result
   * (`waited`) is -1 when it timed out.
   */
  waitForGtid(gtid: string): string | undefined;
}

/** The longest server-side wait for the applier before its status is read again. */
export const APPLIER_WAIT_SECONDS = 0.5;

/**
 * `workers`: applier worker threads (domain/replay/parallel-apply.ts); 0 is one SQL thread.
 * MariaDB: no GTID positioning (the relay position is the start); with workers, optimistic
 * parallel replication, which commits in relay-log order. Every CHANGE MASTER also names the
 * source binlog file and position the relay point is: these relay logs are a source's binlog
 * files, with no Rotate event from a master to name it, and the parallel applier crashes
 * (signal 11 in compare_log_name) when the name is missing. MySQL: the multi-threaded applier scheduling by the source's logical
 * clock (its writeset dependencies), commits in relay-log order (replica_preserve_commit_order),
 * so the applier never stops with a gap; SOURCE_AUTO_POSITION stays off; transactions keep
 * their GTIDs, so gtid_executed ends where the source's did.
 * relay_log_purge off: a later run may start in a file an earlier run finished.
 * UNTIL RELAY_LOG_POS stops at a transaction boundary once the applied position reaches it;
 * with workers, the coordinator stops handing out work there and waits for the workers.
 */
export function applierStatements(flavor: Flavor, workers = 0): ApplierStatements {
  const point = (p: RelayPoint) => `RELAY_LOG_FILE=${q(p.relayFile)}, RELAY_LOG_POS=${p.position}`;
  if (flavor === 'mariadb') {
    const master = (p: RelayPoint) => (p.binlogFile ? `MASTER_LOG_FILE=${q(p.binlogFile)}, MASTER_LOG_POS=${p.position}, ` : '');
    return {
      reset: ['STOP SLAVE', 'RESET SLAVE ALL'],
      position: (run, first) =>
        first
          ? [
              `SET GLOBAL slave_parallel_threads = ${workers}`,
              ...(workers > 0 ? ["SET GLOBAL slave_parallel_mode = 'optimistic'"] : []),
              'SET GLOBAL relay_log_purge = 0',
              `CHANGE MASTER TO MASTER_HOST=${q(RELAY_REPLAY_HOST)}, MASTER_USE_GTID=no, ${master(run)}${point(run)}`,
            ]
          : [`CHANGE MASTER TO ${master(run)}${point(run)}`],
      start: (until) => `START SLAVE SQL_THREAD UNTIL ${point(until)}`,
      stop: 'STOP SLAVE SQL_THREAD',
      status: 'SHOW SLAVE STATUS',
      // The SQL thread records every GTID it applies in gtid_slave_pos, MASTER_USE_GTID or
      // not, and wakes a waiter only once its GTID is reached (MASTER_POS_WAIT is woken by
      // every transaction applied: in the one bench run with it, the applier was slower).
      // https://mariadb.com/kb/en/master_gtid_wait/
      waitForGtid: (gtid) => (/^\d+-\d+-\d+$/.test(gtid) ? `SELECT MASTER_GTID_WAIT(${q(gtid)}, ${APPLIER_WAIT_SECONDS}) AS waited` : undefined),
    };
  }
  return {
    reset: ['STOP REPLICA', 'RESET REPLICA ALL'],
    position: (run, first) =>
      first
        ? [
            `SET GLOBAL replica_parallel_workers = ${workers}`,
            ...(workers > 0 ? ['SET GLOBAL replica_preserve_commit_order = ON'] : []),
            'SET GLOBAL relay_log_purge = 0',
            `CHANGE REPLICATION SOURCE TO SOURCE_HOST=${q(RELAY_REPLAY_HOST)}, SOURCE_AUTO_POSITION=0, ${point(run)}`,
          ]
        : [`CHANGE REPLICATION SOURCE TO ${point(run)}`],
    start: (until) => `START REPLICA SQL_THREAD UNTIL ${point(until)}`,
    stop: 'STOP REPLICA SQL_THREAD',
    status: 'SHOW REPLICA STATUS',
    waitForGtid: () => undefined,
  };
}

/** The fields of SHOW SLAVE/REPLICA STATUS the replay reads, under either flavor's names. */
export interface ApplierStatus {
  host: string;
  sqlRunning: boolean;
  relayFile: string;
  relayPosition: number;
  sqlErrno: number;
  sqlError: string;
}

export function readApplierStatus(row: Record<string, unknown> | undefined): ApplierStatus | undefined {
  if (!row) return undefined;
  const pick = (...names: string[]) => names.map((n) => row[n]).find((v) => v !== undefined && v !== null);
  return {
    host: String(pick('Master_Host', 'Source_Host') ?? ''),
    sqlRunning: String(pick('Slave_SQL_Running', 'Replica_SQL_Running') ?? 'No') === 'Yes',
    relayFile: String(pick('Relay_Log_File') ?? ''),
    relayPosition: Number(pick('Relay_Log_Pos') ?? 0),
    sqlErrno: Number(pick('Last_SQL_Errno') ?? 0),
    sqlError: String(pick('Last_SQL_Error') ?? ''),
  };
}

export type ApplierProgress =
  | { state: 'applying'; relayFile: string; position: number }
  | { state: 'reached' }
  | { state: 'failed'; errno: number; message: string }
  /** Stopped short of the stop without an error: someone stopped it, or it never started. */
  | { state: 'stopped'; relayFile: string; position: number };

function relayIndex(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}

/**
 * Where the applier stands against the stop. Reached: its applied position is at or past
 * the stop in the stop's file, or it moved on to a later relay log. The latter is how a stop
 * at the very end of the last file shows: MariaDB tests UNTIL before the next event, and
 * there is none, so the thread waits in the server's own empty relay log.
 */
export function applierProgress(status: ApplierStatus, until: RelayPoint): ApplierProgress {
  if (status.sqlErrno !== 0) return { state: 'failed', errno: status.sqlErrno, message: status.sqlError };
  const at = relayIndex(status.relayFile);
  const untilIndex = relayIndex(until.relayFile);
  if (at > untilIndex || (at === untilIndex && status.relayPosition >= until.position)) return { state: 'reached' };
  return status.sqlRunning ? { state: 'applying', relayFile: status.relayFile, position: status.relayPosition } : { state: 'stopped', relayFile: status.relayFile, position: status.relayPosition };
}
