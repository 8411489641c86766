/** Every alert one finished drill raises, in the order they are delivered. Pure. */
import { alertKind, drillAlert, drillRtoAlert } from './alerts';
import type { DrillAlert } from './alerts';
import type { DrillReport } from './report';
import { drillRpoAlert } from './rpo-alert';

export function drillAlerts(report: DrillReport, previousOutcome: DrillReport['outcome'] | undefined, url: string): DrillAlert[] {
  const kind = alertKind(report.outcome, previousOutcome);
  return [kind ? drillAlert(report, kind, url) : undefined, drillRtoAlert(report, url), drillRpoAlert(report, url)].filter((a): a is DrillAlert => a !== undefined);
}
