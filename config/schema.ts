/**
 * What a drill request holds (a source, its backup, target and checks), as workflows receive it.
 * config/file-schema.ts builds the configuration file from these parts. Defaults sit beside
 * their keys; secrets are references, never values.
 */
import { z } from 'zod';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import { MAX_APPLIER_WORKERS } from '../domain/replay/parallel-apply';
import type { TargetRequest } from '../domain/recovery/targets';
import { AssertionExpectSchema } from '../domain/checks/assertions';

export const secretRefSchema = z.union([
  z.object({ file: z.string().min(1).describe('path of a file on the worker host holding only the secret') }).strict(),
  z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as SOURCE_PASSWORD') }).strict(),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

const sourceName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'lowercase letters, digits, - and _ (at most 41), starting with a letter or digit');

export const connectionSchema = z.union([
  z.object({ socket: z.string().startsWith('/', 'an absolute path to the server socket') }).strict(),
  z.object({
    host: z.string().regex(/^(127\.\d+\.\d+\.\d+|localhost|::1|[a-zA-Z0-9.-]+)$/, 'a host name or address'),
    port: z.number().int().min(1).max(65535).default(3306),
  }).strict(),
]);

/**
 * MariaDB (mariabackup) reads the datadir: `datadir` is its path on the worker's host, or
 * `container` names the source's Docker container whose datadir mount is used. MySQL (clone
 * plugin) writes a clone into `cloneDir.server` (a folder the source server can write) that
 * the worker reads at `cloneDir.worker`.
 */
export const physicalSourceSchema = z.object({
  datadir: z.string().startsWith('/', 'an absolute path on the worker host').optional(),
  container: z.string().min(1).optional(),
  cloneDir: z.object({
    server: z.string().startsWith('/', 'an absolute path as the source server sees it'),
    worker: z.string().startsWith('/', 'an absolute path as the worker sees it'),
  }).strict().optional(),
  /** mariabackup --prepare --use-memory, in MiB: the redo applied in memory, not page by page. */
  prepareMemoryMb: z.number().int().min(64).default(1024),
}).strict();

/** Memory (MiB) and CPU (cores) limits of a container the engine starts; absent: derived (domain/resources.ts). */
export const containerLimitsSchema = z.object({
  memoryMb: z.number().int().min(64).optional(),
  cpus: z.number().positive().max(1024).optional(),
}).strict();
export type ContainerLimits = z.infer<typeof containerLimitsSchema>;

/** The sandbox's limits, and the most memory a retry after the kernel killed it for lack of memory may give it. */
export const sandboxLimitsSchema = containerLimitsSchema.extend({
  maxMemoryMb: z.number().int().min(64).optional(),
}).strict();

export const sourceSchema = z.object({
  name: sourceName,
  flavor: z.enum(['mysql', 'mariadb']).optional().describe('auto-detected from SELECT VERSION() when absent'),
  connection: connectionSchema,
  user: z.string().min(1),
  passwordRef: secretRefSchema.optional(),
  /** Image whose server and client tools match the source (dump, binlog, sandbox). */
  image: z.string().min(1).optional(),
  /** Databases to back up and verify; absent means every user database. */
  databases: z.array(z.string().min(1)).min(1).optional(),
  /** Where a physical backup finds the source's files (README, "Physical backups"). */
  physical: physicalSourceSchema.optional(),
  /** Limits of the tool containers run for this source (dump, binlog copy, prepare). */
  tools: containerLimitsSchema.optional(),
}).strict();
export type SourceSpec = z.infer<typeof sourceSchema>;

export const assertionSpecSchema = z.object({
  name: z.string().min(1),
  sql: z.string().min(1).describe('a read-only SELECT run in the restored sandbox'),
  /** The first column of the first row must equal this; or 'nonzero' / 'zero' / 'rows' (at least one row) / 'empty'. */
  expect: z.union([z.string(), z.number(), z.enum(['nonzero', 'zero', 'rows', 'empty'])]),
}).strict();
export type AssertionSpec = z.infer<typeof assertionSpecSchema>;

export const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('checkpoint') }).strict(),
  z.object({ kind: z.literal('latest') }).strict(),
  z.object({ kind: z.literal('time'), at: z.string().regex(/(Z|[+-]\d\d:?\d\d)$/, 'an ISO-8601 time with an explicit zone (Z or +hh:mm)') }).strict(),
  z.object({ kind: z.literal('position'), file: z.string().min(1), position: z.number().int().min(4) }).strict(),
  z.object({ kind: z.literal('gtid'), gtid: z.string().min(3) }).strict(),
  z.object({ kind: z.literal('beforeEvent'), pattern: z.string().min(3) }).strict(),
]) satisfies z.ZodType<TargetRequest>;
/** The request form of a target; the domain resolves it to a RecoveryTarget (resolveTargetRequest). */
export type { TargetRequest };

