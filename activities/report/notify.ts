/**
 * Alerts: a failed drill, the first pass after failures of the same source, and a drill that
 * missed its RPO objective are POSTed as JSON to the worker's webhook (a secret reference) and
 * written to the worker log. The previous outcome of each source is kept in its artifact folder.
 */
import { log } from '@temporalio/activity';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { alertKind, drillAlert } from '../../domain/report/alerts';
import type { DrillAlert } from '../../domain/report/alerts';
import { drillRpoAlert } from '../../domain/report/rpo-alert';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import type { DrillReport } from '../../domain/report/report';
import { resolveSecret } from '../../adapters/secrets';
import type { ActivityDeps } from '../deps';
import { sourceArtifactDir } from '../../adapters/local-layout';

const LAST_OUTCOME_FILE = 'last-outcome.json';

export function notifyActivities(deps: ActivityDeps) {
  return {
    /** Returns the alert sent, if any. Delivery failures are Transient: the activity retries them. */
    async notifyDrillOutcome(req: { report: DrillReport; runId?: string }): Promise<DrillAlert | undefined> {
      const { report } = req;
      const stateFile = path.join(sourceArtifactDir(deps.paths, report.source), LAST_OUTCOME_FILE);
      const previous = await readFile(stateFile, 'utf8')
        .then((t) => (JSON.parse(t) as { outcome?: DrillReport['outcome'] }).outcome)
        .catch(() => undefined);
      const kind = alertKind(report.outcome, previous);
      const url = `${deps.uiBaseUrl ?? 'workflow'}/${encodeURIComponent(report.drillId)}${req.runId ? `/${req.runId}` : ''}`;
      const alert = kind ? drillAlert(report, kind, url) : undefined;
      const rpo = drillRpoAlert(report, url);
      for (const a of [alert, rpo]) if (a) await deliverAlert(deps, a);
      // Written after delivery: a retry after a failed POST still sees the old outcome and alerts again.
      await mkdir(path.dirname(stateFile), { recursive: true });
      await writeFile(`${stateFile}.tmp`, JSON.stringify({ outcome: report.outcome, drillId: report.drillId, at: report.finishedAt }) + '\n');
      await rename(`${stateFile}.tmp`, stateFile);
      return alert ?? rpo;
    },
  };
}

/** Logs the alert and POSTs it to the worker's webhook, if one is configured. Delivery failures are Transient: the activity retries them. */
export async function deliverAlert(deps: ActivityDeps, alert: DrillAlert): Promise<void> {
  log.warn(`restore-drill alert: ${alert.message}`, { alert });
  const webhook = await resolveSecret(deps.alertWebhookRef, 'alert webhook');
  if (!webhook) return;
  const response = await fetch(webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alert), signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
    throw new DrillError(DrillErrorTypes.Transient, `alert webhook ${new URL(webhook).origin} did not answer: ${err.message}`, { cause: err });
  });
  if (!response.ok) throw new DrillError(DrillErrorTypes.Transient, `alert webhook ${new URL(webhook).origin} answered ${response.status}`);
}
