/**
 * Snapshots of the bisect's sandbox and rewinds to them. The datadir is copied while the
 * server is down: a hook is installed and the server shut down cleanly; a bisect's sandbox
 * starts it again itself after running the hook (its start script stays PID 1), an older one
 * is started again by Docker and runs the hook before the server (domain/bisect/snapshots.ts).
 * Idempotent: a retry after a crash at any point finishes the same copy.
 */
import { lstat, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { waitUntilAnswering, withSession } from '../../adapters/mysql';
import { BISECT_REDO_LOG_BYTES, RESTARTS_IN_PLACE, bisectServerOptionsScript, installHookScript, redoLogVariable, rewindHook, snapshotCompleteTest, snapshotHook } from '../../domain/bisect/snapshots';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { SANDBOX_HOOK_DIR_NAME } from '../../domain/flavors';
import { SandboxLabels, sandboxName } from '../../domain/naming';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import { assertOwnSandbox } from '../sandbox/sandbox';
import type { SandboxHandle } from '../types';

const STOP_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 600_000;
/** A restart takes well under a second: looks every few milliseconds, not every 100-500. */
const RESTART_POLL_MS = 10;
const REDO_RESIZE_WAIT_MS = 30_000;

async function exec(deps: ActivityDeps, name: string, script: string, what: string): Promise<void> {
  const out = await deps.runtime.exec(name, ['bash', '-c', script]);
  if (out.exitCode !== 0) throw new DrillError(DrillErrorTypes.ToolFailed, `${what} in sandbox ${name} failed (exit ${out.exitCode}): ${out.stderr.trim().slice(-600)}`);
}

/** Waits until the server answers; fails with its last output when the container stops meanwhile (a hook or the server failed). */
async function waitForServer(deps: ActivityDeps, sandbox: SandboxHandle): Promise<void> {
  await waitUntilAnswering(
    { socket: sandbox.socketPath },
    { user: 'root' },
    START_TIMEOUT_MS,
    async (attempt) => {
      if (attempt % 50 !== 0) return;
      const now = await deps.runtime.inspect(sandbox.name);
      if (now && !now.running) throw new DrillError(DrillErrorTypes.ToolFailed, `sandbox ${sandbox.name} exited with ${now.exitCode} while its datadir was copied: ${(await deps.runtime.logs(sandbox.name, 30)).trim().slice(-1500)}`);
    },
    RESTART_POLL_MS,
  );
}

/** Starts the container (its start script runs a pending hook first) and waits until the server answers. */
async function startAndWait(deps: ActivityDeps, sandbox: SandboxHandle): Promise<void> {
  await deps.runtime.start(sandbox.name);
  await waitForServer(deps, sandbox);
}

/**
 * Shrinks the redo log while the server runs, and keeps it small at every later start: each
 * snapshot and rewind copies it whole. Idempotent (an equal size is left alone).
 */
async function shrinkRedoLog(deps: ActivityDeps, sandbox: SandboxHandle): Promise<void> {
  const variable = redoLogVariable(sandbox.flavor);
  await withSession({ socket: sandbox.socketPath }, { user: 'root' }, async (s) => {
    const [row] = await s.query<Record<string, unknown>>(`SELECT @@GLOBAL.${variable} AS size`);
    if (Number(row?.size ?? 0) <= BISECT_REDO_LOG_BYTES) return;
    await s.query(`SET GLOBAL ${variable} = ${BISECT_REDO_LOG_BYTES}`);
    // MySQL shrinks in the background, as checkpoints free the larger files: wait for it
    // (bounded; a copy of a larger log is only slower). MariaDB's SET returns once resized.
    if (sandbox.flavor !== 'mysql') return;
    for (const started = Date.now(); Date.now() - started < REDO_RESIZE_WAIT_MS; await new Promise((r) => setTimeout(r, 50))) {
      const [status] = await s.query<Record<string, unknown>>("SHOW GLOBAL STATUS LIKE 'Innodb_redo_log_resize_status'");
      if (String(status?.Value ?? 'OK') === 'OK') return;
    }
  });
  await exec(deps, sandbox.name, bisectServerOptionsScript(sandbox.flavor), 'keeping the smaller redo log');
}

/** Shuts the server down cleanly (the container stops with it) and waits until Docker sees it stopped. */
async function shutDown(deps: ActivityDeps, sandbox: SandboxHandle): Promise<void> {
  await withSession({ socket: sandbox.socketPath }, { user: 'root' }, (s) => s.query('SHUTDOWN')).catch(() => undefined);
  const started = Date.now();
  while ((await deps.runtime.inspect(sandbox.name))?.running) {
    if (Date.now() - started > STOP_TIMEOUT_MS) throw new DrillError(DrillErrorTypes.Transient, `sandbox ${sandbox.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SHUTDOWN`);
    await new Promise((r) => setTimeout(r, RESTART_POLL_MS));
  }
}

/** The server's pid file, beside its socket in the folder the worker shares with the container. */
async function serverPid(sandbox: SandboxHandle): Promise<string> {
  return (await readFile(path.join(path.dirname(sandbox.socketPath), 'mysqld.pid'), 'utf8').catch(() => '')).trim();
}

/**
 * Installs a hook for the server's next start from the worker's side of the socket folder
 * (written with a rename, so a half-written one never runs). Refuses a hook folder anyone but
 * the worker could write in: the container runs its hooks as root.
 */
async function installHookInPlace(sandbox: SandboxHandle, hook: string): Promise<void> {
  const dir = path.join(path.dirname(sandbox.socketPath), SANDBOX_HOOK_DIR_NAME);
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)
    throw new DrillError(DrillErrorTypes.UnsafeTarget, `refusing to install a hook for sandbox ${sandbox.name}: its hook folder ${dir} is ${st ? `not a folder only this worker may write in (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid})` : 'missing'}`);
  const file = path.join(dir, 'on-start.sh');
  await writeFile(`${file}.new`, `${hook}\n`, { mode: 0o644 });
  await rename(`${file}.new`, file);
}

