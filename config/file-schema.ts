/**
 * The configuration file (YAML): every source restore-drill drills, with its connection, secret
 * reference, schedule, RTO target, retention and checks, built on the request's parts in
 * config/schema.ts. Defaults beside keys.
 * Pure: parsing text and reading the file live in config/load.ts.
 */
import { z } from 'zod';
import { parseBackupLocation } from '../domain/artifacts/locations';
import { cronProblem } from '../domain/cron';
import { ALERT_KINDS } from '../domain/report/alerts';
import { isDrillError } from '../domain/errors';
import { assertionSpecSchema, connectionSchema, physicalSourceSchema, s3OptionsSchema, secretRefSchema, targetSchema } from './schema';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `90s`, `15m`, `4h`, `2d`, `1w` (or a plain number of seconds) → seconds; undefined when unreadable. */
export function durationSeconds(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : undefined;
}

const duration = z
  .union([z.string(), z.number()])
  .refine((v) => durationSeconds(v) !== undefined, { message: 'a duration such as 90s, 15m, 4h or 2d (units ms, s, m, h, d, w)' })
  .transform((v) => durationSeconds(v)!);

const SIZE = /^(\d+(?:\.\d+)?)\s*([mMgG])i?[bB]?$/;

/** `512m`, `2g`, `1.5GiB` (or a plain number of MiB) → MiB; undefined when unreadable. */
export function sizeMb(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isInteger(text) && text > 0 ? text : undefined;
  const m = SIZE.exec(text.trim());
  return m ? Math.round(Number(m[1]) * (m[2]!.toLowerCase() === 'g' ? 1024 : 1)) : undefined;
}

const memorySize = z
  .union([z.string(), z.number()])
  .refine((v) => (sizeMb(v) ?? 0) >= 64, { message: 'a memory size of at least 64m, such as 512m, 2g or 1.5g (a plain number is MiB)' })
  .transform((v) => sizeMb(v)!);

/** Memory and CPU limits of a container: `memory: 2g`, `cpus: 1.5`. */
const containerLimitsConfig = {
  memory: memorySize.optional(),
  cpus: z.number().positive().max(1024).optional(),
};

/** `host:port` an HTTP exporter binds, e.g. 127.0.0.1:9464 or [::1]:9464. */
export const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port, e.g. 127.0.0.1:9464');

/** Five cron fields (minute hour day-of-month month day-of-week), or a Temporal shorthand like @daily, read by a cron library. */
const cron = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: `a cron expression with five fields, e.g. "30 2 * * *" for 02:30 every night, or @daily (${problem})` });
});

export const scheduleConfigSchema = z
  .object({
    cron,
    /** IANA zone the cron is read in. */
    timezone: z.string().min(1).default('UTC'),
    /** Random delay added to each run, so many sources do not all start at 02:30:00. */
    jitter: duration.default(0),
    /** How late a missed run (server down) may still start; older ones are skipped. */
    catchupWindow: duration.default(3600),
    /** Where scheduled drills stop replaying. */
    target: targetSchema.default({ kind: 'checkpoint' }),
    paused: z.boolean().default(false),
    /** How often the binlog archiver copies what the source wrote: the recovery point objective between drills. */
    archiveEvery: duration.default(900),
  })
  .strict();

export const retentionConfigSchema = z
  .object({
    /**
     * Published backups kept per source (the newest by binlog coordinates); the janitor removes
     * older ones, and the archived binlogs only they needed. At least 1: the newest is never removed.
     */
    keepBackups: z
      .number()
      .refine((n) => Number.isInteger(n) && n >= 1, { message: 'a whole number of backups, at least 1 (the newest backup is never removed)' })
      .default(7),
    /** Also keep every backup younger than this (e.g. 14d), however many there are. */
    keepBackupsFor: duration.optional(),
    /** Reports kept per source, for `history`. */
    keepReports: z.number().int().min(1).default(90),
  })
  .strict();

