/**
 * After a worker restart the metrics start from what the last run left on disk: each source's
 * newest report and newest passing one (report files), and its archive status (how far the
 * archive is complete, the recoverable window). Without this a restart would read as "no
 * drill ever passed" and fire the alerts.
 */
import { readdir } from 'node:fs/promises';
import { lastReports } from '../../domain/metrics/recorder';
import { readArchiveStatus } from '../archive-status';
import type { EnginePaths } from '../local-layout';
import { readReports } from '../report-files';
import type { PrometheusDrillMetrics } from './prometheus';

/** Returns the sources seeded. */
export async function seedMetrics(metrics: PrometheusDrillMetrics, paths: EnginePaths): Promise<string[]> {
  const entries = await readdir(paths.artifactRoot, { withFileTypes: true }).catch(() => []);
  const seeded: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const { last, lastPassed } = lastReports(await readReports(paths, e.name, Number.MAX_SAFE_INTEGER));
    if (last) metrics.seedReports(last, lastPassed);
    const status = await readArchiveStatus(paths, e.name);
    if (status.lag) metrics.archiveCaughtUp(e.name, status.lag);
    if (status.window) metrics.archiveWindow(e.name, status.window);
    if (last || status.lag || status.window) seeded.push(e.name);
  }
  return seeded;
}