export const s3OptionsSchema = z
  .object({
    /** http(s)://host[:port] of an S3-compatible server; absent: AWS S3. */
    endpoint: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    /** Bucket in the path, not the host name (default: true with an endpoint). */
    forcePathStyle: z.boolean().optional(),
    accessKeyIdRef: secretRefSchema.optional(),
    secretAccessKeyRef: secretRefSchema.optional(),
  })
  .strict();

/**
 * A team's own backup to drill instead of taking one: where the team keeps them, and which one.
 * The engine only reads there; credentials are references.
 */
export const teamBackupRequestSchema = z.object({
  location: z.string().min(1),
  s3: s3OptionsSchema.optional(),
  /** latest, oldest, random (within randomWithinDays), or one object's name relative to the location. */
  pick: z.union([z.enum(['latest', 'oldest', 'random']), z.object({ key: z.string().min(1) }).strict()]).default('latest'),
  randomWithinDays: z.number().positive().default(7),
  minSizeRatio: z.number().min(0).max(1).default(0.5),
}).strict();
export type TeamBackupRequest = z.infer<typeof teamBackupRequestSchema>;

export const drillRequestSchema = z.object({
  source: sourceSchema,
  /**
   * `manifest`: restore an existing, already published backup instead of taking one (its
   * manifest's `kind` then decides the restore path). `method`: what a new backup is:
   * 'logical' (a dump) or 'physical' (mariabackup on MariaDB, the clone plugin on MySQL).
   * `attempts` / `retryDelaySeconds`: a backup the source interrupts (lost connection, DDL, lock
   * wait timeout) is taken again up to `attempts` times in all, the delay doubling each time
   * (domain/backups/attempts.ts has the defaults). `kind` / `maxIncrements`: incremental chains
   * of physical MariaDB backups (domain/physical/chain.ts).
   */
  backup: z
    .object({
      manifest: z
        .string()
        .refine((v) => v.startsWith('/') || v.startsWith('s3://'), { message: "a published manifest.json: its absolute path, or s3://bucket/key in the worker's S3 store" })
        .optional(),
      method: z.enum(['logical', 'physical']).default('logical'),
      team: teamBackupRequestSchema.optional(),
      attempts: z.number().int().min(1).max(10).optional(),
      retryDelaySeconds: z.number().min(0).max(3600).optional(),
      /** 'incremental': a MariaDB physical backup taken on the newest one (mariabackup --incremental-basedir), a full one to start or after `maxIncrements` increments. Absent: full. */
      kind: z.enum(['full', 'incremental']).optional(),
      /** Increments per chain before the next backup is a full one again; absent: 6. */
      maxIncrements: z.number().int().min(1).max(100).optional(),
    })
    .strict()
    .refine((b) => b.kind !== 'incremental' || b.method === 'physical', { message: 'kind: incremental needs method: physical (incremental backups are mariabackup chains)', path: ['kind'] })
    .optional(),
  /** Where the replay stops. 'checkpoint': a consistent snapshot of the source taken after the backup, compared table by table. */
  target: targetSchema.default({ kind: 'checkpoint' }),
  /** Transactions to leave out of the replay (a bad UPDATE): by GTID, or by exact byte range in the archive. */
  skip: z.array(z.union([
    z.object({ gtid: z.string().min(3) }).strict(),
    z.object({ file: z.string().min(1), startPosition: z.number().int().min(4), endPosition: z.number().int().min(5) }).strict(),
  ])).default([]),
  /** How binlogs are replayed: 'applier' hands them to the sandbox's own SQL thread as relay logs (fast); 'client' pipes mysqlbinlog into the client (the fallback). */
  replayMethod: z.enum(['applier', 'client']).default('applier'),
  /**
   * Worker threads of MySQL's multi-threaded applier (replayMethod: 'applier'). Absent: one
   * per core of the sandbox, at most 4. MariaDB: 0 only (one SQL thread; its parallel
   * replication crashes on relay logs made of binlog files). See docs/performance.md.
   */
  replayWorkers: z.number().int().min(0).max(MAX_APPLIER_WORKERS).optional(),
  /** How the dump is loaded: 'parallel' feeds table chunks to several client sessions (fast); 'client' is one gunzip | client (the fallback). */
  restoreMethod: z.enum(['parallel', 'client']).default('parallel'),
  /** Restore to the last reachable point when the target is beyond the archive, reporting the shortfall as RPO. */
  bestEffort: z.boolean().default(false),
  assertions: z.array(assertionSpecSchema).default([]),
  /**
   * How restored tables are compared with the source's checkpoint: 'rows' digests every row's
   * values (any versions, any types); 'server' uses CHECKSUM TABLE (much faster; the sandbox
   * image must run the source's exact server version; FLOAT/JSON and system-versioned tables
   * are still compared row by row). See domain/checksums.ts.
   */
  checksum: z.enum(['rows', 'server']).default('rows'),
  /**
   * A DEFINER of a restored view, routine, trigger or event that does not exist in the sandbox
   * (an account only the source has): 'create' makes it there as a locked account with
   * privileges on the restored databases and reports it; 'fail' fails the drill (DefinerMissing).
   */
  missingDefiners: z.enum(['create', 'fail']).default('create'),
  /** The sandbox's InnoDB buffer pool in MiB; absent: sized to hold what the backup restores, at most a quarter of the worker host's memory. */
  sandboxBufferPoolMb: z.number().int().min(128).optional(),
  /** The sandbox container's memory and CPU limits (absent: its buffer pool + 1 GiB, at most half the host's memory; no CPU limit). */
  sandbox: sandboxLimitsSchema.optional(),
  keepSandbox: z.boolean().default(false),
  sandboxTtlSeconds: z.number().int().min(60).default(4 * 3600),
  /** The source's RTO target: a drill whose RTO exceeds it is marked as missing it. */
  rtoTargetSeconds: z.number().positive().optional(),
  /** The source's RPO objective (domain/recovery/rpo.ts): the drill's RPO and a team's newest backup's age are judged against it. Absent: not judged. */
  rpoTargetSeconds: z.number().positive().optional(),
}).strict();
export type DrillRequest = z.infer<typeof drillRequestSchema>;
export type DrillRequestInput = z.input<typeof drillRequestSchema>;

