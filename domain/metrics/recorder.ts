/**
 * What the worker's metrics record (the port activities call; adapters/metrics implements it
 * with prom-client), and the pure choices behind the values: which report is a source's last,
 * which its last pass.
 *
 * Pure module.
 */
import type { ArchiveLagState } from '../recovery/rpo';
import type { RecoverableWindow } from '../recovery/window';
import type { DrillReport } from '../report/report';

/** A source's objectives from the configuration file, exported so alert rules can compare with them. */
export interface SourceObjectives {
  source: string;
  rtoTargetSeconds?: number;
  rpoTargetSeconds?: number;
}

/** The recoverable window in numbers: ISO-8601 times, and how many gaps the archive has. */
export interface WindowStatus {
  /** When the oldest backup the archive can roll forward was taken. */
  startAt?: string;
  /** Commit time of the last archived transaction. */
  endAt?: string;
  gaps: number;
}

export function windowStatus(window: RecoverableWindow): WindowStatus {
  return { ...(window.from ? { startAt: window.from.createdAt } : {}), ...(window.to ? { endAt: window.to.commitTime } : {}), gaps: window.gaps.length };
}

/** What the janitor removed: leftover containers and folders, old backups, binlogs and reports. */
export type JanitorRemovalKind = 'containers' | 'folders' | 'backups' | 'binlogs' | 'reports';

export interface DrillMetricsRecorder {
  /** A drill's report was published (any outcome). */
  drillReported(report: DrillReport): void;
  /** An archiving run succeeded: how far the archive is known complete. */
  archiveCaughtUp(source: string, state: ArchiveLagState): void;
  /** The recoverable window as the archiver last described it. */
  archiveWindow(source: string, window: WindowStatus): void;
  janitorRemoved(source: string, kind: JanitorRemovalKind, count: number): void;
}

/** The newest report and the newest passing one, of one source's reports (any order). */
export function lastReports(reports: readonly DrillReport[]): { last?: DrillReport; lastPassed?: DrillReport } {
  const byFinish = [...reports].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  return { last: byFinish[0], lastPassed: byFinish.find((r) => r.outcome === 'passed') };
}

/** Seconds since the epoch, as Prometheus timestamps are; undefined for a missing or unreadable time. */
export function epochSeconds(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
