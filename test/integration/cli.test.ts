/**
 * The CLI as an operator runs it: the built `restore-drill` spawned as a process, against the
 * real Temporal dev server, Docker and MariaDB 10.11 / MySQL 9.7 sources. The drills run on an
 * in-process worker polling this file's own task queue, which the CLI is pointed at.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import mysql from 'mysql2/promise';
import { withSession } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { awaitDrill, drillProgress } from '../../client/drills';
import { UNIVERSITY_TABLES } from '../../sample/university-schema';
import type { Flavor } from '../../domain/types';
import { DrillKind, DrillRtoSeconds } from '../../workflows/search-attributes';
import { janitorWorkflow, progressQuery } from '../../workflows';
import type { binlogArchiverWorkflow, drillWorkflow } from '../../workflows';
import { hostNameOf } from '../../workers/settings';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { groundTruth, startLiveSource } from './sources';
import type { LiveSource } from './sources';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const FLAVORS: Flavor[] = ['mariadb', 'mysql'];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let h: Harness;
const sources = {} as Record<Flavor, LiveSource>;
let configPath: string;

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: h.home,
      env: { ...process.env, RESTORE_DRILL_CONFIG: configPath, RESTORE_DRILL_TASK_QUEUE: h.taskQueue, RESTORE_DRILL_HOME: h.home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command that must succeed and returns its --json output. */
