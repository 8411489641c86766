/**
 * Loads the configuration file: one function, one schema (config/file-schema.ts), and errors
 * that name every bad key with what it wants, so a DBA fixes the file in one pass.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { DrillError, DrillErrorTypes } from '../domain/errors';
import type { AlertDestinationConfig, ConfigFile, SourceConfig } from './file-schema';
import type { DrillRequestInput, SecretRef, TargetRequest, TeamBackupRequest } from './schema';
import { ALERT_KINDS } from '../domain/report/alerts';
import type { AlertKind } from '../domain/report/alerts';
import type { SkipSpec } from '../domain/recovery/replay-segments';
import type { SourceRetentionPolicy } from '../domain/artifacts/retention';
import type { SourceObjectives } from '../domain/metrics/recorder';

export const DEFAULT_CONFIG_FILES = ['restore-drill.yaml', '/etc/restore-drill/restore-drill.yaml'];

export interface LoadedConfig extends ConfigFile {
  /** The file it came from. */
  path: string;
}

/** The config file: `explicit`, else $RESTORE_DRILL_CONFIG, else ./restore-drill.yaml, else /etc/restore-drill/restore-drill.yaml. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return path.resolve(explicit);
  if (env.RESTORE_DRILL_CONFIG) return path.resolve(env.RESTORE_DRILL_CONFIG);
  for (const candidate of DEFAULT_CONFIG_FILES) {
    try {
      readFileSync(candidate);
      return path.resolve(candidate);
    } catch {
      /* next */
    }
  }
  throw new DrillError(DrillErrorTypes.BadConfig, `no configuration file: pass --config <file>, set RESTORE_DRILL_CONFIG, or create ./restore-drill.yaml (see restore-drill.example.yaml)`, {
    details: { noConfigFile: true },
  });
}

/** Whether `err` is {@link resolveConfigPath}'s "no configuration file anywhere" (not a bad or unreadable one). */
export function isNoConfigFile(err: unknown): boolean {
  return err instanceof DrillError && err.details.noConfigFile === true;
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DrillError(DrillErrorTypes.BadConfig, `cannot read configuration file ${file} (${(err as NodeJS.ErrnoException).code})`, { cause: err });
  }
  return { ...parseConfigText(text, file), path: file };
}

/**
 * Parses and validates YAML text; throws one BadConfig listing every problem. The YAML parser and
 * the schema (zod) load here, when a file is read: together they take 150 ms, which a command that
 * needs no configuration (`verify` at the end of a cron job) does not pay.
 */
export function parseConfigText(text: string, file = 'restore-drill.yaml'): ConfigFile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, synchronously (see above)
  const { parseDocument } = require('yaml') as typeof import('yaml');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
  const { configFileSchema } = require('./file-schema') as typeof import('./file-schema');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `  ${e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(yaml)'}: ${e.message.split('\n')[0]}`);
    throw new DrillError(DrillErrorTypes.BadConfig, `${file} is not valid YAML:\n${lines.join('\n')}`);
  }
  const parsed = configFileSchema.safeParse(doc.toJS(), { reportInput: true });
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((i) => describeIssue(i));
  throw new DrillError(DrillErrorTypes.BadConfig, `${file} has ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n${lines.map((l) => `  ${l}`).join('\n')}`, {
    details: { problems: lines },
  });
}

type Issue = z.core.$ZodIssue;

