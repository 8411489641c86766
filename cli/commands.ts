/**
 * Every operator command of the CLI, registered on the program by one call from cli/main.ts.
 * Commands return an exit code; only the entry point exits.
 */
import { Command, Option } from 'commander';
import type { CliContext, GlobalOptions } from './context';
import { createContext, emit } from './context';
import type { VerifyOptions } from './backups';

// Each command loads its own modules when it runs: `verify` in a cron job starts in a fraction of
// the time the Temporal worker and client libraries take to load.
const backups = () => import('./backups');
const bisect = () => import('./bisect');
const doctor = () => import('./doctor');
const drills = () => import('./drills');
const history = () => import('./history');
const schedules = () => import('./schedules');
const worker = () => import('./worker');

/** Runs a command with a context built from the global options; sets the exit code; always closes the connection. */
function run<A extends unknown[]>(fn: (ctx: CliContext, ...args: A) => Promise<number>) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const ctx = createContext(cmd.optsWithGlobals<GlobalOptions>());
    try {
      process.exitCode = await fn(ctx, ...(args.slice(0, -1) as A));
    } finally {
      await ctx.close();
    }
  };
}

export function registerCommands(program: Command): void {
  program
    .option('-c, --config <file>', 'configuration file (default $RESTORE_DRILL_CONFIG, ./restore-drill.yaml, /etc/restore-drill/restore-drill.yaml)')
    .option('--address <host:port>', 'Temporal frontend (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <name>', 'Temporal namespace (default $TEMPORAL_NAMESPACE or default)')
    .option('--task-queue <name>', 'task queue the workers poll (default $RESTORE_DRILL_TASK_QUEUE or restore-drill)')
    .option('--home <dir>', 'where backups, binlog archives and reports live (default $RESTORE_DRILL_HOME or ~/.restore-drill)')
    .option('--json', 'print results as JSON (for scripts); progress still goes to stderr', false)
    .addOption(new Option('--log-format <format>', 'log lines of a worker run by this command (worker, demo) on stderr: JSON lines or pretty (default $RESTORE_DRILL_LOG_FORMAT or pretty)').choices(['json', 'pretty']))
    .addOption(new Option('--log-level <level>', 'least severe log line written (default $RESTORE_DRILL_LOG_LEVEL, info for worker, warn for demo)').choices(['trace', 'debug', 'info', 'warn', 'error']))
    .configureHelp({ showGlobalOptions: true });

  program
    .command('drill')
    .description('Run a drill of a configured source now: back up, restore into a sandbox, replay binlogs, check, clean up; print the report.')
    .argument('<source>', 'source name from the configuration file')
    .option('--target <target>', 'where replay stops: checkpoint (default), latest, a time with zone, file:pos, a GTID, before:<pattern>')
    .option('--no-wait', 'start it and print its id without waiting')
    .option('--backup <which>', "the team's backup to drill: latest, oldest, random (within teamBackups.randomWithinDays), a path or an s3:// URL; own: take a new backup (default: teamBackups.pick when the source has teamBackups, else own)")
    .addHelpText('after', '\nExamples:\n  restore-drill drill sample-mariadb\n  restore-drill drill orders --backup random\n  restore-drill drill orders --backup /backups/orders/orders-2026-12-01.sql.gz\n  restore-drill drill sample-mariadb --json | jq .report.rtoSeconds\n')
    .action(run(async (ctx, source: string, o: { target?: string; wait: boolean; backup?: string }) => (await drills()).drillCommand(ctx, source, o)));

  program
    .command('pitr')
    .description('Restore a source to a point in time into a sandbox that is kept for you; print how to connect to it.')
    .argument('<source>', 'source name from the configuration file')
    .option('--to <target>', 'a time with zone (2026-11-21T14:37:00Z), a position (mysql-bin.000042:1234), a GTID (uuid:n or d-s-n), or latest')
    .option('--before-event <pattern>', 'stop just before the first transaction whose statement matches, e.g. "DROP TABLE grades"')
    .option('--ttl <duration>', 'how long the sandbox is kept (default: sandboxTtl of the source, 4h)')
    .option('--backup <which>', "start from this backup: a published manifest.json, or a team's backup (latest, oldest, a path or an s3:// URL); default: the newest backup before the target, own or adopted")
    .option('--skip <gtid|file:start-end>', 'leave this transaction out of the replay (a bad UPDATE) and replay on past it; repeatable', (v: string, all: string[] = []) => [...all, v])
    .addHelpText(
      'after',
      '\nExamples:\n  restore-drill pitr sample-mariadb --to 2026-11-21T14:37:00Z\n  restore-drill pitr sample-mariadb --before-event "DROP TABLE grades" --ttl 2h\n  restore-drill pitr sample-mysql --to mysql-bin.000003:4711\n  restore-drill pitr sample-mariadb --to latest --skip 0-1-4711\n  restore-drill pitr sample-mysql --to latest --skip mysql-bin.000004:1234-5678\n',
    )
    .action(run(async (ctx, source: string, o: { to?: string; beforeEvent?: string; ttl?: string; backup?: string; skip?: string[] }) => (await drills()).pitrCommand(ctx, source, o)));

  program
    .command('bisect')
    .description('Find the archived transaction after which a consistency query first fails: restore a backup once into a sandbox, replay forward in steps, print the culprit and the PITRs that undo it.')
    .argument('<source>', 'source name from the configuration file')
    .requiredOption('--query <sql>', 'one read-only query that tells consistent data, e.g. "SELECT COUNT(*) FROM shop.orders o LEFT JOIN shop.customers c ON c.id = o.customer_id WHERE c.id IS NULL"')
    .requiredOption('--expect <zero|nonzero|value>', 'what the query returns while the data is consistent')
    .option('--from <manifest.json>', 'restore this published backup (default: the newest one before --to)')
    .option('--to <target>', 'end of the search: a time with zone, a position, a GTID, or latest (default)')
    .addHelpText('after', '\nExample:\n  restore-drill bisect sample-mariadb --query "SELECT COUNT(*) FROM university.enrollments e LEFT JOIN university.courses c ON c.id = e.course_id WHERE c.id IS NULL" --expect zero\n')
    .action(run(async (ctx, source: string, o: { query: string; expect: string; from?: string; to?: string }) => (await bisect()).bisectCommand(ctx, source, o)));

  program
    .command('extend')
    .description('Keep the sandbox of a pitr longer.')
    .argument('<id>', 'drill id (workflow id) printed by pitr')
    .requiredOption('--by <duration>', 'extra time, e.g. 30m, 2h, 1d')
    .addHelpText('after', '\nExample:\n  restore-drill extend pitr-sample-mariadb-20261121T143700Z --by 2h\n')
    .action(run(async (ctx, id: string, o: { by: string }) => (await drills()).extendCommand(ctx, id, o.by)));

  program
    .command('release')
    .description('Remove the sandbox of a pitr now (it would expire by itself after its TTL).')
    .argument('<id>', 'drill id (workflow id) printed by pitr')
    .option('--no-wait', 'return without waiting for the removal')
    .action(run(async (ctx, id: string, o: { wait: boolean }) => (await drills()).releaseCommand(ctx, id, o)));

  program
    .command('status')
    .description('Show where a drill is: run status, phases, kept sandbox, outcome.')
    .argument('<id>', 'drill id (workflow id)')
    .action(run(async (ctx, id: string) => (await drills()).statusCommand(ctx, id)));

  program
    .command('history')
    .description('Past drills of a source, newest first, with outcome, RTO (and whether it met the target) and RPO.')
    .argument('<source>', 'source name')
    .addOption(new Option('--limit <n>', 'at most this many').default(20).argParser((v) => Number.parseInt(v, 10)))
    .option('--plot <file.svg|file.png>', 'also draw RTO per phase (stacked bars) and outcome over time from the stored reports; .png needs chromium')
    .addHelpText('after', '\nExamples:\n  restore-drill history sample-mariadb\n  restore-drill history sample-mariadb --limit 90 --plot rto.svg\n')
    .action(run(async (ctx, source: string, o: { limit: number; plot?: string }) => (await history()).historyCommand(ctx, source, o)));

  program
    .command('doctor')
    .description('Preflight: Docker engine and images, Temporal and its search attributes, source privileges, binlog_format=ROW, binlog retention against the schedule, free disk.')
    .argument('[source]', 'check only this source')
    .action(run(async (ctx, source: string | undefined) => (await doctor()).doctorCommand(ctx, source)));

  const config = program.command('config').description('The configuration file.');
  config
    .command('validate')
    .description('Validate the configuration file and list its sources; every bad key is named with its fix.')
    .action(
      run(async (ctx) => {
        const loaded = ctx.config();
        emit(ctx, loaded, () => `${loaded.path}: ${Object.keys(loaded.sources).length} source(s): ${Object.keys(loaded.sources).join(', ')}`);
        return 0;
      }),
    );

  const schedule = program.command('schedule').description('Nightly drills on Temporal Schedules (one per source, overlap SKIP, catch-up window, jitter).');
  schedule
    .command('create')
    .description("Create or update the schedule of a source from its config 'schedule:' (idempotent).")
    .argument('[source]', 'source name')
    .option('--all', 'every source that has a schedule', false)
    .addHelpText('after', '\nExamples:\n  restore-drill schedule create sample-mariadb\n  restore-drill schedule create --all\n')
    .action(run(async (ctx, source: string | undefined, o: { all: boolean }) => (await schedules()).scheduleCreate(ctx, source, o)));
  schedule.command('list').description('All restore-drill schedules with next run and counts.').action(run(async (ctx) => (await schedules()).scheduleList(ctx)));
  schedule
    .command('describe')
    .description('One schedule: spec, policies, next runs, running and recent drills, skipped runs.')
    .argument('<source>', 'source name')
    .action(run(async (ctx, source: string) => (await schedules()).scheduleDescribe(ctx, source)));
  schedule
    .command('pause')
    .description('Pause the nightly drills of a source.')
    .argument('<source>', 'source name')
    .option('--note <text>', 'why (shown in describe and the Temporal UI)')
    .action(run(async (ctx, source: string, o: { note?: string }) => (await schedules()).schedulePause(ctx, source, true, o.note)));
  schedule
    .command('unpause')
    .description('Resume the nightly drills of a source.')
    .argument('<source>', 'source name')
    .option('--note <text>', 'why')
    .action(run(async (ctx, source: string, o: { note?: string }) => (await schedules()).schedulePause(ctx, source, false, o.note)));
  schedule
    .command('trigger')
    .description('Run the scheduled drill now (skipped if one is still running).')
    .argument('<source>', 'source name')
    .action(run(async (ctx, source: string) => (await schedules()).scheduleTrigger(ctx, source)));
  schedule
    .command('delete')
    .description('Delete the schedule of a source (running drills continue).')
    .argument('<source>', 'source name')
    .action(run(async (ctx, source: string) => (await schedules()).scheduleDelete(ctx, source)));

  program
    .command('verify')
    .description("Check a backup file without restoring it: format by content, whole stream decompressed, unchanged while read, a dump's completion trailer. Exit 0 when it passes, 1 when it does not.")
    .argument('<path or URL>', 'a backup file or s3://bucket/key: mysqldump / mariadb-dump output (plain, gzip, zstd, xz), a mariabackup tar or xbstream')
    .addOption(new Option('--previous-bytes <n>', 'size of the last good backup: refuse this one when much smaller').argParser((v) => Number.parseInt(v, 10)))
    .addOption(new Option('--min-size-ratio <r>', 'with --previous-bytes: the smallest acceptable fraction (default 0.5)').argParser(Number.parseFloat))
    .option('--endpoint <url>', 's3:// only: http(s)://host:port of the S3-compatible server (default: the settings of the configured source whose teamBackups bucket it is)')
    .option('--region <name>', 's3:// only: region (default us-east-1)')
    .option('--access-key-id-ref <ref>', 's3:// only: env:VARIABLE or file:/path holding the access key id')
    .option('--secret-access-key-ref <ref>', 's3:// only: env:VARIABLE or file:/path holding the secret key')
    .addHelpText('after', '\nAs the last line of a cron backup job:\n  mysqldump --single-transaction --source-data=2 shop | gzip > /backups/shop.sql.gz && restore-drill verify /backups/shop.sql.gz\n')
    .action(run(async (ctx, where: string, o: VerifyOptions) => (await backups()).verifyCommand(ctx, where, o)));

  program
    .command('backups')
    .description("List a source's own backups (its teamBackups location: a folder or an S3 prefix), newest first, with time, size and the format read from each file's first bytes.")
    .argument('<source>', 'source name from the configuration file')
    .addOption(new Option('--limit <n>', 'at most this many').default(20).argParser((v) => Number.parseInt(v, 10)))
    .action(run(async (ctx, source: string, o: { limit: number }) => (await backups()).backupsCommand(ctx, source, o)));

  program
    .command('worker')
    .description('Run a drill worker until SIGINT/SIGTERM (graceful: in-flight activities get 30 s).')
    .action(run(async (ctx) => (await worker()).runWorker(ctx)));
}
