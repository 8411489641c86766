/**
 * Monitoring for real: the worker process (dist/workers/main.js) serves /metrics, a real
 * Prometheus server (Debian's package, started here on 127.0.0.1 with a temporary config and
 * deploy/monitoring's rules) scrapes it, and the alert rules fire on a real drill of a live
 * MariaDB source (RTO over its target) and on a failed drill. The worker is restarted and its
 * metrics come back from the report files. The dashboard's queries run on that Prometheus.
 * The same drills, a pass after the failure and an archiving run over a damaged archive raise
 * every alert the source's configuration routes to a real HTTP receiver (Slack and signed
 * webhook payloads), while a destination that is down fails nothing and is reported.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { binlogArchiveDir } from '../../adapters/local-layout';
import { readReports } from '../../adapters/report-files';
import { awaitDrill, startDrill } from '../../client/drills';
import { testServer } from './servers';
import { binlogArchiverWorkflow } from '../../workflows';
import { freePort, startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';
import { ensureWorkerBuild, startWorkerProcess } from './worker-process';
import type { WorkerProcess } from './worker-process';

const MONITORING = path.resolve(__dirname, '../../deploy/monitoring');
const RULES = path.join(MONITORING, 'restore-drill.rules.yml');

jest.setTimeout(8 * 60_000);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** A Prometheus server of its own: scrapes the worker every second, evaluates the shipped rules every second. */
async function startPrometheus(dir: string, workerTarget: string): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  await mkdir(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${JSON.stringify(RULES)}]`,
      'scrape_configs:',
      `  - { job_name: restore-drill, static_configs: [ { targets: [${JSON.stringify(workerTarget)}] } ] }`,
      '',
    ].join('\n'),
  );
  const child = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => void (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await until(`prometheus ready (${stderr})`, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000);
  return {
    url,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function promQuery(url: string, expr: string): Promise<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string }> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as never;
}

async function firing(url: string, alertname: string, source: string): Promise<PromAlert | undefined> {
  const res = (await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
  return res.data.alerts.find((a) => a.labels.alertname === alertname && a.labels.source === source && a.state === 'firing');
}

/** The value of one series in the worker's /metrics text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 that records every request and answers 200. */
async function startReceiver(): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const HOOK_SECRET = 'metrics-test-hmac-key';

/** What a receiver does (docs/operations.md, "Alerts"): HMAC-SHA256 over "<timestamp>.<body>", a recent timestamp. */
function signatureValid(r: Received): boolean {
  const timestamp = String(r.headers['x-restore-drill-timestamp']);
  const expected = `sha256=${createHmac('sha256', HOOK_SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`;
  return r.headers['x-restore-drill-signature'] === expected && Math.abs(Date.now() / 1000 - Number(timestamp)) < 600;
}

describe('metrics scraped by a real Prometheus, alert rules firing', () => {
  let h: Harness;
  let source: LiveSource;
  let worker: WorkerProcess;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  let metricsAddress: string;
  let taskQueue: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let configFile: string;
  const startWorker = () => startWorkerProcess({ taskQueue, home: h.home, env: { RESTORE_DRILL_METRICS_LISTEN: metricsAddress, RESTORE_DRILL_CONFIG: configFile, TEMPORAL_UI_URL: 'http://127.0.0.1:8233', RESTORE_DRILL_LOG_LEVEL: 'debug' } });

  /** The source in a configuration file of the worker's, with three alert destinations: Slack, a signed webhook, and one that is down. */
  async function writeAlertConfig(): Promise<void> {
    const dir = path.join(h.home, 'alert-secrets');
    await mkdir(dir, { recursive: true });
    const file = async (name: string, text: string) => {
      await writeFile(path.join(dir, name), `${text}\n`, { mode: 0o600 });
      return { file: path.join(dir, name) };
    };
    const { name, ...spec } = source.spec;
    const alerts = [
      { type: 'slack', name: 'chat', urlRef: await file('slack.url', `http://127.0.0.1:${receiver.port}/slack/T000/B000/token`) },
      { type: 'webhook', name: 'hook', urlRef: await file('hook.url', `http://127.0.0.1:${receiver.port}/hook`), secretRef: await file('hook.key', HOOK_SECRET) },
      { type: 'webhook', name: 'down', urlRef: await file('down.url', `http://127.0.0.1:${await freePort()}/nobody-listens`), secretRef: await file('down.key', 'x') },
    ];
    configFile = path.join(h.home, 'restore-drill.yaml');
    // JSON is YAML.
    await writeFile(configFile, JSON.stringify({ sources: { [name]: { ...spec, alerts } } }, null, 2));
  }

  beforeAll(async () => {
    ensureWorkerBuild();
    h = await startHarness('metrics');
    // The drills run in the worker process, not in the harness's in-process worker.
    taskQueue = `${h.taskQueue}-process`;
    metricsAddress = `127.0.0.1:${await freePort()}`;
    source = await startLiveSource(h.runtime, testServer('mariadb'), h.home, `it-metrics-${process.pid}`);
    receiver = await startReceiver();
    await writeAlertConfig();
    worker = startWorker();
    await worker.ready;
    prometheus = await startPrometheus(path.join(h.home, 'prometheus'), metricsAddress);
  });

  afterAll(async () => {
    try {
      await prometheus?.stop();
      await worker?.kill('SIGTERM');
      await receiver?.close();
      await source?.destroy();
    } finally {
      await h?.close();
    }
  });

  test('a real drill of mariadb is scraped: outcome, RTO, phases and archive lag; its RTO over the target fires RestoreDrillRtoOverTarget', async () => {
    const name = source.spec.name;
    // 10 ms: no restore is that fast, however quiet the machine (a 1 s target was met on one).
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('drill'), request: { source: source.spec, rtoTargetSeconds: 0.01, rpoTargetSeconds: 3600 } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report).toMatchObject({ outcome: 'passed', rtoMissed: true, rpoTargetSeconds: 3600, rpoMissed: false });

    const alert = await until('RestoreDrillRtoOverTarget firing', () => firing(prometheus.url, 'RestoreDrillRtoOverTarget', name));
    expect(alert.labels.severity).toBe('warning');
    const value = async (expr: string) => Number((await promQuery(prometheus.url, expr)).data.result[0]?.value[1]);
    expect(await value(`restore_drill_last_drill_success{source="${name}"}`)).toBe(1);
    expect(await value(`restore_drill_rto_seconds{source="${name}"}`)).toBeCloseTo(report!.rtoSeconds, 3);
    expect(await value(`restore_drill_phase_seconds{source="${name}",phase="restore"}`)).toBeGreaterThan(0);
    expect(await value(`restore_drill_backup_size_bytes{source="${name}"}`)).toBe(report!.backup.bytes);
    // The drill archived the binlogs: the lag runs from that run's start, well under the objective.
    const lag = await value(`restore_drill_archive_lag_seconds{source="${name}"}`);
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThan(600);
    expect(await firing(prometheus.url, 'RestoreDrillArchiveLagOverRpo', name)).toBeUndefined();
    expect(await firing(prometheus.url, 'RestoreDrillFailed', name)).toBeUndefined();
  });

  test('a failed drill (no backup in the team folder) fires RestoreDrillFailed', async () => {
    const name = source.spec.name;
    const empty = path.join(h.home, 'team-backups-empty');
    await mkdir(empty, { recursive: true });
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('failing'), request: { source: source.spec, backup: { team: { location: empty } } } });
    const { report } = await awaitDrill(handle);
    expect(report?.outcome).toBe('failed');
    const alert = await until('RestoreDrillFailed firing', () => firing(prometheus.url, 'RestoreDrillFailed', name));
    expect(alert.labels.severity).toBe('critical');
    // The last pass is kept: nothing claims the source never passed.
    const lastPass = await promQuery(prometheus.url, `time() - restore_drill_last_success_timestamp_seconds{source="${name}"}`);
    expect(Number(lastPass.data.result[0]?.value[1])).toBeLessThan(3600);
  });

  test('after a worker restart, /metrics starts from the last drills on disk', async () => {
    const name = source.spec.name;
    await worker.kill('SIGTERM');
    worker = startWorker();
    await worker.ready;
    expect(worker.output()).toContain(`seeded from the last drills of ${name}`);
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    expect(sample(text, `restore_drill_last_drill_success{source="${name}"}`)).toBe(0);
    expect(sample(text, `restore_drill_last_success_timestamp_seconds{source="${name}"}`)).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(sample(text, `restore_drill_rto_seconds{source="${name}"}`)).toBeGreaterThan(0);
    expect(sample(text, `restore_drill_archive_lag_seconds{source="${name}"}`)).toBeGreaterThan(0);
    // Counters are this process's own: a restart does not replay old drills into them.
    expect(text).not.toContain(`restore_drill_drills_total{source="${name}"`);
  });

  test('the Grafana dashboard has a valid model, and every panel query runs on Prometheus', async () => {
    const datasource = z.object({ type: z.literal('prometheus'), uid: z.literal('${datasource}') });
    const dashboardSchema = z.object({
      uid: z.string().min(1),
      title: z.string().min(1),
      schemaVersion: z.number().int().min(30),
      time: z.object({ from: z.string(), to: z.string() }),
      templating: z.object({ list: z.array(z.object({ name: z.string(), type: z.enum(['datasource', 'query', 'custom']) }).passthrough()) }),
      panels: z
        .array(
          z
            .object({
              id: z.number().int(),
              type: z.enum(['stat', 'timeseries', 'bargauge', 'table', 'gauge']),
              title: z.string().min(1),
              datasource,
              gridPos: z.object({ h: z.number().int().positive(), w: z.number().int().min(1).max(24), x: z.number().int().min(0).max(23), y: z.number().int().min(0) }),
              targets: z.array(z.object({ refId: z.string(), expr: z.string().min(1), datasource, legendFormat: z.string() })).min(1),
            })
            .passthrough(),
        )
        .min(10),
    });
    const dashboard = dashboardSchema.parse(JSON.parse(await readFile(path.join(MONITORING, 'restore-drill-dashboard.json'), 'utf8')));
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    const failures: string[] = [];
    for (const p of dashboard.panels)
      for (const t of p.targets) {
        const r = await promQuery(prometheus.url, t.expr.replaceAll('$source', '.*'));
        if (r.status !== 'success') failures.push(`${p.title}: ${t.expr}: ${r.error}`);
      }
    expect(failures).toEqual([]);
    // The source variable finds the drilled source.
    const sources = await promQuery(prometheus.url, 'count by (source) (restore_drill_last_drill_timestamp_seconds)');
    expect(sources.data.result.map((r) => r.metric.source)).toContain(source.spec.name);
  });

  test('promtool checks the rules and passes their unit tests', async () => {
    const run = promisify(execFile);
    await expect(run('promtool', ['check', 'rules', RULES])).resolves.toMatchObject({ stdout: expect.stringContaining('SUCCESS: 6 rules found') });
    await expect(run('promtool', ['test', 'rules', path.join(MONITORING, 'restore-drill.rules.test.yml')], { cwd: MONITORING })).resolves.toMatchObject({ stdout: expect.stringContaining('SUCCESS') });
  });

  test('a pass after the failure alerts recovered; the destination that is down is retried, reported, and fails nothing', async () => {
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('recovered'), request: { source: source.spec } });
    const { report, failure } = await awaitDrill(handle);
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    const written = (await readReports(h.paths, source.spec.name)).find((r) => r.drillId === handle.workflowId);
    expect(written?.outcome).toBe('passed');
    expect(written?.alerts).toEqual([
      { destination: 'chat', type: 'slack', kind: 'recovered', delivered: true, attempts: 1, status: 200 },
      { destination: 'hook', type: 'webhook', kind: 'recovered', delivered: true, attempts: 1, status: 200 },
      { destination: 'down', type: 'webhook', kind: 'recovered', delivered: false, attempts: 3, error: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/) },
    ]);
    // The worker's stdout reaches this process through a pipe, maybe after the drill's result.
    await until('the failed delivery in the worker log', async () => (/alert recovered of it-metrics-\d+ not delivered to down after 3 attempt\(s\)/.test(worker.output()) ? true : undefined), 10_000);
    // Never the URL's path, where a Slack URL keeps its token, nor a key or a password.
    const password = (await readFile((source.spec.passwordRef as { file: string }).file, 'utf8')).trim();
    for (const secret of ['nobody-listens', '/T000/B000/token', HOOK_SECRET, password]) expect(worker.output()).not.toContain(secret);
  });

  test('the worker writes JSON lines (pino), the SDK\'s included; every line of a drill names the drill and its source', async () => {
    const name = source.spec.name;
    const handle = await startDrill({ client: h.client, taskQueue, workflowId: h.uniqueId('logged'), request: { source: source.spec } });
    expect((await awaitDrill(handle)).failure).toBeUndefined();
    await until('the drill\'s last activity in the worker log', async () => (worker.output().split('\n').some((l) => l.includes(`"drillId":"${handle.workflowId}"`) && l.includes('"msg":"Workflow completed"')) ? true : undefined), 10_000);
    const entries = worker
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) expect(e).toMatchObject({ time: expect.any(String), level: expect.stringMatching(/^(trace|debug|info|warn|error)$/), msg: expect.any(String) });
    // The SDK's own "Workflow started" comes before the drill's first line, which names the source.
    const ofDrill = entries.filter((e) => e.drillId === handle.workflowId && e.msg !== 'Workflow started');
    expect(ofDrill.filter((e) => e.source !== name)).toEqual([]);
    expect(ofDrill.map((e) => e.msg)).toEqual(expect.arrayContaining(['drill started', 'Activity started', 'Activity completed']));
    // Every activity of the drill logged, by type: the drill's whole path is in the log.
    const activities = new Set(ofDrill.map((e) => e.activityType).filter(Boolean));
    for (const a of ['inspectSource', 'publishReport', 'notifyDrillOutcome']) expect(activities).toContain(a);
    expect(entries.some((e) => e.msg === 'worker polling' || /worker polling/.test(String(e.msg)))).toBe(true);
  });

  test('an archiving run behind its RPO objective alerts rpo-missed; a file lost from the middle of the archive alerts archive-gap (once)', async () => {
    const name = source.spec.name;
    await source.admin('FLUSH BINARY LOGS');
    await source.admin('FLUSH BINARY LOGS');
    const archiveRun = () => h.client.workflow.execute(binlogArchiverWorkflow, { taskQueue, workflowId: h.uniqueId('archiver'), args: [{ source: source.spec, rpoTargetSeconds: 1 }] });
    // Minutes since the drills archived: over the 1 s objective.
    await archiveRun();
    const archive = binlogArchiveDir(h.paths, name);
    const files = (await readdir(archive)).filter((f) => /\.\d{6}$/.test(f)).sort();
    expect(files.length).toBeGreaterThan(2);
    // A file between two others: the archiver never copies it again (it resumes at its newest file).
    const lost = files[files.length - 2]!;
    await rm(path.join(archive, lost));
    const gapAlerts = () => receiver.received.filter((r) => r.path === '/hook' && (JSON.parse(r.body) as { kind: string }).kind === 'archive-gap');
    expect(gapAlerts()).toHaveLength(0);
    expect((await archiveRun()).window.gaps.map((g) => g.missing)).toContainEqual([lost]);
    expect(gapAlerts()).toHaveLength(1);
    expect((await archiveRun()).window.gaps).toHaveLength(1);
    expect(gapAlerts()).toHaveLength(1);
  });

  test('every alert kind reached the receiver: Slack text and blocks, the signed webhook verifiable with its key', () => {
    const name = source.spec.name;
    const hook = receiver.received.filter((r) => r.path === '/hook').map((r) => ({ r, alert: JSON.parse(r.body) as Record<string, string> }));
    const slack = receiver.received.filter((r) => r.path.startsWith('/slack/')).map((r) => JSON.parse(r.body) as { text: string; blocks: { type: string; text?: { text: string } }[] });
    expect(new Set(hook.map((h) => h.alert.kind))).toEqual(new Set(['rto-missed', 'failed', 'recovered', 'rpo-missed', 'archive-gap']));
    for (const { r, alert } of hook) {
      expect(signatureValid(r)).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-restore-drill-event']).toBe(alert.kind);
      expect(r.headers['x-restore-drill-delivery']).toBe(`${alert.drillId}:${alert.kind}`);
      expect(alert).toMatchObject({ source: name, message: expect.any(String), url: expect.stringContaining('http://127.0.0.1:8233/namespaces/default/workflows/') });
    }
    expect(hook.find((h) => h.alert.kind === 'failed')!.alert.failureType).toMatch(/^[A-Z][A-Za-z]+$/);
    expect(hook.find((h) => h.alert.kind === 'archive-gap')!.alert.message).toMatch(/missing between/);
    expect(hook.find((h) => h.alert.kind === 'rpo-missed')!.alert.message).toMatch(/behind the source before its last run/);
    // A tampered body no longer verifies.
    expect(signatureValid({ ...hook[0]!.r, body: hook[0]!.r.body.replace(name, `${name}x`) })).toBe(false);
    expect(slack.map((p) => p.blocks[0]!.text!.text)).toEqual(
      expect.arrayContaining([`Restore drill over its RTO target: ${name}`, `Restore drill FAILED: ${name}`, `Restore drill passing again: ${name}`, `RPO objective missed: ${name}`, `Gap in the binlog archive: ${name}`]),
    );
    for (const p of slack) {
      expect(p.text).toContain(name);
      expect(p.blocks.map((b) => b.type).slice(0, 3)).toEqual(['header', 'section', 'context']);
    }
  });
});
