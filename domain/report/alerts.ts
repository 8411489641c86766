/**
 * When a drill raises an alert, and what the alert says. Pure: the notify activity keeps the
 * per-source history and delivers; this decides and shapes the message.
 */
import { formatAge } from '../recovery/rpo';
import { reportFailure } from './build';
import type { AlertKind } from './alert-kinds';
import type { DrillReport } from './report';

export { ALERT_KINDS } from './alert-kinds';
export type { AlertDelivery, AlertKind } from './alert-kinds';

export function alertKind(outcome: DrillReport['outcome'], previousOutcome: DrillReport['outcome'] | undefined): 'failed' | 'recovered' | undefined {
  if (outcome === 'failed') return 'failed';
  if (previousOutcome === 'failed') return 'recovered';
  return undefined;
}

export interface DrillAlert {
  kind: AlertKind;
  /** The drill, or the archiving run, that raised it. */
  drillId: string;
  source: string;
  /** Absent on an archive's alerts (no drill). */
  outcome?: DrillReport['outcome'];
  /** The failure kind, e.g. ArtifactCorrupt; only on a failed drill. */
  failureType?: string;
  message: string;
  /** The run in the Temporal UI. */
  url: string;
  finishedAt: string;
}

export function drillAlert(report: DrillReport, kind: 'failed' | 'recovered', url: string): DrillAlert {
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

/** A drill that passed but took longer than its RTO target (a failed drill alerts as failed instead). */
export function drillRtoAlert(report: DrillReport, url: string): DrillAlert | undefined {
  if (report.outcome !== 'passed' || !report.rtoMissed || report.rtoTargetSeconds === undefined) return undefined;
  return {
    kind: 'rto-missed',
    drillId: report.drillId,
    source: report.source,
    outcome: report.outcome,
    message: `drill of ${report.source} passed but recovery took ${report.rtoSeconds.toFixed(1)} s (RTO), over the target of ${formatAge(report.rtoTargetSeconds)}: see the report's phases for where the time went`,
    url,
    finishedAt: report.finishedAt,
  };
}
