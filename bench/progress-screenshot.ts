/**
 * The README's screenshot of a followed drill: a MariaDB source with the benchmark's dataset
 * (bench/dataset.ts, `--size 1g` by default: about 1.1 GB of dump), a worker, and
 * `restore-drill drill` run in a tmux pane, whose screen is captured during the restore and
 * rendered to PNG by headless chromium.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/progress-screenshot.js [--size 1g|ci|smoke] [--out docs/progress.png]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { DockerodeRuntime } from '../adapters/docker';
import { withSession } from '../adapters/mysql';
import { screenshotToPng } from '../adapters/screenshot';
import { temporalSettings } from '../client/settings';
import { ensureSampleSource } from '../sample/source-container';
import { SIZES, datasetSql, totalRows } from './dataset';
import type { BenchSize } from './dataset';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const SESSION = `rd-progress-${process.pid}`;
const COLUMNS = 150;
const ROWS = 24;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The pane's text as a terminal-looking HTML page (SGR colours and bold kept). */
function terminalHtml(ansi: string, title: string): string {
  const colors = ['#2e3436', '#ef2929', '#8ae234', '#fce94f', '#729fcf', '#ad7fa8', '#34e2e2', '#eeeeec'];
  let open = 0;
  // eslint-disable-next-line no-control-regex -- SGR sequences start with ESC
  const body = esc(ansi).replace(/\x1b\[([\d;]*)m/g, (_m, codes: string) => {
    let out = '</span>'.repeat(open);
    open = 0;
    for (const c of codes.split(';').map(Number)) {
      const style = c === 1 ? 'font-weight:bold' : c >= 30 && c <= 37 ? `color:${colors[c - 30]}` : c >= 90 && c <= 97 ? `color:${colors[c - 90]}` : undefined;
      if (!style) continue;
      out += `<span style="${style}">`;
      open++;
    }
    return out;
  });
  return `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><body style="margin:0;background:#1e1e1e"><div style="background:#3c3c3c;color:#ccc;font:13px sans-serif;padding:6px 12px">${esc(title)}</div><pre style="margin:0;padding:10px 12px;color:#e6e6e6;font:14px/1.35 'DejaVu Sans Mono',monospace">${body}${'</span>'.repeat(open)}</pre></body>`;
}

async function main(): Promise<void> {
  const size = arg('--size', '1g') as BenchSize;
  const out = path.resolve(arg('--out', path.join(ROOT, 'docs/progress.png')));
  const home = path.resolve(arg('--home', path.join(process.env.HOME ?? '/root', '.restore-drill-screenshot')));
  await mkdir(home, { recursive: true });
  const runtime = new DockerodeRuntime();
  const source = await ensureSampleSource({ runtime, flavor: 'mariadb', name: 'shop-orders', home: path.join(home, 'sources') });
  const rows = await withSession({ socket: source.socketPath }, { user: 'root' }, async (s) => {
    const have = await s.query<{ n: number }>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench' AND TABLE_NAME = 'orders'");
    if (Number(have[0]!.n) > 0) {
      const [c] = await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM bench.orders');
      if (Number(c!.n) === SIZES[size].orders) return totalRows(SIZES[size]);
    }
    process.stderr.write(`generating ${totalRows(SIZES[size]).toLocaleString('en')} rows (${size})...\n`);
    for (const sql of [...datasetSql(SIZES[size]), 'FLUSH BINARY LOGS']) await s.query(sql);
    return totalRows(SIZES[size]);
  });
  process.stderr.write(`source shop-orders: ${rows.toLocaleString('en')} rows\n`);
  const configPath = path.join(home, 'restore-drill.yaml');
  await writeFile(configPath, stringify({ home, sources: { 'shop-orders': { flavor: 'mariadb', connection: source.spec.connection, user: source.spec.user, passwordRef: source.spec.passwordRef, checks: { checksum: 'server' } } } }));
  const env = { ...process.env, RESTORE_DRILL_CONFIG: configPath, RESTORE_DRILL_HOME: home, RESTORE_DRILL_TASK_QUEUE: SESSION };
  const worker = spawn(process.execPath, [MAIN, 'worker'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const envArgs = Object.entries({ RESTORE_DRILL_CONFIG: configPath, RESTORE_DRILL_HOME: home, RESTORE_DRILL_TASK_QUEUE: SESSION }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await run('tmux', ['new-session', '-d', '-s', SESSION, '-x', String(COLUMNS), '-y', String(ROWS), ...envArgs, `node ${MAIN} drill shop-orders; sleep 600`]);
    let best = '';
    for (;;) {
      await new Promise((r) => setTimeout(r, 3000));
      const { stdout } = await run('tmux', ['capture-pane', '-e', '-p', '-t', SESSION]);
      const bar = /^ {2}restore +\[[█░]+\] +(\d+)%/m.exec(stdout);
      if (bar && /ETA/.test(stdout)) {
        best = stdout;
        if (Number(bar[1]) >= 40) break;
      }
      if (/^(PASSED|FAILED) /m.test(stdout)) break;
    }
    if (!best) throw new Error('the restore never showed its bar');
    const html = path.join(home, 'progress.html');
    const screen = best.replace(/\s+$/, '');
    await writeFile(html, terminalHtml(screen, `restore-drill drill shop-orders   (${rows.toLocaleString('en')} rows, tmux ${COLUMNS}x${ROWS})`));
    await screenshotToPng(html, out, { width: 1300, height: 60 + screen.split('\n').length * 19 });
    process.stderr.write(`screenshot: ${out}\n${best}\n`);
    // The drill runs on to its report: wait for it, so the picture is of a drill that passed.
    for (;;) {
      const { stdout } = await run('tmux', ['capture-pane', '-p', '-t', SESSION]);
      const verdict = /^(PASSED|FAILED) .*$/m.exec(stdout);
      if (verdict) {
        process.stderr.write(`${stdout}\n`);
        break;
      }
      await new Promise((r) => setTimeout(r, 5000));
    }
  } finally {
    await run('tmux', ['kill-session', '-t', SESSION]).catch(() => undefined);
    worker.kill('SIGTERM');
    // The worker registered a janitor schedule for its task queue, which lives no longer than this run.
    const connection = await Connection.connect({ address: temporalSettings().address });
    await new Client({ connection }).schedule.getHandle(`restore-drill-janitor-${SESSION}`).delete().catch(() => undefined);
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
