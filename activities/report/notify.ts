/**
 * Alerts: what a finished drill raises (failed, recovered, RTO or RPO missed) goes to the
 * source's destinations from the configuration file and to the worker's RESTORE_DRILL_WEBHOOK_URL,
 * and to the worker log. Each delivery is tried a few times here (adapters/alert-webhooks.ts) and
 * never fails the activity: what was and was not delivered is written into the drill's report.
 * The previous outcome of each source is kept in the artifact store (`<source>/last-outcome.json`).
 */
import { log } from '@temporalio/activity';
import type { AlertDelivery, DrillAlert } from '../../domain/report/alerts';
import { drillAlerts } from '../../domain/report/drill-alerts';
import type { DrillReport } from '../../domain/report/report';
import { postAlert } from '../../adapters/alert-webhooks';
import type { AlertEndpoint, DeliveryPolicy } from '../../adapters/alert-webhooks';
import { writeReport } from '../../adapters/report-files';
import { resolveSecret } from '../../adapters/secrets';
import type { AlertRoute } from '../../config/load';
import type { ActivityDeps } from '../deps';
import { artifactStoreOf } from '../../adapters/artifact-store';
import { StoreKeys } from '../../domain/artifacts/store-layout';
/** How RESTORE_DRILL_WEBHOOK_URL appears in delivery records. */
export const ENV_WEBHOOK_DESTINATION = 'RESTORE_DRILL_WEBHOOK_URL';

export function notifyActivities(deps: ActivityDeps) {
  return {
    /** The deliveries made, also written into the report. Never throws for a receiver that is down. */
    async notifyDrillOutcome(req: { report: DrillReport; runId?: string }): Promise<AlertDelivery[]> {
      const { report } = req;
      const store = await artifactStoreOf(deps.paths);
      const stateKey = StoreKeys.lastOutcome(report.source);
      const previous = await store
        .read(stateKey)
        .then((t) => (t === undefined ? undefined : (JSON.parse(t.toString('utf8')) as { outcome?: DrillReport['outcome'] }).outcome))
        .catch(() => undefined);
      const url = `${deps.uiBaseUrl ?? 'workflow'}/${encodeURIComponent(report.drillId)}${req.runId ? `/${req.runId}` : ''}`;
      const deliveries = await deliverAlerts(deps, drillAlerts(report, previous, url));
      if (deliveries.length > 0) await writeReport(deps.paths, { ...report, alerts: deliveries });
      await store.write(stateKey, JSON.stringify({ outcome: report.outcome, drillId: report.drillId, at: report.finishedAt }) + '\n');
      return deliveries;
    },
  };
}

/** The activity's logger (drill id and source attached); outside an activity (a test calling an activity function directly), stderr. */
function warn(message: string, meta: Record<string, unknown>): void {
  try {
    log.warn(message, meta);
  } catch {
    console.warn(message);
  }
}

/** Logs each alert and delivers it to every destination that wants its kind; a failed delivery is logged and recorded, never thrown. */
export async function deliverAlerts(deps: ActivityDeps, alerts: readonly DrillAlert[], policy?: DeliveryPolicy): Promise<AlertDelivery[]> {
  const deliveries: AlertDelivery[] = [];
  for (const alert of alerts) {
    warn(`restore-drill alert: ${alert.message}`, { alert });
    const routes = (deps.alertRoutes?.[alert.source] ?? []).filter((r) => r.events.includes(alert.kind));
    if (deps.alertWebhookRef) routes.push({ name: ENV_WEBHOOK_DESTINATION, type: 'webhook', urlRef: deps.alertWebhookRef, events: [alert.kind] });
    for (const route of routes) {
      const delivery = await deliverTo(route, alert, policy);
      if (!delivery.delivered) warn(`alert ${alert.kind} of ${alert.source} not delivered to ${route.name} after ${delivery.attempts} attempt(s): ${delivery.error}`, { delivery });
      deliveries.push(delivery);
    }
  }
  return deliveries;
}

async function deliverTo(route: AlertRoute, alert: DrillAlert, policy: DeliveryPolicy | undefined): Promise<AlertDelivery> {
  let endpoint: AlertEndpoint;
  try {
    const url = (await resolveSecret(route.urlRef, `alert destination ${route.name} (urlRef)`))!;
    const secret = await resolveSecret(route.secretRef, `alert destination ${route.name} (secretRef)`);
    endpoint = { name: route.name, type: route.type, url, ...(secret !== undefined ? { secret } : {}) };
  } catch (err) {
    return { destination: route.name, type: route.type, kind: alert.kind, delivered: false, attempts: 0, error: (err as Error).message };
  }
  return postAlert(endpoint, alert, policy);
}
