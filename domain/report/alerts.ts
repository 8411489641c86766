/**
 * When a drill raises an alert, and what the alert says. Pure: the notify activity keeps the
 * per-source history and delivers; this decides and shapes the message.
 */
import { reportFailure } from './build';
import type { DrillReport } from './report';

/** A failed drill always alerts; a pass alerts once, as the recovery after failures; a missed RPO objective alerts (domain/report/rpo-alert.ts). */
export type AlertKind = 'failed' | 'recovered' | 'rpo-missed';

export function alertKind(outcome: DrillReport['outcome'], previousOutcome: DrillReport['outcome'] | undefined): AlertKind | undefined {
  if (outcome === 'failed') return 'failed';
  if (previousOutcome === 'failed') return 'recovered';
  return undefined;
}

export interface DrillAlert {
  kind: AlertKind;
  drillId: string;
  source: string;
  /** Absent on an archive's RPO alert (no drill). */
  outcome?: DrillReport['outcome'];
  /** The failure kind, e.g. ArtifactCorrupt; absent on a recovery. */
  failureType?: string;
  message: string;
  /** The run in the Temporal UI. */
  url: string;
  finishedAt: string;
}

export function drillAlert(report: DrillReport, kind: AlertKind, url: string): DrillAlert {
  const failed = report.checks.filter((c) => !c.passed).length;
  const message =
    kind === 'recovered'
      ? `drill of ${report.source} passed again after failing: ${report.checks.length} checks passed, RTO ${report.rtoSeconds.toFixed(1)} s`
      : `drill of ${report.source} failed: ${report.failure?.message ?? `${failed} of ${report.checks.length} checks failed`}`;
  return {
    kind,
    drillId: report.drillId,
    source: report.source,
    outcome: report.outcome,
    // A failed check may name its own failure type (DefinerMissing, ViewUnusable…): the same as the workflow's failure.
    failureType: kind === 'failed' ? (reportFailure(report)?.type ?? 'CheckFailed') : undefined,
    message,
    url,
    finishedAt: report.finishedAt,
  };
}
