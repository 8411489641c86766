/**
 * Every failure restore-drill knows about, with a stable `type` and a retry decision.
 *
 * Pure module: no Temporal import. Activities translate a DrillError into an
 * ApplicationFailure once, at their boundary (activities/failures.ts), and workflows and
 * tests match on `type`, never on `instanceof` (the workflow sandbox and jest's module
 * registry break `instanceof` across realms).
 */

export const DrillErrorTypes = {
  /** Configuration or input that can never work as given. */
  BadConfig: 'BadConfig',
  /** A PITR target that the archive cannot reach or that makes no sense. */
  BadTarget: 'BadTarget',
  /** An artifact whose bytes are not what its manifest says, or are unreadable. */
  ArtifactCorrupt: 'ArtifactCorrupt',
  /** A logical dump without its completion trailer: the dumper died part-way. */
  DumpTruncated: 'DumpTruncated',
  /** A gap in the archived binlog sequence between a backup and its target. */
  BinlogGap: 'BinlogGap',
  /** Source, backup and sandbox flavors or versions that cannot be combined. */
  VersionMismatch: 'VersionMismatch',
  /** A restore aimed at a server the engine did not create and label as a sandbox. */
  UnsafeTarget: 'UnsafeTarget',
  /** A client tool (dump, restore, replay) exited non-zero. Permanent: its input is bad. */
  ToolFailed: 'ToolFailed',
  /** A consistency check failed: the restored data is not what the source had. */
  CheckFailed: 'CheckFailed',
  /** An image is missing and cannot be pulled. */
  ImageMissing: 'ImageMissing',
  /** Transient: a server still starting, a Docker hiccup, a dropped connection. */
  Transient: 'Transient',
  /** A sandbox that did not answer a query before its deadline. */
  SandboxNotReady: 'SandboxNotReady',
  /** Another drill of the same source is running: drills of one source never overlap. */
  SourceBusy: 'SourceBusy',
  /** The artifact file system ran out of space while writing: nothing was published. */
  DiskFull: 'DiskFull',
  /** The binlog archive holds another history than the source's (re-created source, RESET MASTER). */
  ArchiveDiverged: 'ArchiveDiverged',
  /** A team's backup whose content is none of the formats restore-drill can restore. */
  UnknownBackupFormat: 'UnknownBackupFormat',
  /** Transient: a backup file that changed while it was read, still being written. */
  ArtifactInFlight: 'ArtifactInFlight',
  /** A backup empty, or much smaller than the last good one of the same source. */
  BackupTooSmall: 'BackupTooSmall',
  /** A backup recognised but not restorable with the tools at hand (e.g. Percona XtraBackup). */
  UnsupportedBackupFormat: 'UnsupportedBackupFormat',
  /** A view, routine, trigger or event of the source (or the dump) is missing in the restored sandbox. */
  ObjectMissing: 'ObjectMissing',
  /** A restored view, routine, trigger or event has another definer or definition than the source's. */
  ObjectDiffers: 'ObjectDiffers',
  /** A restored object's DEFINER does not exist there: every use fails with ERROR 1449. */
  DefinerMissing: 'DefinerMissing',
  /** A restored view cannot be selected from (a table or column it reads is gone). */
  ViewUnusable: 'ViewUnusable',
  /** A table holds other rows than the dump inserted into it while it was loaded. */
  RowsLoadedMismatch: 'RowsLoadedMismatch',
  /** A backup whose connection to the source was lost (KILL, restart, OOM killer): taken again. */
  SourceConnectionLost: 'SourceConnectionLost',
  /** A backup broken by DDL (ALTER, TRUNCATE, DROP) on a table it was copying: taken again. */
  DdlDuringBackup: 'DdlDuringBackup',
  /** A backup that waited too long for a lock another session held: taken again. */
  LockWaitTimeout: 'LockWaitTimeout',
  /** An incremental backup chain with a member missing, out of order or not the one recorded: refused before any prepare. */
  BrokenBackupChain: 'BrokenBackupChain',
  /**
   * The kernel killed the sandbox at its memory limit (Docker's OOMKilled): a resource problem,
   * not a data one. The drill starts it once more with more memory when the host has it.
   */
  SandboxOutOfMemory: 'SandboxOutOfMemory',
} as const;

export type DrillErrorType = (typeof DrillErrorTypes)[keyof typeof DrillErrorTypes];

/**
 * A backup interrupted by what happened on the source meanwhile: the drill takes the backup
 * again under a fresh name (workflows/drill/backup-attempts.ts), a bounded number of times.
 */
export const BACKUP_INTERRUPTION_TYPES: readonly DrillErrorType[] = [DrillErrorTypes.SourceConnectionLost, DrillErrorTypes.DdlDuringBackup, DrillErrorTypes.LockWaitTimeout];

/** Failure kinds that a retry can fix. Everything else fails the activity at once. */
const RETRYABLE: ReadonlySet<DrillErrorType> = new Set<DrillErrorType>([
  DrillErrorTypes.Transient,
  DrillErrorTypes.SandboxNotReady,
  DrillErrorTypes.ArtifactInFlight,
  ...BACKUP_INTERRUPTION_TYPES,
]);

/** Every non-retryable type, for Temporal retry policies (`nonRetryableErrorTypes`). */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = Object.values(DrillErrorTypes).filter(
  (t) => !RETRYABLE.has(t),
);

export function isRetryableType(type: string): boolean {
  return RETRYABLE.has(type as DrillErrorType);
}

export interface DrillErrorOptions {
  /** Facts a DBA needs to act: file names, positions, table names. Never secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class DrillError extends Error {
  readonly type: DrillErrorType;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(type: DrillErrorType, message: string, options: DrillErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `DrillError[${type}]`;
    this.type = type;
    this.retryable = RETRYABLE.has(type);
    this.details = options.details ?? {};
  }
}

export function isDrillError(err: unknown): err is DrillError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { type?: unknown }).type === 'string' &&
    typeof (err as { retryable?: unknown }).retryable === 'boolean' &&
    err instanceof Error
  );
}