async function cliJson<T = Record<string, unknown>>(args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const r = await cli(['--json', ...args], env);
  if (r.code !== 0) throw new Error(`restore-drill ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

/** The GTID of the session's last transaction. */
async function lastGtid(flavor: Flavor, s: SqlSession): Promise<string> {
  if (flavor === 'mariadb') return String((await s.query<{ g: string }>('SELECT @@last_gtid AS g'))[0]!.g);
  const [row] = await s.query<{ g: string; u: string }>('SELECT @@GLOBAL.gtid_executed AS g, @@server_uuid AS u');
  const mine = row!.g.replace(/\s/g, '').split(',').find((e) => e.startsWith(row!.u))!;
  return `${row!.u}:${mine.split(':').pop()!.split('-').pop()!}`;
}

function sourceName(flavor: Flavor): string {
  return `it-cli-${flavor}-${process.pid}`;
}

function ttlSourceName(flavor: Flavor): string {
  return `${sourceName(flavor)}-ttl`;
}

async function writeConfig(overrides: { cron?: string } = {}): Promise<void> {
  const config = {
    sources: Object.fromEntries(
      FLAVORS.flatMap((flavor) => {
        const spec = sources[flavor].spec;
        const entry = {
            flavor,
            connection: spec.connection,
            user: spec.user,
            passwordRef: spec.passwordRef,
            schedule: { cron: overrides.cron ?? '0 3 * * *', jitter: '5m', catchupWindow: '2h' },
            // Unreachable on purpose: every drill here is marked as missing its RTO target.
            rtoTarget: '1ms',
        };
        return [
          [spec.name, entry],
          [ttlSourceName(flavor), { ...entry, schedule: undefined }],
        ];
      }),
    ),
  };
  await writeFile(configPath, stringify(config));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

interface PitrJson {
  drillId: string;
  sandbox: { name: string; socketPath: string; expiresAt: string; dockerExec: string };
  report: { outcome: string; rtoMissed?: boolean };
}

interface DrillJson {
  drillId: string;
  reportPath: string;
  report: { outcome: string; rtoSeconds: number; rtoTargetSeconds: number; rtoMissed: boolean };
}

/** Per flavor: the first drill (its backup serves the pitrs), and a pitr with the shortest TTL whose expiry the last test checks. */
const drilled = {} as Record<Flavor, DrillJson>;
const expiring = {} as Record<Flavor, PitrJson>;
/** Per flavor: a drill followed as a person runs it (no --json), its stderr the live phase list. */
const followed = {} as Record<Flavor, CliResult>;

beforeAll(async () => {
  // Emit only: type errors are the typecheck step's to report, and one in an unrelated file must not stop the CLI being built.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.json', '--noCheck'], { cwd: ROOT }).catch((err: { stdout?: string; message: string }) => {
    throw new Error(`the CLI does not build:\n${err.stdout ?? err.message}`);
  });
  h = await startHarness('cli');
  configPath = path.join(h.home, 'restore-drill.yaml');
  for (const flavor of FLAVORS) sources[flavor] = await startLiveSource(h.runtime, testServer(flavor), h.home, sourceName(flavor));
  await writeConfig();
});

afterAll(async () => {
  try {
    for (const flavor of FLAVORS) {
      await cli(['schedule', 'delete', sourceName(flavor)]).catch(() => undefined);
      await sources[flavor]?.destroy();
    }
  } finally {
    await h?.close();
  }
});

describe.each(FLAVORS)('restore-drill CLI on %s', (flavor) => {
  let kept: PitrJson;

  beforeAll(async () => {
    // The nightly drill that a pitr later restores from (a pitr never backs up: that copy would hold the damage).
    drilled[flavor] = await cliJson<DrillJson>(['drill', sourceName(flavor)]);
    // Drills of one source never overlap, and a kept sandbox holds its source: the TTL pitr runs on a
    // second name for the same server, so its minute of waiting overlaps the other tests.
    followed[flavor] = await cli(['drill', ttlSourceName(flavor)]);
    if (followed[flavor].code !== 0) throw new Error(`restore-drill drill ${ttlSourceName(flavor)} exited ${followed[flavor].code}:\n${followed[flavor].stderr}`);
    expiring[flavor] = await cliJson<PitrJson>(['pitr', ttlSourceName(flavor), '--to', 'latest', '--ttl', '60s']);
  });

  test('pitr keeps a restored sandbox that answers queries and prints how to connect to it', async () => {
    const source = sources[flavor];
    source.writer.start();
    await new Promise((r) => setTimeout(r, 1000));
    await source.writer.stop();
    const truth = await groundTruth((sql) => source.admin(sql), UNIVERSITY_TABLES);

    const r = await cli(['pitr', source.spec.name, '--to', 'latest', '--ttl', '10m']);
    expect(r.code).toBe(0);
    const id = /restore-drill release (\S+)/.exec(r.stdout)?.[1];
    expect(id).toMatch(new RegExp(`^pitr-${source.spec.name}-\\d{8}T\\d{6}Z$`));
    const status = await cliJson<{ progress: { status: string; sandbox: PitrJson['sandbox'] } }>(['status', id!]);
    expect(status.progress.status).toBe('kept');
    kept = { drillId: id!, sandbox: status.progress.sandbox, report: { outcome: 'passed' } };
    expect(r.stdout).toContain(`docker exec -it ${kept.sandbox.name} ${flavor === 'mysql' ? 'mysql' : 'mariadb'} -uroot -S /sock/mysqld.sock`);
    expect(r.stdout).toContain(`socket: ${kept.sandbox.socketPath}`);

    const restored = await withSession({ socket: kept.sandbox.socketPath }, { user: 'root' }, (s) => groundTruth((sql) => s.query(sql), UNIVERSITY_TABLES));
    expect(restored).toEqual(truth);
    const viaDockerExec = await h.runtime.exec(kept.sandbox.name, [flavor === 'mysql' ? 'mysql' : 'mariadb', '-uroot', '-S', '/sock/mysqld.sock', '-N', '-e', 'SELECT COUNT(*) FROM university.students']);
    expect(Number(viaDockerExec.stdout.trim())).toBe(truth.students!.length);
  });

  test('extend moves the expiry of a kept sandbox by the given duration', async () => {
    expect(kept).toBeDefined();
    const out = await cliJson<{ previousExpiresAt: string; expiresAt: string }>(['extend', kept.drillId, '--by', '2h']);
    expect(Date.parse(out.expiresAt) - Date.parse(out.previousExpiresAt)).toBe(2 * 3600 * 1000);
    const status = await cliJson<{ progress: { sandbox: { expiresAt: string } } }>(['status', kept.drillId]);
    expect(status.progress.sandbox.expiresAt).toBe(out.expiresAt);
  });

  test('release removes a kept sandbox and ends its drill', async () => {
    expect(kept).toBeDefined();
    expect(await h.runtime.inspect(kept.sandbox.name)).toBeDefined();
    const r = await cli(['release', kept.drillId]);
    expect(r.code).toBe(0);
    expect(await h.runtime.inspect(kept.sandbox.name)).toBeUndefined();
    const status = await cliJson<{ runStatus: string; outcome: string }>(['status', kept.drillId]);
    expect(status).toMatchObject({ runStatus: 'COMPLETED', outcome: 'passed' });
  });

  test('pitr --skip leaves out the one bad UPDATE and replays the writes after it', async () => {
    const source = sources[flavor];
    const before = await source.admin<{ id: number; gpa: string | null }>('SELECT id, gpa FROM university.students ORDER BY id');
    const badGtid = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
      await s.query('UPDATE university.students SET gpa = 0.0');
      return lastGtid(flavor, s);
    });
    const later = before[0]!.id;
    await source.admin('UPDATE university.students SET gpa = 3.33 WHERE id = ?', [later]);
    const out = await cliJson<PitrJson & { report: { recovery: { skipped: { gtid?: string }[] } } }>(['pitr', source.spec.name, '--to', 'latest', '--skip', badGtid, '--ttl', '10m']);
    try {
      const seen = await withSession({ socket: out.sandbox.socketPath }, { user: 'root' }, (s) => s.query<{ id: number; gpa: string | null }>('SELECT id, gpa FROM university.students ORDER BY id'));
      expect(seen).toEqual(before.map((r) => (r.id === later ? { id: r.id, gpa: '3.33' } : r)));
      expect(out.report.recovery.skipped.map((t) => t.gtid)).toEqual([badGtid]);
    } finally {
      await cli(['release', out.drillId]);
    }
  });

  test('drill writes report.json and report.md beside the backups, marking a missed RTO target', async () => {
    const out = drilled[flavor];
    expect(out.report).toMatchObject({ outcome: 'passed', rtoTargetSeconds: 0.001, rtoMissed: true });
    expect(out.reportPath).toBe(path.join(h.paths.artifactRoot, sourceName(flavor), 'reports', out.drillId));
    const json = JSON.parse(await readFile(path.join(out.reportPath, 'report.json'), 'utf8'));
    expect(json).toMatchObject({ drillId: out.drillId, outcome: 'passed', rtoSeconds: out.report.rtoSeconds, rtoMissed: true });
    const md = await readFile(path.join(out.reportPath, 'report.md'), 'utf8');
    expect(md).toContain(`# Restore drill ${out.drillId}: PASSED`);
    expect(md).toContain('**MISSED**');
  });

  test('history lists past drills newest first with outcome, RTO and RPO', async () => {
    const list = await cliJson<{ drillId: string; startedAt: string; outcome: string; rtoSeconds?: number; rpoSeconds?: number; from: string }[]>(['history', sourceName(flavor)]);
    // This source's drill, then its pitr (released above): newest first.
    const ids = list.map((e) => e.drillId);
    expect(ids).toContain(kept.drillId);
    expect(ids.indexOf(kept.drillId)).toBeLessThan(ids.indexOf(drilled[flavor].drillId));
    const starts = list.map((e) => Date.parse(e.startedAt));
    expect([...starts].sort((a, b) => b - a)).toEqual(starts);
    const drill = list.find((e) => e.drillId === drilled[flavor].drillId);
    expect(drill).toMatchObject({ outcome: 'passed', from: 'report', rpoSeconds: 0 });
    expect(drill!.rtoSeconds).toBeGreaterThan(0);
    const text = await cli(['history', sourceName(flavor)]);
    expect(text.stdout).toMatch(new RegExp(`${drill!.drillId}\\s+\\S+\\s+PASSED\\s+\\S+ > target 0\\.0s MISSED`));
  });

  test('a followed drill lists every phase of its report as it ends, the last ones too', async () => {
    const { stderr } = followed[flavor];
    const listed = [...stderr.matchAll(/^ {2}[✓✗] (\S+)/gm)].map((m) => m[1]);
    const id = /^drill (\S+) started/m.exec(stderr)?.[1];
    const report = JSON.parse(await readFile(path.join(h.paths.artifactRoot, ttlSourceName(flavor), 'reports', id!, 'report.json'), 'utf8')) as { phases: { phase: string }[] };
    expect(listed).toEqual(report.phases.map((p) => p.phase));
    expect(listed).toEqual(expect.arrayContaining(['restore', 'replay', 'checks']));
    // Not a terminal: plain lines, never the bar's cursor movements.
    expect(stderr).not.toContain('\x1b[');
  });

  test('history --plot draws every stored report: an SVG with a bar of RTO phases per drill, and a PNG through chromium', async () => {
    const src = sourceName(flavor);
    const stored = await readdir(path.join(h.paths.artifactRoot, src, 'reports'));
    const svgFile = path.join(h.home, `history-${flavor}.svg`);
    const r = await cli(['history', src, '--plot', svgFile]);
    expect(r.code).toBe(0);
    const svg = await readFile(svgFile, 'utf8');
    expect([...svg.matchAll(/data-drill="([^"]+)"/g)].map((m) => m[1]).sort()).toEqual([...stored].sort());
    const first = svg.slice(svg.indexOf(`data-drill="${drilled[flavor].drillId}"`));
    expect(first.slice(0, first.indexOf('</g>'))).toMatch(/data-phase="restore"[^]*data-phase="checks"/);
    const pngFile = path.join(h.home, `history-${flavor}.png`);
    expect((await cli(['history', src, '--plot', pngFile])).code).toBe(0);
    const png = await readFile(pngFile);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1]));
    const bad = await cli(['history', src, '--plot', path.join(h.home, 'history.jpg')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name an .svg or a .png file');
  });

  test('the search attributes of a drill are found by a visibility query', async () => {
    const src = sourceName(flavor);
    const query = `DrillSource = "${src}" AND DrillOutcome = "passed" AND DrillKind = "drill"`;
    // Visibility is eventually consistent: poll.
    const found = await until(`a passed drill of ${src} in visibility`, async () => {
      for await (const wf of h.client.workflow.list({ query })) return wf;
      return undefined;
    });
    expect(found.workflowId).toMatch(new RegExp(`^drill-${src}-`));
    expect(found.typedSearchAttributes.get(DrillRtoSeconds)).toBeGreaterThan(0);
    expect((found.memo as { summary?: string }).summary).toMatch(/^passed: /);
  });

  test('doctor passes for a healthy source', async () => {
    const r = await cli(['--json', 'doctor', sourceName(flavor)]);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { check: string; status: string }[] };
    expect(out.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.code).toBe(0);
    expect(out.checks.map((c) => c.check)).toEqual(expect.arrayContaining(['docker engine', 'temporal', 'search attributes', 'free disk', 'privileges', 'binlog_format', 'binlog retention', 'image']));
  });

  test('doctor reports a source whose binlog_format is STATEMENT', async () => {
    const source = sources[flavor];
    await source.admin("SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      const r = await cli(['--json', 'doctor', sourceName(flavor)]);
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as { checks: { check: string; source?: string; status: string; detail: string }[] };
      expect(out.checks).toContainEqual(expect.objectContaining({ check: 'binlog_format', source: sourceName(flavor), status: 'fail', detail: expect.stringContaining('binlog_format=STATEMENT') }));
    } finally {
      await source.admin("SET GLOBAL binlog_format = 'ROW'");
    }
  });

  test('a kept sandbox expires by itself after its TTL', async () => {
    const first = expiring[flavor];
    expect(first.sandbox.expiresAt).toBeDefined();
    const status = await until(
      `${first.drillId} to expire`,
      async () => {
        const s = await cliJson<{ runStatus: string; progress?: { status: string } }>(['status', first.drillId]);
        return s.runStatus === 'RUNNING' ? undefined : s;
      },
      150_000,
      2000,
    );
    expect(status.runStatus).toBe('COMPLETED');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(first.sandbox.expiresAt));
    expect(await h.runtime.inspect(first.sandbox.name)).toBeUndefined();
  });
});

