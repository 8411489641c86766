/**
 * Posts one alert to one destination: a Slack-compatible incoming webhook, or a generic JSON
 * webhook signed with HMAC-SHA256 (headers in domain/report/alert-payloads.ts). A few attempts
 * with a doubling pause; the answer is a record of what happened, never an exception: an alert
 * that cannot be delivered must not fail what raised it. The URL and the secret stay in here:
 * the record names the destination, never its address.
 */
import { createHmac } from 'node:crypto';
import type { AlertDelivery, DrillAlert } from '../domain/report/alerts';
import {
  ALERT_DELIVERY_HEADER,
  ALERT_EVENT_HEADER,
  ALERT_SIGNATURE_HEADER,
  ALERT_TIMESTAMP_HEADER,
  alertDeliveryId,
  signedContent,
  slackPayload,
  webhookBody,
} from '../domain/report/alert-payloads';

export interface AlertEndpoint {
  name: string;
  type: 'slack' | 'webhook';
  url: string;
  /** The HMAC key of a signed webhook; absent: unsigned (the legacy RESTORE_DRILL_WEBHOOK_URL). */
  secret?: string;
}

export interface DeliveryPolicy {
  attempts: number;
  /** Pause before the second attempt, doubling after each. */
  firstDelayMs: number;
  /** Per attempt. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { attempts: 3, firstDelayMs: 1000, timeoutMs: 10_000 };

/** `sha256=<hex>` over `<timestamp>.<body>`. */
export function signAlertBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(signedContent(timestamp, body)).digest('hex')}`;
}

/** The request for one attempt; a signed one carries the time it was signed. */
export function alertRequest(endpoint: AlertEndpoint, alert: DrillAlert, now: Date = new Date()): { body: string; headers: Record<string, string> } {
  const body = endpoint.type === 'slack' ? JSON.stringify(slackPayload(alert)) : webhookBody(alert);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'restore-drill' };
  if (endpoint.type === 'webhook') {
    headers[ALERT_EVENT_HEADER] = alert.kind;
    headers[ALERT_DELIVERY_HEADER] = alertDeliveryId(alert);
    if (endpoint.secret !== undefined) {
      const timestamp = String(Math.floor(now.getTime() / 1000));
      headers[ALERT_TIMESTAMP_HEADER] = timestamp;
      headers[ALERT_SIGNATURE_HEADER] = signAlertBody(endpoint.secret, timestamp, body);
    }
  }
  return { body, headers };
}

/** A receiver's 4xx other than 408/429 will not change on a retry (a revoked Slack hook answers 404 or 410). */
function worthRetrying(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Network errors name the address (`connect ECONNREFUSED 127.0.0.1:9`), never the URL's path, where Slack keeps its token. */
function describeError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  return e.cause?.message ?? e.cause?.code ?? e.message;
}

export async function postAlert(endpoint: AlertEndpoint, alert: DrillAlert, policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY): Promise<AlertDelivery> {
  const record: AlertDelivery = { destination: endpoint.name, type: endpoint.type, kind: alert.kind, delivered: false, attempts: 0 };
  let origin: string;
  try {
    origin = new URL(endpoint.url).origin;
  } catch {
    return { ...record, error: 'the configured URL is not a URL' };
  }
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, policy.firstDelayMs * 2 ** (attempt - 2)));
    record.attempts = attempt;
    const { body, headers } = alertRequest(endpoint, alert);
    try {
      const response = await fetch(endpoint.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(policy.timeoutMs) });
      await response.arrayBuffer().catch(() => undefined);
      record.status = response.status;
      if (response.ok) {
        delete record.error;
        return { ...record, delivered: true };
      }
      record.error = `${origin} answered ${response.status}`;
      if (!worthRetrying(response.status)) break;
    } catch (err) {
      delete record.status;
      record.error = `${origin}: ${describeError(err)}`;
    }
  }
  return record;
}
