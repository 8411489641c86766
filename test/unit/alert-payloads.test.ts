/** Alerts on the wire: which a drill raises, Slack and signed-webhook payloads, the signature a receiver checks, retries, the configuration. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertRequest, postAlert, signAlertBody } from '../../adapters/alert-webhooks';
import { alertRoutes, parseConfigText } from '../../config/load';
import { slackPayload } from '../../domain/report/alert-payloads';
import type { DrillAlert } from '../../domain/report/alerts';
import { archiveGapAlert } from '../../domain/report/archive-gap-alert';
import { drillAlerts } from '../../domain/report/drill-alerts';
import type { DrillReport } from '../../domain/report/report';

const finishedAt = '2026-11-21T02:14:00.000Z';
const report = (over: Partial<DrillReport>): DrillReport =>
  ({ drillId: 'drill-orders-1', source: 'orders', outcome: 'passed', finishedAt, target: 'checkpoint', rtoSeconds: 95.25, checks: [{ passed: true }], ...over }) as unknown as DrillReport;
const failed = report({ outcome: 'failed', checks: [{ passed: false } as never], failure: { type: 'DumpTruncated', message: 'no <trailer> & no luck' } as never });

/** What a receiver does with the documented headers (docs/operations.md, "Alerts"). */
function verify(secret: string, headers: Record<string, string>, body: string, nowSeconds: number): boolean {
  const timestamp = headers['x-restore-drill-timestamp']!;
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(headers['x-restore-drill-signature']!);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('which alerts a drill raises', () => {
  test('a failed drill raises failed; the first pass after it recovered; a second pass nothing', () => {
    expect(drillAlerts(failed, 'passed', 'u').map((a) => a.kind)).toEqual(['failed']);
    expect(drillAlerts(report({}), 'failed', 'u').map((a) => a.kind)).toEqual(['recovered']);
    expect(drillAlerts(report({}), 'passed', 'u')).toEqual([]);
  });

  test('a pass over its RTO target raises rto-missed with both times; a miss on a failed drill is the failure', () => {
    const slow = report({ rtoMissed: true, rtoTargetSeconds: 60 });
    const [alert] = drillAlerts(slow, 'passed', 'u');
    expect(alert).toMatchObject({ kind: 'rto-missed', drillId: 'drill-orders-1', source: 'orders', outcome: 'passed' });
    expect(alert!.message).toContain('95.3 s (RTO), over the target of 60 s');
    expect(drillAlerts({ ...failed, rtoMissed: true, rtoTargetSeconds: 60 }, 'passed', 'u').map((a) => a.kind)).toEqual(['failed']);
  });

  test('recovered, RTO and RPO missed together are three alerts', () => {
    const r = report({ rtoMissed: true, rtoTargetSeconds: 60, rpoMissed: true, rpoSeconds: 7200, rpoTargetSeconds: 3600 });
    expect(drillAlerts(r, 'failed', 'u').map((a) => a.kind)).toEqual(['recovered', 'rto-missed', 'rpo-missed']);
  });

  test('an archive gap alerts once: only gaps not alerted before, named in the message', () => {
    const run = { runId: 'archive-orders-1', url: 'http://ui/archive-orders-1', at: finishedAt };
    const gap = 'binlog mysql-bin.000003 missing between mysql-bin.000002 and mysql-bin.000004';
    const alert = archiveGapAlert('orders', [gap], [], run);
    expect(alert).toMatchObject({ kind: 'archive-gap', drillId: 'archive-orders-1', source: 'orders', url: run.url, finishedAt });
    expect(alert!.outcome).toBeUndefined();
    expect(alert!.message).toContain(gap);
    expect(archiveGapAlert('orders', [gap], [gap], run)).toBeUndefined();
    expect(archiveGapAlert('orders', [], [], run)).toBeUndefined();
  });
});

describe('payloads', () => {
  const alert: DrillAlert = drillAlerts(failed, undefined, 'http://127.0.0.1:8233/namespaces/default/workflows/drill-orders-1/run')[0]!;

  test('Slack gets a fallback text and blocks: a header, the message escaped for mrkdwn, the facts, the link', () => {
    const p = slackPayload(alert);
    expect(p.text).toBe('Restore drill FAILED: orders. drill of orders failed: no <trailer> & no luck');
    expect(p.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Restore drill FAILED: orders' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'drill of orders failed: no &lt;trailer&gt; &amp; no luck' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `*source* orders  ·  *drill* drill-orders-1  ·  *failure* DumpTruncated  ·  *at* ${finishedAt}` }] },
      { type: 'section', text: { type: 'mrkdwn', text: '<http://127.0.0.1:8233/namespaces/default/workflows/drill-orders-1/run|Open the run in Temporal>' } },
    ]);
  });

  test('Slack text stays within its limits, and a link that is not http(s) is left out', () => {
    const long = { ...alert, message: 'x'.repeat(5000), url: 'workflow/drill-orders-1' };
    const p = slackPayload(long);
    expect(p.text.length).toBe(3000);
    expect(((p.blocks[1] as { text: { text: string } }).text.text).length).toBe(3000);
    expect(p.blocks).toHaveLength(3);
  });

  test('a webhook gets the alert as JSON with event and delivery id, signed over "<timestamp>.<body>"', () => {
    const now = new Date('2026-11-21T02:14:05Z');
    const { body, headers } = alertRequest({ name: 'pager', type: 'webhook', url: 'http://127.0.0.1:1/', secret: 's3cret' }, alert, now);
    expect(JSON.parse(body)).toEqual(alert);
    expect(headers).toMatchObject({ 'content-type': 'application/json', 'x-restore-drill-event': 'failed', 'x-restore-drill-delivery': 'drill-orders-1:failed', 'x-restore-drill-timestamp': '1795227245' });
    expect(headers['x-restore-drill-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(`1795227245.${body}`).digest('hex')}`);
    expect(verify('s3cret', headers, body, 1795227245 + 10)).toBe(true);
    expect(verify('other', headers, body, 1795227245)).toBe(false);
    expect(verify('s3cret', headers, body.replace('orders', 'order5'), 1795227245)).toBe(false);
    expect(verify('s3cret', headers, body, 1795227245 + 3600)).toBe(false);
  });

  test('the signature is HMAC-SHA256 in lower-case hex (a known vector)', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expect(signAlertBody('Jefe', 'what do ya want for nothing', '')).toBe('sha256=' + createHmac('sha256', 'Jefe').update('what do ya want for nothing.').digest('hex'));
    expect(createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  test('the legacy unsigned webhook and Slack carry no signature headers', () => {
    expect(alertRequest({ name: 'RESTORE_DRILL_WEBHOOK_URL', type: 'webhook', url: 'http://127.0.0.1:1/' }, alert).headers['x-restore-drill-signature']).toBeUndefined();
    const slack = alertRequest({ name: 'chat', type: 'slack', url: 'http://127.0.0.1:1/' }, alert);
    expect(Object.keys(slack.headers).filter((h) => h.startsWith('x-restore-drill'))).toEqual([]);
  });
});

describe('delivery', () => {
  const alert = drillAlerts(failed, undefined, 'u')[0]!;
  async function receiver(statuses: number[]): Promise<{ url: string; hits: () => number; close: () => void }> {
    let hits = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(statuses[Math.min(hits++, statuses.length - 1)]!).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0/SECRET-TOKEN`, hits: () => hits, close: () => server.close() };
  }
  const policy = { attempts: 3, firstDelayMs: 10, timeoutMs: 2000 };

  test('a receiver that fails then answers is retried until delivered', async () => {
    const r = await receiver([503, 429, 200]);
    try {
      expect(await postAlert({ name: 'pager', type: 'webhook', url: r.url, secret: 'k' }, alert, policy)).toEqual({ destination: 'pager', type: 'webhook', kind: 'failed', delivered: true, attempts: 3, status: 200 });
    } finally {
      r.close();
    }
  });

  test('a 4xx that a retry cannot fix is not retried; the record names the origin, never the path', async () => {
    const r = await receiver([404]);
    try {
      const d = await postAlert({ name: 'chat', type: 'slack', url: r.url }, alert, policy);
      expect(d).toMatchObject({ delivered: false, attempts: 1, status: 404 });
      expect(r.hits()).toBe(1);
      expect(d.error).toBe(`${new URL(r.url).origin} answered 404`);
    } finally {
      r.close();
    }
  });

  test('a receiver that is down is tried the bounded number of times, then recorded as not delivered', async () => {
    const r = await receiver([200]);
    r.close();
    const d = await postAlert({ name: 'down', type: 'webhook', url: r.url, secret: 'k' }, alert, policy);
    expect(d).toMatchObject({ destination: 'down', delivered: false, attempts: 3 });
    expect(d.error).toMatch(/ECONNREFUSED/);
    expect(d.error).not.toContain('SECRET-TOKEN');
  });
});

describe('configuration', () => {
  const yaml = (alerts: string) => `sources:\n  orders:\n    connection: { socket: /run/mysqld/mysqld.sock }\n    user: drill_reader\n    alerts:\n${alerts}`;

  test('destinations become named routes with every event unless they choose', () => {
    const config = parseConfigText(
      yaml('      - { type: slack, urlRef: { env: ORDERS_SLACK_URL }, events: [failed, recovered] }\n      - { type: webhook, name: pager, urlRef: { file: /etc/rd/pager.url }, secretRef: { file: /etc/rd/pager.key } }\n'),
    );
    expect(alertRoutes(config)).toEqual({
      orders: [
        { name: 'slack-1', type: 'slack', urlRef: { env: 'ORDERS_SLACK_URL' }, events: ['failed', 'recovered'] },
        { name: 'pager', type: 'webhook', urlRef: { file: '/etc/rd/pager.url' }, secretRef: { file: '/etc/rd/pager.key' }, events: ['failed', 'recovered', 'rto-missed', 'rpo-missed', 'archive-gap'] },
      ],
    });
  });

  test('a webhook without its secret, an unknown event or a URL written in the file is refused by key', () => {
    const refused = (alerts: string) => {
      try {
        parseConfigText(yaml(alerts), 'test.yaml');
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused('      - { type: webhook, urlRef: { env: HOOK } }\n')).toContain('sources.orders.alerts[0].secretRef: missing');
    expect(refused('      - { type: slack, urlRef: { env: HOOK }, events: [exploded] }\n')).toContain('sources.orders.alerts[0].events[0]: expected one of "failed", "recovered", "rto-missed", "rpo-missed", "archive-gap"');
    expect(refused('      - { type: slack, url: "https://hooks.example/T0/B0/x" }\n')).toContain('sources.orders.alerts[0].url: unknown key');
    expect(refused('      - { type: slack, name: a, urlRef: { env: A } }\n      - { type: slack, name: a, urlRef: { env: B } }\n')).toContain('destination names that differ');
  });
});