describe('restore-drill schedules', () => {
  const source = () => sourceName('mariadb');

  test('schedule create twice leaves one schedule, updated to the new configuration', async () => {
    expect((await cliJson<{ result: string }[]>(['schedule', 'create', source()]))[0]!.result).toBe('created');
    await writeConfig({ cron: '15 4 * * *' });
    expect((await cliJson<{ result: string }[]>(['schedule', 'create', source()]))[0]!.result).toBe('updated');
    const list = await cliJson<{ scheduleId: string; cron: string; overlap: string }[]>(['schedule', 'list']);
    const mine = list.filter((s) => s.scheduleId === `restore-drill-${source()}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ cron: '15 4 * * *', overlap: 'SKIP' });
    const d = await cliJson<{ jitterSeconds: number; catchupWindowSeconds: number; taskQueue: string }>(['schedule', 'describe', source()]);
    expect(d).toMatchObject({ jitterSeconds: 300, catchupWindowSeconds: 7200, taskQueue: h.taskQueue });
  });

  test('schedule create also archives binlogs continuously: the archiver schedule copies the source binlogs and reports the recoverable window', async () => {
    const archiver = h.client.schedule.getHandle(`binlog-archiver-${source()}`);
    const described = await archiver.describe();
    expect(described.spec.intervals?.[0]?.every).toBe(15 * 60 * 1000);
    expect(described.policies.overlap).toBe('SKIP');
    await archiver.trigger();
    const workflowId = await until('the archiver run to start', async () => (await archiver.describe()).info.recentActions.at(-1)?.action.workflow.workflowId);
    const result = await h.client.workflow.getHandle<typeof binlogArchiverWorkflow>(workflowId).result();
    expect(result.files).toBeGreaterThan(0);
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.window.gaps).toEqual([]);
    expect(result.window.to?.gtid).toBeDefined();
    expect(result.window.from).toBeDefined();
  });

  test('trigger while a scheduled drill is still running is skipped', async () => {
    // The triggered drill runs on the polled queue. A write lock on one source table, held by
    // the test, keeps it inside its backup (the dumper's FLUSH TABLES WITH READ LOCK waits for
    // the lock) for as long as the test needs: the second trigger meets a drill that is running.
    const lock = await mysql.createConnection({ socketPath: sources.mariadb.socketPath, user: 'root' });
    let drillId: string | undefined;
    try {
      await lock.query('LOCK TABLES university.students WRITE');
      await cliJson(['schedule', 'trigger', source()]);
      const running = await until('the triggered drill to be in its backup', async () => {
        const d = await cliJson<{ running: string[] }>(['schedule', 'describe', source()]);
        if (d.running.length !== 1) return undefined;
        const progress = await h.client.workflow.getHandle(d.running[0]!).query(progressQuery).catch(() => undefined);
        return progress?.current === 'backup' ? d : undefined;
      });
      drillId = running.running[0]!;
      expect(drillId).toMatch(new RegExp(`^drill-${source()}-\\d{4}-\\d{2}-\\d{2}T`));
      // The backup's heartbeats carry its bytes against the source's size, read back from the server.
      const work = await until('the backup to heartbeat its work', async () => (await drillProgress(h.client.workflow.getHandle<typeof drillWorkflow>(drillId!))).work?.find((w) => w.phase === 'backup'));
      expect(work.work).toMatchObject({ bytesDone: expect.any(Number), bytesTotal: expect.any(Number), estimated: true });
      expect(work.work.bytesTotal).toBeGreaterThan(0);
      const status = await cliJson<{ progress: { work?: { phase: string }[] } }>(['status', drillId]);
      expect(status.progress.work?.map((w) => w.phase)).toContain('backup');
      await cliJson(['schedule', 'trigger', source()]);
      const after = await until('the second trigger to be processed', async () => {
        const d = await cliJson<{ running: string[]; actions: number; skippedOverlap: number }>(['schedule', 'describe', source()]);
        return d.skippedOverlap > 0 ? d : undefined;
      });
      expect(after).toMatchObject({ actions: 1, skippedOverlap: 1, running: [drillId] });
      expect((await h.client.workflow.getHandle(drillId).query(progressQuery)).current).toBe('backup');
    } finally {
      await lock.query('UNLOCK TABLES').catch(() => undefined);
      await lock.end();
    }
    // Released, the one scheduled drill finishes on its own, and passes.
    const { report, failure } = await awaitDrill(h.client.workflow.getHandle<typeof drillWorkflow>(drillId!));
    expect(failure).toBeUndefined();
    expect(report?.outcome).toBe('passed');
    // The schedule's kind stays on the drill it started: history and the UI tell scheduled drills from manual ones.
    expect((await h.client.workflow.getHandle(drillId!).describe()).typedSearchAttributes.get(DrillKind)).toBe('scheduled');
  });

  test('pause and unpause switch the schedule off and on', async () => {
    await cliJson(['schedule', 'pause', source(), '--note', 'maintenance window']);
    expect(await cliJson(['schedule', 'describe', source()])).toMatchObject({ paused: true, note: 'maintenance window' });
    await cliJson(['schedule', 'unpause', source()]);
    expect(await cliJson(['schedule', 'describe', source()])).toMatchObject({ paused: false });
  });

  test('schedule delete removes the schedule', async () => {
    await cliJson(['schedule', 'delete', source()]);
    const list = await cliJson<{ scheduleId: string }[]>(['schedule', 'list']);
    expect(list.map((s) => s.scheduleId)).not.toContain(`restore-drill-${source()}`);
    const r = await cli(['schedule', 'describe', source()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no schedule restore-drill-${source()}`);
  });
});