function keyPath(p: readonly PropertyKey[]): string {
  return p.length === 0 ? '(top level)' : p.map((k) => (typeof k === 'number' ? `[${k}]` : String(k))).join('.').replace(/\.\[/g, '[');
}

/** One line per problem: `<key>: <what is wrong> — <the fix>`. */
export function describeIssue(issue: Issue, prefix: readonly PropertyKey[] = []): string[] {
  const at = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${keyPath([...at, k])}: unknown key — remove it or fix its spelling${suggest(k)}`);
    case 'invalid_type':
      if ((issue as { input?: unknown }).input === undefined) return [`${keyPath(at)}: missing — add it (${issue.expected})`];
      return [`${keyPath(at)}: expected ${issue.expected}${received(issue)}`];
    case 'invalid_union': {
      // Report the alternative the user most likely meant: the one with the fewest problems.
      const branches = issue.errors.filter((b) => b.length > 0).sort((a, b) => a.length - b.length);
      if (branches.length === 0) return [`${keyPath(at)}: ${issue.message}`];
      return branches[0]!.flatMap((i) => describeIssue(i, at));
    }
    case 'invalid_key':
      return [`${keyPath(at)}: ${issue.issues[0]?.message ?? issue.message} — rename it`];
    case 'invalid_value':
      return [`${keyPath(at)}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${received(issue)}`];
    default:
      return [`${keyPath(at)}: expected ${issue.message}${received(issue)}`];
  }
}

function received(issue: Issue): string {
  const input = (issue as { input?: unknown }).input;
  return input === undefined || typeof input === 'object' ? '' : `, got ${JSON.stringify(input)}`;
}

const KNOWN_KEYS = [
  'temporal', 'address', 'namespace', 'taskQueue', 'home', 'sources', 'flavor', 'version', 'connection', 'socket', 'host', 'port', 'user', 'passwordRef', 'file', 'env',
  'image', 'backup', 'method', 'databases', 'physical', 'datadir', 'container', 'cloneDir', 'server', 'worker', 'prepareMemoryMb', 'schedule', 'cron', 'timezone', 'jitter', 'catchupWindow', 'target', 'paused', 'rtoTarget', 'rpoTarget', 'metrics', 'listen', 'temporalListen', 'retention', 'keepBackups', 'keepBackupsFor',
  'keepReports', 'maxIncrements', 'checks', 'assertions', 'checksum', 'missingDefiners', 'name', 'sql', 'expect', 'sandboxTtl', 'sandboxBufferPoolMb', 'sandbox', 'memory', 'cpus', 'maxMemory', 'tools', 'kind', 'at', 'position', 'gtid', 'pattern',
  'teamBackups', 'location', 'alerts', 'type', 'urlRef', 'secretRef', 'events', 's3', 'endpoint', 'region', 'forcePathStyle', 'accessKeyIdRef', 'secretAccessKeyRef', 'pick', 'randomWithinDays', 'minSizeRatio',
  'capacity', 'sandboxes', 'workDir', 'taskQueue',
  'store', 'multipartThresholdMb', 'partMb',
];

function suggest(key: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of KNOWN_KEYS) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function sourceConfig(config: ConfigFile & { path?: string }, name: string): SourceConfig {
  const source = config.sources[name];
  if (!source) {
    throw new DrillError(DrillErrorTypes.BadConfig, `no source ${JSON.stringify(name)} in ${config.path ?? 'the configuration'}; it has: ${Object.keys(config.sources).join(', ')}`);
  }
  return source;
}

/** The task queue a source's drills run on: its own (its network zone's) when it names one, else `fallback`. */
export function sourceTaskQueue(config: ConfigFile & { path?: string }, name: string, fallback: string): string {
  return sourceConfig(config, name).taskQueue ?? fallback;
}

/** The drill request for a configured source (target and sandbox keeping come from the command). */
export function drillRequestFor(
  config: ConfigFile & { path?: string },
  name: string,
  opts: { target?: TargetRequest; keepSandbox?: boolean; sandboxTtlSeconds?: number; backupManifest?: string; backup?: string; skip?: SkipSpec[] } = {},
): DrillRequestInput {
  const s = sourceConfig(config, name);
  const team = teamBackupChoice(name, s, opts.backup);
  return {
    source: {
      name,
      ...(s.flavor === 'auto' ? {} : { flavor: s.flavor }),
      connection: s.connection,
      user: s.user,
      ...(s.passwordRef ? { passwordRef: s.passwordRef } : {}),
      ...(s.image ? { image: s.image } : {}),
      ...(s.backup.databases ? { databases: s.backup.databases } : {}),
      ...(s.backup.physical ? { physical: s.backup.physical } : {}),
      ...(s.tools ? { tools: containerLimits(s.tools) } : {}),
    },
    ...(opts.backupManifest
      ? { backup: { manifest: opts.backupManifest, method: s.backup.method } }
      : team
        ? { backup: { method: 'logical' as const, team } }
        : s.backup.method !== 'logical' || s.backup.attempts !== undefined || s.backup.retryDelay !== undefined
          ? {
              backup: {
                method: s.backup.method,
                ...(s.backup.attempts !== undefined ? { attempts: s.backup.attempts } : {}),
                ...(s.backup.retryDelay !== undefined ? { retryDelaySeconds: s.backup.retryDelay } : {}),
                ...(s.backup.kind !== undefined ? { kind: s.backup.kind } : {}),
                ...(s.backup.maxIncrements !== undefined ? { maxIncrements: s.backup.maxIncrements } : {}),
              },
            }
          : {}),
    target: opts.target ?? s.schedule?.target ?? { kind: 'checkpoint' },
    ...(opts.skip && opts.skip.length > 0 ? { skip: opts.skip } : {}),
    assertions: s.checks.assertions,
    ...(s.checks.checksum !== 'rows' ? { checksum: s.checks.checksum } : {}),
    ...(s.checks.missingDefiners !== 'create' ? { missingDefiners: s.checks.missingDefiners } : {}),
    keepSandbox: opts.keepSandbox ?? false,
    sandboxTtlSeconds: Math.round(opts.sandboxTtlSeconds ?? s.sandboxTtl),
    ...(s.sandboxBufferPoolMb !== undefined ? { sandboxBufferPoolMb: s.sandboxBufferPoolMb } : {}),
    ...(s.sandbox ? { sandbox: { ...containerLimits(s.sandbox), ...(s.sandbox.maxMemory !== undefined ? { maxMemoryMb: s.sandbox.maxMemory } : {}) } } : {}),
    ...(s.rtoTarget !== undefined ? { rtoTargetSeconds: s.rtoTarget } : {}),
    ...(s.rpoTarget !== undefined ? { rpoTargetSeconds: s.rpoTarget } : {}),
  };
}

/** `memory` / `cpus` of the file as the request's `memoryMb` / `cpus`. */
function containerLimits(limits: { memory?: number; cpus?: number }): { memoryMb?: number; cpus?: number } {
  return { ...(limits.memory !== undefined ? { memoryMb: limits.memory } : {}), ...(limits.cpus !== undefined ? { cpus: limits.cpus } : {}) };
}

/**
 * Which team backup a drill takes. A source with `teamBackups` drills those by default (its
 * `pick`); `own` takes the engine's own backup instead; latest / oldest / random override the
 * pick; a path or s3:// URL names one backup (its folder is the location).
 */
export function teamBackupChoice(name: string, s: SourceConfig, choice: string | undefined): TeamBackupRequest | undefined {
  if (choice === 'own') return undefined;
  const configured = s.teamBackups;
  if (choice === undefined) return configured ? { location: configured.location, ...(configured.s3 ? { s3: configured.s3 } : {}), pick: configured.pick, randomWithinDays: configured.randomWithinDays, minSizeRatio: configured.minSizeRatio } : undefined;
  if (choice === 'latest' || choice === 'oldest' || choice === 'random') {
    if (!configured) throw new DrillError(DrillErrorTypes.BadConfig, `--backup ${choice}: source ${name} has no teamBackups location; add teamBackups.location to its configuration, or name one backup by its path or s3:// URL`);
    return { location: configured.location, ...(configured.s3 ? { s3: configured.s3 } : {}), pick: choice, randomWithinDays: configured.randomWithinDays, minSizeRatio: configured.minSizeRatio };
  }
  if (!choice.startsWith('/') && !/^s3:\/\//i.test(choice))
    throw new DrillError(DrillErrorTypes.BadConfig, `--backup ${JSON.stringify(choice)}: give own, latest, oldest, random, an absolute path or an s3://bucket/key URL`);
  const { location, key } = splitNamedBackup(choice);
  // The configured S3 options (endpoint, credentials) serve a named backup in the same bucket only.
  const sameBucket = configured?.s3 !== undefined && bucketOf(location) !== undefined && bucketOf(location) === bucketOf(configured.location);
  return { location, ...(sameBucket ? { s3: configured.s3 } : {}), pick: { key }, randomWithinDays: configured?.randomWithinDays ?? 7, minSizeRatio: configured?.minSizeRatio ?? 0.5 };
}

/**
 * A backup named by its path or URL: the folder it is in (the location) and its key there. A
 * trailing slash names a directory backup (a mydumper or mariabackup folder), whose key keeps it.
 */
export function splitNamedBackup(named: string): { location: string; key: string } {
  const isDirectory = named.endsWith('/');
  const trimmed = named.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  const name = trimmed.slice(slash + 1);
  if (name === '' || /^s3:$/i.test(trimmed.slice(0, slash)) || (/^s3:\/\//i.test(named) && trimmed.split('/').length < 4))
    throw new DrillError(DrillErrorTypes.BadConfig, `--backup ${named}: name one backup (a file, or a backup directory ending in /), not a bucket or the root folder`);
  return { location: trimmed.slice(0, slash + 1), key: isDirectory ? `${name}/` : name };
}

/** The bucket of an s3:// location, lower-cased; undefined for a local folder. */
function bucketOf(location: string): string | undefined {
  return /^s3:\/\/([^/]+)/i.exec(location)?.[1]?.toLowerCase();
}

/** Each source's objectives, for the metrics the alert rules compare with (deploy/monitoring). */
export function sourceObjectives(config: ConfigFile): SourceObjectives[] {
  return Object.entries(config.sources).map(([source, s]) => ({
    source,
    ...(s.rtoTarget !== undefined ? { rtoTargetSeconds: s.rtoTarget } : {}),
    ...(s.rpoTarget !== undefined ? { rpoTargetSeconds: s.rpoTarget } : {}),
  }));
}

/** Every source's retention policy, as the janitor run receives it (no secrets: counts and ages only). */
export function retentionPolicies(config: ConfigFile): SourceRetentionPolicy[] {
  return Object.entries(config.sources).map(([source, s]) => ({
    source,
    keepBackups: s.retention.keepBackups,
    keepReports: s.retention.keepReports,
    ...(s.retention.keepBackupsFor !== undefined ? { keepNewerThanSeconds: s.retention.keepBackupsFor } : {}),
  }));
}

/** A source's alert destination as the worker delivers to it: named, its events spelled out, URL and secret still references. */
export interface AlertRoute {
  name: string;
  type: 'slack' | 'webhook';
  urlRef: SecretRef;
  secretRef?: SecretRef;
  events: AlertKind[];
}

/** Alert destinations per source, for the worker (activities/report/notify.ts). */
export function alertRoutes(config: ConfigFile): Record<string, AlertRoute[]> {
  return Object.fromEntries(Object.entries(config.sources).map(([source, s]) => [source, s.alerts.map((d, i) => alertRoute(d, i))]));
}

function alertRoute(d: AlertDestinationConfig, index: number): AlertRoute {
  return { name: d.name ?? `${d.type}-${index + 1}`, type: d.type, urlRef: d.urlRef, ...(d.type === 'webhook' ? { secretRef: d.secretRef } : {}), events: d.events ?? [...ALERT_KINDS] };
}
