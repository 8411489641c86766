/** `restore-drill worker`: the worker service (workers/entry.ts), with this command line's flags. */
import { runConfiguredWorker } from '../workers/entry';
import type { CliContext } from './context';

export async function runWorker(ctx: CliContext): Promise<number> {
  const { config, home, address, namespace, taskQueue } = ctx.options;
  await runConfiguredWorker({
    flags: { config, home, address, namespace, taskQueue },
    // stderr: stdout is for results.
    logging: { given: ctx.logging, defaults: { format: 'pretty', level: 'info' }, fd: 2 },
  });
  return 0;
}
