/** Host tools (tar) run as child processes, their stdin fed without stalling on a child that has gone. */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';

export /** A child process's stdout, and its exit (code and stderr tail) once it ends. */
function spawnTool(cmd: string, args: string[], stdin?: 'pipe'): { stdout: Readable; stdin: Writable | null; done: Promise<{ code: number; stderr: string }>; kill(): void } {
  const child = spawn(cmd, args, { stdio: [stdin ?? 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const done = new Promise<{ code: number; stderr: string }>((resolve) => {
    child.on('error', (err) => resolve({ code: -1, stderr: `${cmd}: ${err.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
  return { stdout: child.stdout!, stdin: child.stdin, done, kill: () => void (child.exitCode === null && child.kill('SIGKILL')) };
}

/**
 * A Writable that feeds a child process's stdin with back-pressure and, once the child is gone
 * (`gone` settles, or its stdin closes or fails), discards the rest instead of waiting for a
 * reader that will never come: tar may exit on a truncated archive while a write waits. One
 * listener of each kind for the whole stream: a listener per wait would pile up, one for
 * every time the pipe fills.
 */
export function feedChild(stdin: Writable, gone: Promise<unknown>): Writable {
  let childGone = false;
  let waiting: (() => void) | undefined;
  const wake = () => {
    const w = waiting;
    waiting = undefined;
    w?.();
  };
  const leave = () => {
    childGone = true;
    wake();
  };
  stdin.on('drain', wake);
  stdin.on('close', leave);
  stdin.on('error', leave);
  void gone.then(leave, leave);
  return new Writable({
    write: (c: Buffer, _e, done) => {
      if (childGone || stdin.destroyed || stdin.write(c)) return done();
      waiting = done;
    },
    final: (done) => {
      if (!childGone && !stdin.destroyed) stdin.end();
      done();
    },
  });
}