describe('restore-drill worker', () => {
  test('registers the janitor schedule with every source\'s retention from the configuration file, polls, logs JSON lines, and stops on SIGTERM', async () => {
    const queue = `${h.taskQueue}-cliworker`;
    const child = spawn(process.execPath, [MAIN, 'worker', '--log-format', 'json'], {
      cwd: h.home,
      env: { ...process.env, RESTORE_DRILL_CONFIG: configPath, RESTORE_DRILL_TASK_QUEUE: queue, RESTORE_DRILL_HOME: h.home, RESTORE_DRILL_JANITOR_EVERY: '1h' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const schedule = h.client.schedule.getHandle(`restore-drill-janitor-${queue}`);
    const hostSchedule = h.client.schedule.getHandle(`restore-drill-janitor-${queue}@${hostNameOf(os.hostname())}`);
    try {
      await until('the worker to poll', async () => (output.includes('polling') ? true : undefined), 120_000, 200);
      const described = await schedule.describe();
      const action = described.action as { workflowType: string; args: { retention?: { source: string; keepBackups: number; keepReports?: number }[] }[] };
      expect(action.workflowType).toBe('janitorWorkflow');
      expect(action.args[0]!.retention!.map((p) => p.source).sort()).toEqual(FLAVORS.flatMap((f) => [sourceName(f), ttlSourceName(f)]).sort());
      for (const p of action.args[0]!.retention!) expect(p).toMatchObject({ keepBackups: 7, keepReports: 90 });
      expect(output).toMatch(/janitor schedule restore-drill-janitor-\S+ every 1h, retention for/);
      // And this host's own sweep, on its own queue.
      expect((await hostSchedule.describe()).action).toMatchObject({ workflowType: 'janitorWorkflow', taskQueue: `${queue}@${hostNameOf(os.hostname())}` });
      // --log-format json: every line, the SDK's included, is one JSON object.
      const lines = output.split('\n').filter((l) => l.trim() !== '');
      for (const l of lines) expect(JSON.parse(l)).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining([expect.stringContaining('worker polling'), 'Workflow bundle created']));
    } finally {
      child.kill('SIGTERM');
      await schedule.delete().catch(() => undefined);
      await hostSchedule.delete().catch(() => undefined);
      // Also when the test failed: a worker still running would keep jest alive.
      await exited.catch(() => undefined);
    }
    expect(await exited).toBe(0);
  });
});

describe('one worker entry point', () => {
  test('the worker service started with only a configuration file uses its home, scratch folder, Temporal address, task queue and host name', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'rd-cfgworker-'));
    const queue = `${h.taskQueue}-cfgworker`;
    const file = path.join(home, 'restore-drill.yaml');
    // localhost, not the environment's 127.0.0.1: the address in the start line can only come from the file.
    await writeFile(
      file,
      stringify({ home, temporal: { address: 'localhost:7233', taskQueue: queue }, worker: { host: 'cfg-host', capacity: { sandboxes: 1 }, workDir: path.join(home, 'scratch') }, sources: { orders: { connection: { socket: '/run/mysqld/mysqld.sock' }, user: 'drill_reader' } } }),
    );
    const leftovers = [path.join(home, 'scratch', 'drill-gone-cfgworker'), path.join(home, 'artifacts', 'orders', 'backups', '.partial-drill-gone-cfgworker')];
    for (const dir of leftovers) await mkdir(dir, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, RESTORE_DRILL_CONFIG: file, RESTORE_DRILL_JANITOR_EVERY: 'off' };
    for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'RESTORE_DRILL_TASK_QUEUE', 'RESTORE_DRILL_HOME', 'RESTORE_DRILL_HOST']) delete env[k];
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/workers/main.js')], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until('the worker to poll', async () => (output.includes('worker polling') ? true : undefined), 120_000, 200);
      expect(output).toContain(`polling ${queue} on localhost:7233 (default) as host cfg-host, 1 sandbox(es) at once (${queue}@cfg-host, ${queue}-placement); artifacts in the folder ${home}/artifacts, scratch in ${home}/scratch; configuration ${file}`);
      // The janitor on that queue sweeps that home and that scratch folder: leftovers of a drill that no longer exists.
      const swept = await h.client.workflow.execute(janitorWorkflow, { taskQueue: queue, workflowId: `janitor-cfgworker-${Date.now()}`, args: [{ orphanFolderMaxAgeSeconds: 0 }] });
      expect(swept.removedFolders.map((f) => f.split(' ')[0])).toEqual(expect.arrayContaining(leftovers));
    } finally {
      child.kill('SIGTERM');
      await exited.catch(() => undefined);
    }
    expect(await exited).toBe(0);
    await rm(home, { recursive: true, force: true });
  });
});

