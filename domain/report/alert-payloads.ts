/**
 * What an alert looks like on the wire. Slack (and Mattermost, Rocket.Chat: any
 * Slack-compatible incoming webhook) gets `text` plus Block Kit `blocks`; a generic webhook gets
 * the alert itself as JSON, signed by the delivery adapter (adapters/alert-webhooks.ts) over
 * `<timestamp>.<body>` so a receiver can check who sent it and when. Pure.
 * Receiver's side: docs/operations.md, "Alerts".
 */
import type { AlertKind, DrillAlert } from './alerts';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the shared secret>` */
export const ALERT_SIGNATURE_HEADER = 'x-restore-drill-signature';
/** Unix seconds when the request was signed; receivers refuse old ones (replays). */
export const ALERT_TIMESTAMP_HEADER = 'x-restore-drill-timestamp';
/** The alert's kind, e.g. `failed`. */
export const ALERT_EVENT_HEADER = 'x-restore-drill-event';
/** `<drill id>:<kind>`: the same on every retry of one alert, so a receiver can drop duplicates. */
export const ALERT_DELIVERY_HEADER = 'x-restore-drill-delivery';

const TITLES: Record<AlertKind, string> = {
  failed: 'Restore drill FAILED',
  recovered: 'Restore drill passing again',
  'rto-missed': 'Restore drill over its RTO target',
  'rpo-missed': 'RPO objective missed',
  'archive-gap': 'Gap in the binlog archive',
};

export function alertTitle(alert: DrillAlert): string {
  return `${TITLES[alert.kind]}: ${alert.source}`;
}

export function alertDeliveryId(alert: DrillAlert): string {
  return `${alert.drillId}:${alert.kind}`;
}

/** The generic webhook's body: the alert as JSON (the same body RESTORE_DRILL_WEBHOOK_URL has always received). */
export function webhookBody(alert: DrillAlert): string {
  return JSON.stringify(alert);
}

/** What the HMAC covers: the timestamp header, a dot, the exact body bytes. */
export function signedContent(timestamp: string, body: string): string {
  return `${timestamp}.${body}`;
}

export interface SlackPayload {
  /** Shown in notifications and by clients without blocks. */
  text: string;
  blocks: Record<string, unknown>[];
}

/** Slack's mrkdwn treats &, < and > as markup: https://api.slack.com/reference/surfaces/formatting#escaping */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function slackPayload(alert: DrillAlert): SlackPayload {
  const title = alertTitle(alert);
  const facts = [
    `*source* ${escapeMrkdwn(alert.source)}`,
    `*${alert.outcome === undefined ? 'run' : 'drill'}* ${escapeMrkdwn(alert.drillId)}`,
    ...(alert.failureType ? [`*failure* ${escapeMrkdwn(alert.failureType)}`] : []),
    `*at* ${alert.finishedAt}`,
  ];
  const link = /^https?:\/\//.test(alert.url) ? [{ type: 'section', text: { type: 'mrkdwn', text: `<${alert.url}|Open the run in Temporal>` } }] : [];
  return {
    text: clip(`${title}. ${alert.message}`, 3000),
    blocks: [
      // Header text: plain_text, at most 150 characters; section text at most 3000.
      { type: 'header', text: { type: 'plain_text', text: clip(title, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(alert.message), 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: facts.join('  ·  ') }] },
      ...link,
    ],
  };
}