/** Validates before any work starts; the message names every bad key and what it wants. */
export function parseDrillRequest(input: unknown): DrillRequest {
  return parseRequest(drillRequestSchema, input, 'drill');
}

/** Parses a request; BadConfig names every bad key and what it wants. */
function parseRequest<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new DrillError(DrillErrorTypes.BadConfig, `invalid ${what} request:\n${lines.join('\n')}`);
}

/**
 * A bisect (workflows/bisect): the drill request it restores and replays with (its
 * `backup.manifest` is `--from`, its target `--to`, default latest), the consistency query and
 * what it returns while the data is consistent.
 */
export const bisectRequestSchema = z.object({
  drill: drillRequestSchema,
  query: z.string().min(1).regex(/^\s*(?:\(\s*)*(?:SELECT|WITH|VALUES|TABLE)\b/i, 'one read-only query (SELECT, WITH, VALUES or TABLE)'),
  expect: AssertionExpectSchema,
  /** The first pass goes forward in this many steps, stopping at the first failing one; default: chosen from the measured costs (domain/bisect/scan.ts). */
  scanSteps: z.number().int().min(1).max(256).optional(),
}).strict();
export type BisectRequest = z.infer<typeof bisectRequestSchema>;
export type BisectRequestInput = z.input<typeof bisectRequestSchema>;

export function parseBisectRequest(input: unknown): BisectRequest {
  return parseRequest(bisectRequestSchema, input, 'bisect');
}