describe('restore-drill configuration and preflight', () => {
  test('a bad configuration file gives an error naming each bad key and its fix', async () => {
    const bad = path.join(h.home, 'bad.yaml');
    await writeFile(
      bad,
      [
        'sources:',
        '  orders:',
        '    flavor: postgres',
        '    connection: { socket: run/mysqld.sock }',
        '    schedule:',
        '      cronn: "30 2 * * *"',
        '      jitter: soon',
        '    rtoTarget: 15m',
        '  Bad Name:',
        '    connection: { socket: /run/mysqld.sock }',
        '    user: reader',
      ].join('\n'),
    );
    const r = await cli(['--config', bad, 'config', 'validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BadConfig');
    for (const line of [
      'sources.orders.flavor: expected one of "auto", "mysql", "mariadb", got "postgres"',
      'sources.orders.connection.socket: expected an absolute path to the server socket, got "run/mysqld.sock"',
      'sources.orders.user: missing — add it',
      'sources.orders.schedule.cronn: unknown key — remove it or fix its spelling (did you mean cron?)',
      'sources.orders.schedule.cron: missing — add it',
      'sources.orders.schedule.jitter: expected a duration such as 90s, 15m, 4h or 2d',
      'sources.Bad Name: a source name of lowercase letters',
    ])
      expect(r.stderr).toContain(line);
  });

  test('pitr --skip with a malformed value is refused before anything starts', async () => {
    const r = await cli(['pitr', sourceName('mariadb'), '--to', 'latest', '--skip', '0-1-5', '--skip', 'mysql-bin.000004:1234']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('restore-drill: BadTarget: skip "mysql-bin.000004:1234" is neither a GTID');
    expect(r.stderr).not.toContain('started');
  });

  test('doctor reports a Docker engine that does not answer', async () => {
    const r = await cli(['--json', 'doctor', sourceName('mariadb')], { DOCKER_HOST: `unix://${path.join(h.home, 'no-docker.sock')}` });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { checks: { check: string; status: string; detail: string }[] };
    expect(out.checks).toContainEqual(expect.objectContaining({ check: 'docker engine', status: 'fail', detail: expect.stringContaining('no-docker.sock') }));
  });
});
