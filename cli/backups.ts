/**
 * `restore-drill verify <path or URL>`: the door checks alone, with no sandbox, for the last
 * line of a team's own backup job (what seed 001 wrote by hand as `zcat | tail -1 | grep`).
 * Exit 0 when the backup passes, 1 with the typed failure when it does not.
 */
import { describeFormat, detectFormatOf, inspectBackup, localBackupObject, storedBackupObject } from '../adapters/backup-reader';
import type { BackupInspection, BackupObject } from '../adapters/backup-reader';
import type { TeamBackupsConfig } from '../config/file-schema';
import { formatBackupLocation, parseBackupLocation } from '../domain/artifacts/locations';
import type { BackupLocation } from '../domain/artifacts/locations';
import { DrillError, DrillErrorTypes, isDrillError } from '../domain/errors';
import { formatBytes } from '../domain/report/report';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../adapters/object-store';
import { isNoConfigFile, sourceConfig } from '../config/load';
import type { LoadedConfig } from '../config/load';
import type { SecretRef } from '../config/schema';
import type { S3LocationOptions } from '../domain/artifacts/locations';
import type { CliContext } from './context';
import { emit } from './context';

export interface VerifyOptions {
  /** Size of the last good backup of the same set, to refuse one much smaller. */
  previousBytes?: number;
  minSizeRatio?: number;
  /** For an s3:// URL no configured source covers: the server and credential references. */
  endpoint?: string;
  region?: string;
  accessKeyIdRef?: string;
  secretAccessKeyRef?: string;
}

export async function verifyCommand(ctx: CliContext, where: string, opts: VerifyOptions): Promise<number> {
  const target = await openForVerify(ctx, where, opts);
  try {
    const checks = {
      ...(opts.previousBytes !== undefined ? { lastGood: { name: 'the previous backup (--previous-bytes)', size: opts.previousBytes, measure: 'raw' as const } } : {}),
      ...(opts.minSizeRatio !== undefined ? { minSizeRatio: opts.minSizeRatio } : {}),
    };
    if ('object' in target) return await verifyWith(ctx, target.object.name, () => inspectBackup(target.object, checks));
    const { inspectBackupDirectory } = await import('../adapters/backup-directory');
    return await verifyWith(ctx, target.store.where(target.dirKey), () => inspectBackupDirectory(target.store, target.dirKey, checks));
  } finally {
    target.close();
  }
}

async function verifyWith(ctx: CliContext, name: string, inspect: () => Promise<BackupInspection>): Promise<number> {
  const started = Date.now();
  try {
    const inspection = await inspect();
    const seconds = (Date.now() - started) / 1000;
    emit(ctx, { ok: true, seconds, ...inspection }, () => renderInspection(inspection, seconds));
    return 0;
  } catch (err) {
    if (!isDrillError(err)) throw err;
    emit(ctx, { ok: false, name, failure: { type: err.type, message: err.message } }, () => `FAILED ${name}\n  ${err.type}: ${err.message}`);
    return 1;
  }
}

/** `env:NAME` or `file:/path` (a bare absolute path is a file). */
export function parseSecretRefFlag(flag: string, text: string): SecretRef {
  if (text.startsWith('env:') && text.length > 4) return { env: text.slice(4) };
  if (text.startsWith('file:/')) return { file: text.slice(5) };
  if (text.startsWith('/')) return { file: text };
  throw new DrillError(DrillErrorTypes.BadConfig, `${flag} ${JSON.stringify(text)}: give env:VARIABLE or file:/path of a file holding only the secret (never the secret itself)`);
}

type VerifyTarget = ({ object: BackupObject } | { store: ObjectStore; dirKey: string }) & { close(): void };

/**
 * A path is a local file, or a directory backup (mydumper). An s3:// URL names an object, or
 * with a trailing '/' a directory; it is read with the S3 settings of the configured source
 * whose teamBackups bucket holds it, else with the flags (credentials by reference only).
 */
async function openForVerify(ctx: CliContext, where: string, opts: VerifyOptions): Promise<VerifyTarget> {
  if (!/^s3:\/\//i.test(where)) {
    if (where.includes('://')) throw new DrillError(DrillErrorTypes.BadConfig, `${where}: give a file or directory path or an s3://bucket/key URL`);
    const file = path.resolve(where);
    if (!(await stat(file).then((s) => s.isDirectory(), () => false))) return { object: localBackupObject(file), close: () => undefined };
    const { openObjectStore } = await import('../adapters/object-store');
    const store = await openObjectStore(parseBackupLocation(path.dirname(file)));
    return { store, dirKey: `${path.basename(file)}/`, close: () => store.close() };
  }
  const directory = where.endsWith('/');
  const trimmed = directory ? where.slice(0, -1) : where;
  const slash = trimmed.lastIndexOf('/');
  const folder = trimmed.slice(0, slash + 1);
  const key = trimmed.slice(slash + 1);
  if (key === '' || folder === 's3://') throw new DrillError(DrillErrorTypes.BadConfig, `${where}: name one object, s3://bucket/prefix/file, or one directory, s3://bucket/prefix/dir/`);
  const location = parseBackupLocation(folder, s3OptionsFor(ctx, where, opts));
  // The S3 client loads only for a bucket: a local verify in a cron job starts faster.
  const { openObjectStore } = await import('../adapters/object-store');
  const store = await openObjectStore(location);
  return directory ? { store, dirKey: `${key}/`, close: () => store.close() } : { object: storedBackupObject(store, key), close: () => store.close() };
}

