/** Vocabulary shared by workflows, activities and the CLI. Plain data only: it crosses Temporal. */

export type Flavor = 'mysql' | 'mariadb';

/** A position in a source's binary log: the byte offset just after an event, in a named file. */
export interface BinlogCoordinates {
  file: string;
  position: number;
}

/**
 * A recovery point: where a backup starts, or where a replay stopped.
 * `gtidSet` is MySQL's `uuid:1-n,...` or MariaDB's `domain-server-seq,...` as the server prints it.
 */
export interface RecoveryPoint {
  coordinates: BinlogCoordinates;
  gtidSet?: string;
  /** ISO-8601 UTC commit time of the last transaction included, when known. */
  lastCommitTime?: string;
}

export interface ServerIdentity {
  flavor: Flavor;
  /** `SELECT VERSION()`, e.g. `10.11.11-MariaDB-0+deb12u1` or `9.7.4`. */
  version: string;
  serverId?: number;
  serverUuid?: string;
}
