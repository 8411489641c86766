/**
 * How far a long phase (backup, verify, restore, replay) is: what its activity heartbeats carry,
 * and the rate and time left a reader derives from successive heartbeats.
 *
 * Pure module.
 */

/** Carried as `work` in a long activity's heartbeat details. */
export interface WorkProgress {
  bytesDone: number;
  /** Absent when nothing tells the size ahead (a client-side replay). */
  bytesTotal?: number;
  /** The total is an estimate (a backup's: the source's table sizes), not the artifact's exact size. */
  estimated?: boolean;
  rowsDone?: number;
  rowsTotal?: number;
  /** When this attempt's work started (ISO-8601): the origin of the average rate. */
  startedAt: string;
}

/** The part of a long phase's heartbeat details a reader follows: which phase, and its work. */
export interface WorkHeartbeat {
  phase: string;
  work: WorkProgress;
}

/** One phase's work as a reader sees it: the heartbeat's numbers and what follows from them. */
export interface WorkEstimate extends WorkProgress {
  phase: string;
  /** Bytes per second; undefined until there is something to measure. */
  bytesPerSecond?: number;
  /** 0..1, when the total is known. */
  fraction?: number;
  /** Seconds left at the current rate, when the total is known and the rate is above 0. */
  etaSeconds?: number;
}

export function workProgress(startedAtMs: number, bytesDone: number, more: Omit<WorkProgress, 'bytesDone' | 'startedAt'> = {}): WorkProgress {
  const defined = Object.fromEntries(Object.entries(more).filter(([, v]) => v !== undefined)) as Omit<WorkProgress, 'bytesDone' | 'startedAt'>;
  return { bytesDone, ...defined, startedAt: new Date(startedAtMs).toISOString() };
}

/** The `work` of a heartbeat's details, when they carry one (details from older workers do not). */
export function workOf(details: unknown): WorkHeartbeat | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const d = details as { phase?: unknown; work?: Partial<WorkProgress> };
  const w = d.work;
  if (typeof d.phase !== 'string' || !w || typeof w.bytesDone !== 'number' || typeof w.startedAt !== 'string') return undefined;
  return { phase: d.phase, work: w as WorkProgress };
}

/** How far back the current rate looks: long enough to smooth chunked progress, short enough to follow a change. */
export const RATE_WINDOW_MS = 30_000;

interface Sample {
  atMs: number;
  bytesDone: number;
}

/**
 * Rate and ETA of one phase from successive readings of its heartbeat. The rate is over the
 * last {@link RATE_WINDOW_MS} of readings; with fewer than two readings (or none that moved)
 * it is the average since the work started.
 */
export class WorkRate {
  private samples: Sample[] = [];
  private startedAt: string | undefined;

  /** Adds a reading taken at `atMs` and returns the estimate at that time. */
  update(phase: string, work: WorkProgress, atMs: number): WorkEstimate {
    // A new attempt (a retried activity starts again from 0) forgets the old readings.
    if (work.startedAt !== this.startedAt || (this.samples.at(-1)?.bytesDone ?? 0) > work.bytesDone) this.samples = [];
    this.startedAt = work.startedAt;
    this.samples.push({ atMs, bytesDone: work.bytesDone });
    while (this.samples.length > 2 && this.samples[1]!.atMs <= atMs - RATE_WINDOW_MS) this.samples.shift();
    return estimateWork(phase, work, atMs, this.samples);
  }
}

/** The estimate of one reading, with the earlier readings of the same attempt (oldest first) when there are any. */
export function estimateWork(phase: string, work: WorkProgress, atMs: number, samples: readonly Sample[] = []): WorkEstimate {
  const first = samples[0];
  const windowRate = first && atMs > first.atMs && work.bytesDone > first.bytesDone ? ((work.bytesDone - first.bytesDone) * 1000) / (atMs - first.atMs) : undefined;
  const elapsedMs = atMs - Date.parse(work.startedAt);
  const averageRate = elapsedMs > 0 && work.bytesDone > 0 ? (work.bytesDone * 1000) / elapsedMs : undefined;
  const bytesPerSecond = windowRate ?? averageRate;
  const total = work.bytesTotal;
  const fraction = total !== undefined && total > 0 ? Math.min(1, work.bytesDone / total) : undefined;
  const etaSeconds = total !== undefined && bytesPerSecond ? Math.max(0, total - work.bytesDone) / bytesPerSecond : undefined;
  return { phase, ...work, ...(bytesPerSecond !== undefined ? { bytesPerSecond } : {}), ...(fraction !== undefined ? { fraction } : {}), ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
}

/** What a restore reading a stored dump knows as it goes. */
export interface RestoreReading {
  /** Plain bytes of the dump run in the sandbox so far. */
  loadedBytes: number;
  storedBytesRead: number;
  plainBytesRead: number;
  readToEnd: boolean;
  rows: number;
}

/**
 * A restore's work in plain bytes: done is what ran in the sandbox; the total is the plain bytes
 * read once the whole dump is read, and before that the stored size scaled by the compression
 * ratio read so far (an estimate).
 */
export function restoreWork(startedAtMs: number, r: RestoreReading, storedTotal: number | undefined): WorkProgress {
  const rows = { rowsDone: r.rows };
  if (r.readToEnd) return workProgress(startedAtMs, r.loadedBytes, { bytesTotal: Math.max(r.plainBytesRead, r.loadedBytes), ...rows });
  if (storedTotal === undefined || r.storedBytesRead === 0) return workProgress(startedAtMs, r.loadedBytes, rows);
  return workProgress(startedAtMs, r.loadedBytes, { bytesTotal: Math.round((r.plainBytesRead * storedTotal) / r.storedBytesRead), estimated: true, ...rows });
}

/** A backup's total, estimated from the source's table sizes (information_schema): the dump's plain size is known only at its end. */
export function backupTotal(sourceDataBytes: number | undefined): Pick<WorkProgress, 'bytesTotal' | 'estimated'> {
  return sourceDataBytes !== undefined && sourceDataBytes > 0 ? { bytesTotal: sourceDataBytes, estimated: true } : {};
}

/** A binlog coordinate as a byte offset into the planned files read one after another. */
function offsetIn(files: readonly { name: string; bytes: number }[], file: string, position: number): number | undefined {
  let before = 0;
  for (const f of files) {
    if (f.name === file) return before + position;
    before += f.bytes;
  }
  return undefined;
}

/**
 * A replay's bytes: from the backup's coordinates to the stop, through the planned files (with
 * their sizes), and how far `at` (the applier's position, as a binlog coordinate) is along them.
 */
export function replayBytes(files: readonly { name: string; bytes: number }[], start: { file: string; position: number }, stop: { file: string; position: number }, at: { file: string; position: number } | 'reached' | undefined): { bytesDone: number; bytesTotal?: number } {
  const from = offsetIn(files, start.file, start.position);
  const to = offsetIn(files, stop.file, stop.position);
  const total = from !== undefined && to !== undefined ? Math.max(0, to - from) : undefined;
  if (at === 'reached') return total === undefined ? { bytesDone: 0 } : { bytesDone: total, bytesTotal: total };
  const here = at ? offsetIn(files, at.file, at.position) : undefined;
  const done = from !== undefined && here !== undefined ? Math.max(0, here - from) : 0;
  return total === undefined ? { bytesDone: done } : { bytesDone: Math.min(done, total), bytesTotal: total };
}
