/**
 * Alerts for a missed RPO objective: a drill whose recovery lost more than rpoTarget allows,
 * and a binlog archive that fell further behind its source than that. Pure: the notify
 * activity delivers them like any other alert.
 */
import { archiveRpoMissMessage, formatAge } from '../recovery/rpo';
import type { ArchiveLagState } from '../recovery/rpo';
import type { DrillAlert } from './alerts';
import type { DrillReport } from './report';

export function drillRpoAlert(report: DrillReport, url: string): DrillAlert | undefined {
  if (!report.rpoMissed || report.rpoSeconds === undefined || report.rpoTargetSeconds === undefined) return undefined;
  return {
    kind: 'rpo-missed',
    drillId: report.drillId,
    source: report.source,
    outcome: report.outcome,
    message: `drill of ${report.source} recovered to ${report.target} losing ${formatAge(report.rpoSeconds)} of writes, over the RPO objective of ${formatAge(report.rpoTargetSeconds)}: the binlog archive does not reach far enough; see the report's recoverable window`,
    url,
    finishedAt: report.finishedAt,
  };
}

/** `runId`: the archiving run (a workflow id) that measured the lag. */
export function archiveRpoAlert(source: string, state: ArchiveLagState, runId: string, url: string, at: string): DrillAlert | undefined {
  const message = archiveRpoMissMessage(source, state);
  if (message === undefined) return undefined;
  return { kind: 'rpo-missed', drillId: runId, source, message, url, finishedAt: at };
}
