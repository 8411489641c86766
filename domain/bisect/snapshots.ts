/**
 * Snapshots of a stopped sandbox's datadir, kept inside the sandbox container (removed with
 * it). The datadir is only ever still while the server is down: a copy is made by a hook that
 * the container's start script runs once before the server starts (domain/flavors.ts
 * serverCommand). A bisect's sandbox restarts its server in place (the start script stays PID
 * 1 and runs the hook between the server's stop and its next start); an older one, whose
 * server is PID 1, restarts with its container. Pure: the scripts and decisions only.
 */
import { CONTAINER_DATADIR, SANDBOX_EXTRA_OPTIONS, SANDBOX_ON_START_HOOK, restoredBytesEstimate } from '../flavors';
import type { Flavor } from '../types';

export const SANDBOX_SNAPSHOT_DIR = '/var/lib/restore-drill/snapshots';

/** A snapshot's folder in the container: one per bisect point. */
export function snapshotPath(point: number): string {
  if (!Number.isSafeInteger(point) || point < 0) throw new Error(`a snapshot point is a whole number of transactions, got ${point}`);
  return `${SANDBOX_SNAPSHOT_DIR}/p${point}`;
}

/** Marks a complete snapshot: a copy cut by a crash has none and is made again. */
export const SNAPSHOT_COMPLETE = '.restore-drill-snapshot-complete';

/** The hook that copies the stopped datadir into the point's snapshot (a partial copy is made again). */
export function snapshotHook(point: number): string {
  const dir = snapshotPath(point);
  return [
    'set -eu',
    `if [ ! -f ${dir}/${SNAPSHOT_COMPLETE} ]; then`,
    `  rm -rf ${dir} ${dir}.partial`,
    `  mkdir -p ${dir}.partial`,
    // Not ibtmp1: the server makes it again at every start.
    `  find ${CONTAINER_DATADIR} -mindepth 1 -maxdepth 1 ! -name ibtmp1 -exec cp -a -t ${dir}.partial/ {} +`,
    `  touch ${dir}.partial/${SNAPSHOT_COMPLETE}`,
    `  mv ${dir}.partial ${dir}`,
    'fi',
  ].join('\n');
}

/** The hook that puts the point's snapshot back as the datadir (idempotent: a cut copy is redone). */
export function rewindHook(point: number): string {
  const dir = snapshotPath(point);
  return [
    'set -eu',
    `test -f ${dir}/${SNAPSHOT_COMPLETE}`,
    `find ${CONTAINER_DATADIR} -mindepth 1 -maxdepth 1 -exec rm -rf {} +`,
    `cp -a ${dir}/. ${CONTAINER_DATADIR}/`,
    `rm -f ${CONTAINER_DATADIR}/${SNAPSHOT_COMPLETE}`,
  ].join('\n');
}

/** Installs a hook for the next start: written with a rename, so a half-written one never runs. */
export function installHookScript(hook: string): string {
  const dir = SANDBOX_ON_START_HOOK.slice(0, SANDBOX_ON_START_HOOK.lastIndexOf('/'));
  return ['set -eu', `mkdir -p ${dir}`, `cat > ${SANDBOX_ON_START_HOOK}.new <<'RESTORE_DRILL_HOOK'`, hook, 'RESTORE_DRILL_HOOK', `mv ${SANDBOX_ON_START_HOOK}.new ${SANDBOX_ON_START_HOOK}`].join('\n');
}

/** Whether a snapshot is complete, as a shell test run in the container. */
export function snapshotCompleteTest(point: number): string {
  return `test -f ${snapshotPath(point)}/${SNAPSHOT_COMPLETE}`;
}

/**
 * The redo log of a bisect's sandbox: every snapshot and rewind copies it whole, and the 1 GiB
 * a restore wants (domain/flavors.ts) made a copy take seconds. A window's steps are small.
 */
export const BISECT_REDO_LOG_BYTES = 64 * 1024 * 1024;

/**
 * The restored size up to which a bisect's sandbox starts with the small redo log: its restore
 * then writes little redo, and no resize is needed before the first snapshot (MariaDB finishes
 * an online resize only at its next checkpoint, about 1 s). A larger restore loads with the
 * 1 GiB log (a small one would make it wait for checkpoints) and is shrunk once, before the
 * first snapshot.
 */
export const BISECT_SMALL_RESTORE_BYTES = 256 * 1024 * 1024;

/** The redo log (MiB) a bisect's sandbox starts with: the small one for a small restore, else the drill's (undefined). */
export function bisectStartRedoLogMb(restore: { sourceDataBytes?: number; artifactBytes?: number }): number | undefined {
  const bytes = restoredBytesEstimate(restore);
  return bytes <= BISECT_SMALL_RESTORE_BYTES ? BISECT_REDO_LOG_BYTES / (1024 * 1024) : undefined;
}

/** The value of the `restarts` label on a sandbox whose server restarts without its container. */
export const RESTARTS_IN_PLACE = 'in-place';

/** The server variable holding the redo log's size, resizable while the server runs (MariaDB 10.9+, MySQL 8.0.30+). */
export function redoLogVariable(flavor: Flavor): string {
  return flavor === 'mysql' ? 'innodb_redo_log_capacity' : 'innodb_log_file_size';
}

/** Keeps the smaller redo log at every later start (written with a rename). */
export function bisectServerOptionsScript(flavor: Flavor): string {
  const option = `--${redoLogVariable(flavor).replace(/_/g, '-')}=${BISECT_REDO_LOG_BYTES}`;
  return ['set -eu', `mkdir -p ${SANDBOX_EXTRA_OPTIONS.slice(0, SANDBOX_EXTRA_OPTIONS.lastIndexOf('/'))}`, `printf '%s\\n' '${option}' > ${SANDBOX_EXTRA_OPTIONS}.new`, `mv ${SANDBOX_EXTRA_OPTIONS}.new ${SANDBOX_EXTRA_OPTIONS}`].join('\n');
}