/**
 * Shuts the server down cleanly; the start script, seeing a hook pending, runs it and starts
 * the server again. The old server answers until its shutdown is well under way, so the wait
 * for the new one begins once the old one's pid file is gone (removed at the end of a shutdown).
 */
async function restartServerInPlace(deps: ActivityDeps, sandbox: SandboxHandle): Promise<void> {
  const before = await serverPid(sandbox);
  if (!before) throw new DrillError(DrillErrorTypes.ToolFailed, `sandbox ${sandbox.name} has no pid file beside its socket ${sandbox.socketPath}: its server cannot be restarted in place`);
  await withSession({ socket: sandbox.socketPath }, { user: 'root' }, (s) => s.query('SHUTDOWN')).catch(() => undefined);
  const started = Date.now();
  while ((await serverPid(sandbox)) === before) {
    if (Date.now() - started > STOP_TIMEOUT_MS) throw new DrillError(DrillErrorTypes.Transient, `the server of sandbox ${sandbox.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s of SHUTDOWN`);
    await new Promise((r) => setTimeout(r, RESTART_POLL_MS));
  }
  await waitForServer(deps, sandbox);
}

/** Restarts the sandbox's server with `hook` run while it is down. */
async function restartWithHook(deps: ActivityDeps, drillId: string, sandbox: SandboxHandle, hook: string, what: string): Promise<{ seconds: number; inPlace: boolean }> {
  const started = Date.now();
  const name = sandboxName(drillId);
  const info = assertOwnSandbox(await deps.runtime.inspect(name), name, drillId);
  const inPlace = info.labels[SandboxLabels.restarts] === RESTARTS_IN_PLACE;
  return withHeartbeat(
    () => ({ phase: 'bisect', step: what, seconds: Math.round((Date.now() - started) / 1000) }),
    async () => {
      // An earlier attempt stopped it: starting it runs (finishes) that attempt's hook first.
      if (!info.running) await startAndWait(deps, sandbox);
      // Or its server is still restarting, in place, from an earlier attempt.
      else if (inPlace) await waitForServer(deps, sandbox);
      await shrinkRedoLog(deps, sandbox);
      // The restart alone: the search prices later restarts by it, and the shrink happens once.
      const restarting = Date.now();
      if (inPlace) {
        await installHookInPlace(sandbox, hook);
        await restartServerInPlace(deps, sandbox);
      } else {
        await exec(deps, name, installHookScript(hook), `installing the ${what} hook`);
        await shutDown(deps, sandbox);
        await startAndWait(deps, sandbox);
      }
      return { seconds: (Date.now() - restarting) / 1000, inPlace };
    },
  );
}

export function bisectSnapshotActivities(deps: ActivityDeps) {
  return {
    /** Copies the stopped sandbox's datadir as the snapshot of `point` (kept inside the container). */
    async snapshotSandbox(req: { drillId: string; sandbox: SandboxHandle; point: number }): Promise<{ seconds: number }> {
      const { seconds, inPlace } = await restartWithHook(deps, req.drillId, req.sandbox, snapshotHook(req.point), `snapshot at point ${req.point}`);
      // Restarted in place, the server is up again only after the hook succeeded (a failed one ends the container).
      if (!inPlace) await exec(deps, req.sandbox.name, snapshotCompleteTest(req.point), `checking the snapshot at point ${req.point}`);
      return { seconds };
    },

    /** Puts the snapshot of `point` back as the sandbox's datadir: the sandbox stands at that point again. */
    async rewindSandbox(req: { drillId: string; sandbox: SandboxHandle; point: number }): Promise<{ seconds: number }> {
      const { seconds } = await restartWithHook(deps, req.drillId, req.sandbox, rewindHook(req.point), `rewind to point ${req.point}`);
      return { seconds };
    },
  };
}
