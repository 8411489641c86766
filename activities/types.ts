/** Types that several activities, and the workflows that call them, share. */
import type { SourceSpec } from '../config/schema';
import type { ReplayFacts } from '../domain/report/build';
import type { BinlogCoordinates, Flavor, RecoveryPoint, ServerIdentity } from '../domain/types';
import type { BackupManifest } from '../domain/artifacts/manifest';
import type { NonTransactionalTable } from '../domain/backups/non-transactional';
import type { TableState } from '../domain/checks/checksums';
import type { CheckTimings } from '../domain/checks/plan';
import type { CheckResult } from '../domain/checks/results';
import type { ObjectsSummary, StoredObject } from '../domain/checks/objects';
import type { BackupCandidate } from '../domain/recovery/base-backup';
import type { ReplaySegment } from '../domain/recovery/replay-segments';
import type { TransactionSummary } from '../domain/recovery/transactions';

export type { TransactionSummary };

/** One binlog file as archiving copied it. */
export interface ArchivedBinlog {
  file: string;
  bytes: number;
  sha256: string;
}

/** A plan of what to replay; the facts the report needs are its ReplayFacts (domain/report/build.ts). */
export interface ReplayPlan extends ReplayFacts {
  /** The archive as the store names it: its folder (local store) or `s3://bucket/<prefix><source>/binlogs`; the replay's host pulls its own copy (mounted read-only into the sandbox). */
  archiveDir: string;
  /** Every file any segment reads, in order. */
  files: string[];
  /** One binlog-tool run per segment, all into one client session (skips fall between segments). */
  segments: ReplaySegment[];
  start: BinlogCoordinates;
  stop: BinlogCoordinates;
  /** MySQL: the gtid_executed the sandbox must show after the replay. */
  expectedGtidSet?: string;
}

export interface RecoveryPlan {
  /** The published backup the recovery starts from. */
  backup: BackupCandidate;
  plan: ReplayPlan;
}

// Source, backup, sandbox and check types (activities/source, dump, physical, artifacts, sandbox, checks).

/** Who a source is, as inspectSource found it. */
export interface SourceFacts {
  identity: ServerIdentity;
  image: string;
  databases: string[];
  binlogFormat: string;
  gtidMode: string;
  /** InnoDB's estimate of the databases' data and index bytes: what a restore will hold (sizes the sandbox's buffer pool). */
  dataBytes?: number;
  /** Tables of `databases` in engines without transactions: a dump is not consistent for them. */
  nonTransactionalTables?: NonTransactionalTable[];
}

/** The source's state at one consistent snapshot: the reference a restored sandbox must match. */
export interface SourceCheckpoint {
  takenAt: string;
  point: RecoveryPoint;
  tables: TableState[];
  /** The source's VERSION(): CHECKSUM TABLE values compare only between servers of one version. */
  serverVersion?: string;
  /** The source's views, routines, triggers and events at the checkpoint: the sandbox must hold them, the same. */
  objects?: StoredObject[];
}

/** A backup the drill takes of its source; `attempt` (from 1) counts the takes after interruptions. */
export interface BackupRequest {
  drillId: string;
  source: SourceSpec;
  facts: SourceFacts;
  attempt?: number;
  /** A physical backup taken as an increment on the source's newest one (mariabackup), a full one after `maxIncrements`. */
  incremental?: { maxIncrements: number };
}

/** How deep verifyBackup read an artifact: 'full', or 'bytes' (size and sha256 only). */
export type VerifyDepth = 'full' | 'bytes';

/** Paths in a local store; `s3://bucket/key` references in S3, staged on the host that reads them (activities/artifacts/staging.ts). */
export interface PublishedBackup {
  manifestPath: string;
  /** The folder holding dump and manifest (mounted read-only into the sandbox). */
  backupDir: string;
  dumpPath: string;
  manifest: BackupManifest;
}

/** A published backup and how deep verifyBackup checked it ('full' for a physical one, whatever was asked). */
export interface VerifiedBackup extends PublishedBackup {
  verified: VerifyDepth;
}

export interface SandboxHandle {
  name: string;
  containerId: string;
  flavor: Flavor;
  /** Host path of the server socket. */
  socketPath: string;
  /** The worker host that runs it (its task queue reaches it), when sandboxes are placed. */
  host?: string;
  image: string;
  expiresAt: string;
  /** Milliseconds from container start (or adoption) to the first answered query. */
  readyMs: number;
  adopted: boolean;
  /**
   * Set when an existing sandbox could not be started again and was replaced by a new one: why.
   * A Docker daemon restarted while it started a container can leave containerd state behind
   * ("failed to start shim: ... file exists"), and that container never starts again.
   */
  replaced?: string;
  /** Its memory limit (MiB), CPU limit (cores, absent: none) and InnoDB buffer pool (MiB). Absent in histories recorded before limits. */
  memoryMb?: number;
  cpus?: number;
  bufferPoolMb?: number;
}

export interface PhaseOutcome {
  seconds: number;
}

/** A parallel restore also says where its time went (ParallelRestoreStats). */
export interface RestoreOutcome extends PhaseOutcome {
  schemaSeconds?: number;
  dataSeconds?: number;
  indexesSeconds?: number;
  postSeconds?: number;
  /** Rows loaded through LOAD DATA; of them, rows whose VALUES lists the server read as dumped (no conversion). */
  rows?: number;
  unchangedRows?: number;
  bytes?: number;
  /** System schemas of a team's --all-databases dump left out of the restore. */
  skippedSchemas?: string[];
  /** Rows the dump inserted per table (`db.table`), counted while loading (the parallel and mydumper loaders). */
  rowsLoaded?: Record<string, number>;
  /** The views, routines, triggers and events the dump creates (the parallel loader). */
  declaredObjects?: StoredObject[];
  /** What the loader had to work around in the backup (a mydumper 0.10 bug on MySQL 9), for operators. */
  notes?: string[];
}

export interface VerifyResult {
  checks: CheckResult[];
  /** Where the replay stopped; absent for a backup restored as it was taken (no plan). */
  reached?: RecoveryPoint;
  /** Where the checks' time went (the per-table items overlap: their seconds are session time). */
  timings: CheckTimings;
  /** The views, routines, triggers and events checked, and the definers created for them. */
  objects?: ObjectsSummary;
}