function s3OptionsFor(ctx: CliContext, url: string, opts: VerifyOptions): S3LocationOptions {
  const flags: S3LocationOptions = {
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.accessKeyIdRef ? { accessKeyIdRef: parseSecretRefFlag('--access-key-id-ref', opts.accessKeyIdRef) } : {}),
    ...(opts.secretAccessKeyRef ? { secretAccessKeyRef: parseSecretRefFlag('--secret-access-key-ref', opts.secretAccessKeyRef) } : {}),
  };
  if (Object.keys(flags).length > 0) return flags;
  const bucket = /^s3:\/\/([^/]+)\//i.exec(url)?.[1];
  let sources: LoadedConfig['sources'] = {};
  try {
    sources = ctx.config().sources;
  } catch (err) {
    if (!isNoConfigFile(err)) throw err;
  }
  for (const spec of Object.values(sources)) {
    const team = spec.teamBackups;
    if (team && new RegExp(`^s3://${bucket}/`, 'i').test(team.location)) return team.s3 ?? {};
  }
  return {};
}

export function renderInspection(i: BackupInspection, seconds: number): string {
  const lines = [`OK ${i.name} (${seconds.toFixed(1)} s)`, ...i.passed.map((p) => `  passed: ${p}`), `  sha256: ${i.sha256}`];
  if (i.coordinates?.found) {
    const c = i.coordinates;
    lines.push(`  coordinates: ${c.point.coordinates.file}:${c.point.coordinates.position}${c.point.gtidSet ? `, GTID ${c.point.gtidSet}` : ''}${c.of === 'its-source' ? " (of the replica's source: taken with --dump-slave)" : ''}: can be rolled forward with archived binlogs`);
  } else if (i.coordinates) {
    lines.push(`  coordinates: none, ${i.coordinates.reason}`);
  }
  lines.push(`  format: ${describeFormat(i.format)}`);
  return lines.join('\n');
}

/** The team backups location of a configured source, parsed (the config schema already validated it). */
export function teamLocationOf(ctx: CliContext, source: string): { location: BackupLocation; config: TeamBackupsConfig } {
  const spec = sourceConfig(ctx.config(), source);
  if (!spec.teamBackups) throw new DrillError(DrillErrorTypes.BadConfig, `source ${source} has no teamBackups: add teamBackups.location (a folder, a pattern such as /backups/${source}/*.sql.gz, or s3://bucket/prefix/) to its configuration`);
  return { location: parseBackupLocation(spec.teamBackups.location, spec.teamBackups.s3 ?? {}), config: spec.teamBackups };
}

export interface ListedTeamBackup {
  key: string;
  /** A directory backup (mydumper) is one entry, its size the sum of its files'. */
  kind: 'file' | 'directory';
  where: string;
  modified: string;
  bytes: number;
  format?: string;
  /** Why the format could not be told from the head. */
  unrecognised?: string;
}

/** `restore-drill backups <source>`: what the team's backup location holds, newest first, each with its format read from its first bytes. */
export async function backupsCommand(ctx: CliContext, source: string, opts: { limit: number }): Promise<number> {
  const { location } = teamLocationOf(ctx, source);
  const { openObjectStore } = await import('../adapters/object-store');
  const store = await openObjectStore(location);
  try {
    const objects = (await store.list()).slice(0, opts.limit);
    const listed: ListedTeamBackup[] = [];
    for (const o of objects) {
      const entry: ListedTeamBackup = { key: o.key, kind: o.kind, where: store.where(o.key), modified: o.modified.toISOString(), bytes: o.size };
      try {
        const format = o.kind === 'directory' ? await (await import('../adapters/backup-directory')).detectDirectoryFormatOf(store, o.key) : await detectFormatOf(storedBackupObject(store, o.key));
        entry.format = describeFormat(format);
      } catch (err) {
        if (!isDrillError(err)) throw err;
        entry.unrecognised = err.message;
      }
      listed.push(entry);
    }
    emit(ctx, { source, location: formatBackupLocation(location), backups: listed }, () =>
      listed.length === 0
        ? `no backups under ${formatBackupLocation(location)}: check the location and that the backup job writes there`
        : [`backups of ${source} under ${formatBackupLocation(location)}, newest first:`, ...listed.map((b) => `  ${b.modified}  ${formatBytes(b.bytes).padStart(10)}  ${b.key}  ${b.format ?? `UNRECOGNISED: ${b.unrecognised}`}`)].join('\n'),
    );
    return 0;
  } finally {
    store.close();
  }
}