export const backupConfigSchema = z
  .object({
    /** 'logical': mysqldump / mariadb-dump; 'physical': mariabackup (MariaDB) or the clone plugin (MySQL). */
    method: z.enum(['logical', 'physical']).default('logical'),
    /** Databases to back up and verify; absent means every user database. */
    databases: z.array(z.string().min(1)).min(1).optional(),
    /** Physical backups: datadir / container (MariaDB), cloneDir { server, worker } (MySQL), prepareMemoryMb. */
    physical: physicalSourceSchema.optional(),
    /** A backup the source interrupts (lost connection, DDL, lock wait) is taken up to this many times in all; absent: the engine's default (3). */
    attempts: z.number().int().min(1).max(10).optional(),
    /** The wait before the second attempt, doubling after each; absent: the engine's default (30s). */
    retryDelay: duration.optional(),
    /** `incremental` (MariaDB, method physical): each backup an increment on the newest one (mariabackup --incremental-basedir); a full one starts each chain. */
    kind: z.enum(['full', 'incremental']).optional(),
    /** Increments in a chain before the next backup is a full one again (default 6: a weekly full with nightly drills). */
    maxIncrements: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .refine((b) => b.kind !== 'incremental' || b.method === 'physical', { message: 'method: physical with kind: incremental (incremental backups are mariabackup chains)', path: ['kind'] });

/** A team's own backups of the source, made by its own tooling, where it keeps them. */
export const teamBackupsSchema = z
  .object({
    /** A folder, a file pattern in one (/backups/orders/*.sql.gz) or s3://bucket/prefix/. */
    location: z.string().min(1),
    s3: s3OptionsSchema.optional(),
    /** Which backup a drill takes: the newest, the oldest (proves retention), or a random one of the last `randomWithinDays`. */
    pick: z.enum(['latest', 'oldest', 'random']).default('latest'),
    randomWithinDays: z.number().positive().default(7),
    /** A backup smaller than this fraction of the last good one is refused (BackupTooSmall). */
    minSizeRatio: z.number().min(0).max(1).default(0.5),
  })
  .strict()
  .superRefine((v, ctx) => {
    try {
      parseBackupLocation(v.location, v.s3 ?? {});
    } catch (err) {
      if (!isDrillError(err)) throw err;
      ctx.addIssue({ code: 'custom', path: ['location'], message: err.message });
    }
  });
export type TeamBackupsConfig = z.infer<typeof teamBackupsSchema>;

/**
 * Where a source's alerts go (docs/operations.md, "Alerts"). The URL is a secret (a Slack
 * webhook URL lets anyone post): a reference read on the worker when an alert is sent.
 * `events`: which alerts this destination gets; absent: all of them.
 */
const alertEvents = z.array(z.enum(ALERT_KINDS)).min(1).optional();
const alertName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/, 'a short name of letters, digits, _ . and -, e.g. dba-slack').optional();
export const alertDestinationSchema = z.discriminatedUnion('type', [
  /** A Slack-compatible incoming webhook: text and blocks. */
  z.object({ type: z.literal('slack'), name: alertName, urlRef: secretRefSchema, events: alertEvents }).strict(),
  /** Any HTTP endpoint: the alert as JSON, signed with HMAC-SHA256 under the shared secret. */
  z.object({ type: z.literal('webhook'), name: alertName, urlRef: secretRefSchema, secretRef: secretRefSchema, events: alertEvents }).strict(),
]);
export type AlertDestinationConfig = z.infer<typeof alertDestinationSchema>;

export const sourceConfigSchema = z
  .object({
    /** `auto` detects it from SELECT VERSION(). */
    flavor: z.enum(['auto', 'mysql', 'mariadb']).default('auto'),
    /** Expected server version prefix (e.g. "10.11"); `doctor` warns when the server differs. */
    version: z.union([z.string(), z.number()]).transform(String).optional(),
    connection: connectionSchema,
    user: z.string().min(1),
    passwordRef: secretRefSchema.optional(),
    /** Image whose server and client tools match the source. */
    image: z.string().min(1).optional(),
    /** The task queue of the workers that reach this source (one per network zone; docs/deployment.md); absent: temporal.taskQueue. */
    taskQueue: z.string().min(1).optional(),
    backup: backupConfigSchema.default({ method: 'logical' }),
    /** Backups the team already takes (cron dumps, mariabackup, mydumper): listed by `backups`, checked by `verify`. */
    teamBackups: teamBackupsSchema.optional(),
    schedule: scheduleConfigSchema.optional(),
    /** A drill whose RTO exceeds this is marked as missing its target. */
    rtoTarget: duration.optional(),
    /**
     * The recovery point objective: the most writes a recovery may lose. Judged against the
     * binlog archive's lag (keep archiveEvery well under it), each drill's RPO, and the age of a
     * team's newest backup. Absent: no objective, nothing judged.
     */
    rpoTarget: duration.optional(),
    /** Slack and signed JSON webhooks for this source's alerts; the worker's RESTORE_DRILL_WEBHOOK_URL gets them too. */
    alerts: z
      .array(alertDestinationSchema)
      .refine((list) => new Set(list.map((d, i) => d.name ?? `${d.type}-${i + 1}`)).size === list.length, { message: 'destination names that differ from one another (name: …)' })
      .default([]),
    retention: retentionConfigSchema.default({ keepBackups: 7, keepReports: 90 }),
    /** missingDefiners: what a drill does with a definer the sandbox lacks (config/schema.ts: 'create' a locked account, or 'fail'). */
    checks: z
      .object({ assertions: z.array(assertionSpecSchema).default([]), checksum: z.enum(['rows', 'server']).default('rows'), missingDefiners: z.enum(['create', 'fail']).default('create') })
      .strict()
      .default({ assertions: [], checksum: 'rows', missingDefiners: 'create' }),
    /** How long `pitr` keeps its sandbox unless extended or released. */
    sandboxTtl: duration.default(4 * 3600),
    /** The sandbox's InnoDB buffer pool in MiB; absent: sized from the backup, at most a quarter of the worker host's memory. */
    sandboxBufferPoolMb: z.number().int().min(128).optional(),
    /**
     * The sandbox container's limits (domain/resources.ts). memory absent: its buffer pool + 1 GiB,
     * at most half the worker host's memory; cpus absent: none. maxMemory: the most the one retry
     * after the kernel killed it for lack of memory may give it (absent: half the host's memory).
     */
    sandbox: z.object({ ...containerLimitsConfig, maxMemory: memorySize.optional() }).strict().optional(),
    /** The tool containers' limits (dump, binlog copy, prepare). memory absent: 2 GiB, at most half the host's memory. */
    tools: z.object(containerLimitsConfig).strict().optional(),
  })
  .strict();

/**
 * Where the engine keeps its own backups, binlog archive and reports (docs/operations.md,
 * "Artifact store"): a folder on the worker host or s3://bucket/prefix/ with the server and key
 * references in `s3`. Absent: the folder `<home>/artifacts`.
 */
export const storeConfigSchema = z
  .object({
    location: z.string().min(1),
    s3: s3OptionsSchema.optional(),
    /** Artifacts at least this big (MiB) are uploaded in parts (default 64), each `partMb` (default 16). */
    multipartThresholdMb: z.number().int().min(5).max(5120).optional(),
    partMb: z.number().int().min(5).max(5120).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    try {
      const location = parseBackupLocation(v.location, v.s3 ?? {});
      if (location.pattern !== undefined) ctx.addIssue({ code: 'custom', path: ['location'], message: `'${v.location}' holds a file pattern; the store is a folder (/var/lib/restore-drill/artifacts) or a bucket prefix (s3://bucket/prefix/)` });
    } catch (err) {
      if (!isDrillError(err)) throw err;
      ctx.addIssue({ code: 'custom', path: ['location'], message: err.message.replace(/^backup location/, 'store location') });
    }
  });
export type StoreConfig = z.infer<typeof storeConfigSchema>;

const sourceName = /^[a-z0-9][a-z0-9_-]{0,40}$/;

/** A host name as it appears in a task queue (`<queue>@<host>`) and on sandbox labels. */
export const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a host name of letters, digits, _ . and - (at most 63), e.g. db-drill-1');

export const workerConfigSchema = z
  .object({
    /** The name sandboxes placed on this worker report; absent: the machine's host name. */
    host: hostName.optional(),
    /** What this host runs at once: drills wait for a host with a free sandbox slot; memory caps each sandbox at its share. */
    capacity: z
      .object({
        sandboxes: z.number().int().min(1).max(64).default(2),
        /** Memory the host gives all its sandboxes together; each gets at most memory / sandboxes (absent: half the host's memory in all). */
        memory: memorySize.optional(),
      })
      .strict()
      .default({ sandboxes: 2 }),
    /** Per-drill scratch (sandbox sockets, restored datadirs): local to this host; default <home>/work. */
    workDir: z.string().startsWith('/', 'an absolute path').optional(),
  })
  .strict();
export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export const configFileSchema = z
  .object({
    /** Optional; environment variables TEMPORAL_ADDRESS etc. take precedence. */
    temporal: z
      .object({ address: z.string().min(1).optional(), namespace: z.string().min(1).optional(), taskQueue: z.string().min(1).optional() })
      .strict()
      .optional(),
    /** Prometheus metrics of the worker service (docs/operations.md, "Metrics"); absent: none served. */
    metrics: z
      .object({
        /** host:port of restore-drill's own /metrics, e.g. 127.0.0.1:9464. */
        listen: listenAddress,
        /** host:port of the Temporal SDK's runtime metrics (its own exporter, a second port); absent: not exported. */
        temporalListen: listenAddress.optional(),
      })
      .strict()
      .optional(),
    /** The worker's own folder: work folders, and artifacts unless `store` says otherwise (default ~/.restore-drill). */
    home: z.string().startsWith('/', 'an absolute path').optional(),
    /** This worker host: its name, its sandbox capacity and its scratch folder. */
    worker: workerConfigSchema.optional(),
    /** Where backups, the binlog archive and reports are kept; absent: `<home>/artifacts`. */
    store: storeConfigSchema.optional(),
    sources: z
      .record(z.string().regex(sourceName, 'a source name of lowercase letters, digits, - and _ (at most 41), starting with a letter or digit'), sourceConfigSchema)
      .refine((sources) => Object.keys(sources).length > 0, { message: 'at least one source under sources:' }),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
export type SourceConfig = z.infer<typeof sourceConfigSchema>;
export type ScheduleConfig = z.infer<typeof scheduleConfigSchema>;
