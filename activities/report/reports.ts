/** Publishing a drill's report beside the source's backups (adapters/report-files.ts), pruning old ones. */
import { pruneReports, writeReport } from '../../adapters/report-files';
import type { PublishedReport } from '../../adapters/report-files';
import type { DrillReport } from '../../domain/report/report';
import type { ActivityDeps } from '../deps';

export type { PublishedReport };

export function reportActivities(deps: ActivityDeps) {
  return {
    /** Writes report.json and report.md beside the source's backups; idempotent. */
    async publishReport(req: { report: DrillReport; keepReports?: number }): Promise<PublishedReport> {
      const published = await writeReport(deps.paths, req.report);
      if (req.keepReports !== undefined) await pruneReports(deps.paths, req.report.source, req.keepReports);
      deps.metrics?.drillReported(req.report);
      return published;
    },
  };
}
