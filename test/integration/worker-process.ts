/**
 * A drill worker in its own process (the real entry point, dist/workers/main.js), so a test
 * can SIGKILL it like the OOM killer would, and read everything it logged.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const entry = path.join(root, 'dist/workers/main.js');
const SOURCE_DIRS = ['domain', 'config', 'adapters', 'activities', 'workflows', 'workers', 'client', 'cli'];

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Compiles dist/ when any engine or CLI source is newer than the worker entry (about 40 s). */
export function ensureWorkerBuild(): void {
  const built = (() => {
    try {
      return statSync(entry).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestSourceMtime(path.join(root, d))));
  if (built > newest) return;
  try {
    execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
  } catch {
    // Type errors elsewhere still emit JavaScript; only a missing entry is fatal.
  }
  statSync(entry);
}

export interface WorkerProcess {
  readonly pid: number;
  /** Everything the worker wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function startWorkerProcess(opts: { taskQueue: string; home: string; env?: Record<string, string> }): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, RESTORE_DRILL_TASK_QUEUE: opts.taskQueue, RESTORE_DRILL_HOME: opts.home, RESTORE_DRILL_JANITOR_EVERY: 'off', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => void (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => void (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('worker polling')) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`worker exited before polling:\n${out}`));
    });
  });
  ready.catch(() => undefined);
  return {
    pid: child.pid!,
    output: () => out,
    ready,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
