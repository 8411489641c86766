#!/usr/bin/env node
/** The restore-drill command line. Only this entry point exits the process. */
import { Command, Option } from 'commander';
import { isDrillError } from '../domain/errors';
import { registerCommands } from './commands';

const program = new Command();
program.name('restore-drill').description('Prove MySQL and MariaDB backups restore, and restore them to any point in time.').showHelpAfterError();
registerCommands(program);

program
  .command('demo')
  .description('Bring up a sample source with a live writer and run one drill against it (local Temporal and Docker).')
  .addOption(new Option('--flavor <flavor>', 'sample source flavor').choices(['mariadb', 'mysql']).default('mariadb'))
  .option('--json', 'print the report as JSON', false)
  .action(async (o: { flavor: 'mariadb' | 'mysql'; json: boolean }, cmd: Command) => {
    const { installCliLogging } = await import('./runtime');
    const globals = cmd.optsWithGlobals<{ logFormat?: string; logLevel?: string }>();
    installCliLogging({ format: globals.logFormat, level: globals.logLevel }, { format: 'pretty', level: 'warn' });
    const { runDemo } = await import('./demo');
    const passed = await runDemo({ flavor: o.flavor, json: o.json, log: (s) => console.error(s) });
    process.exitCode = passed ? 0 : 1;
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (isDrillError(err)) console.error(`restore-drill: ${err.type}: ${err.message}`);
  else console.error(`restore-drill: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(2);
});
