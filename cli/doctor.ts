/**
 * `doctor`: a preflight that says, before the first night, what would make a drill fail —
 * Docker engine and images, the Temporal connection and search attributes, each source's
 * privileges, binlog settings and retention against its schedule, and free disk.
 * Only reads: the source is queried, never changed.
 */
import { Connection } from '@temporalio/client';
import { mkdir, statfs } from 'node:fs/promises';
import { DockerodeRuntime } from '../adapters/docker';
import { withSession } from '../adapters/mysql';
import { resolveSecret } from '../adapters/secrets';
import { endpointOf } from '../adapters/source-connection';
import { drillRequestFor } from '../config/load';
import type { SourceConfig } from '../config/file-schema';
import { parseDrillRequest } from '../config/schema';
import { NON_TRANSACTIONAL_TABLES_SQL, nonTransactionalWarning } from '../domain/backups/non-transactional';
import type { NonTransactionalTable } from '../domain/backups/non-transactional';
import { USER_DATABASES_SQL } from '../domain/dump/format';
import { cronIntervalSeconds } from '../domain/cron';
import { defaultImage, detectFlavor } from '../domain/flavors';
import { formatBytes, formatSeconds } from '../domain/report/report';
import type { Flavor } from '../domain/types';
import { SEARCH_ATTRIBUTES } from '../client/workflows';
import { physicalPrivileges } from '../domain/physical/backups';
import { readerGrants } from '../sample/source-container';
import type { CliContext } from './context';
import { emit } from './context';
import { table } from './drills';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  check: string;
  /** Source name for per-source checks. */
  source?: string;
  status: CheckStatus;
  detail: string;
}

const MIN_FREE_BYTES = 2 * 1024 ** 3;

/** Privileges a drill needs that `SHOW GRANTS` does not show (an empty list means all present). */
export function missingPrivileges(flavor: Flavor, grants: string[], physical = false): string[] {
  const global = grants.filter((g) => / ON \*\.\* TO /i.test(g)).join(' ').toUpperCase();
  if (/GRANT ALL PRIVILEGES ON \*\.\*/.test(global)) return [];
  return [readerGrants(flavor), ...(physical ? [physicalPrivileges(flavor)] : [])]
    .join(',')
    .split(',')
    .map((p) => p.trim())
    .filter((p, i, all) => all.indexOf(p) === i)
    .map((p) => p.trim())
    .filter((p) => !new RegExp(`(GRANT |, )${p}(,| ON)`).test(global));
}

export async function runDoctor(ctx: CliContext, only?: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);

  const runtime = new DockerodeRuntime();
  let dockerUp = false;
  try {
    await runtime.ping();
    dockerUp = true;
    add({ check: 'docker engine', status: 'ok', detail: `answers on ${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}` });
  } catch (err) {
    add({ check: 'docker engine', status: 'fail', detail: `${(err as Error).message} (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'})` });
  }

  try {
    const connection = await Connection.connect({ address: ctx.settings.address, tls: ctx.settings.tls, apiKey: ctx.settings.apiKey, connectTimeout: 5000 });
    try {
      await connection.healthService.check({});
      add({ check: 'temporal', status: 'ok', detail: `${ctx.settings.address}, namespace ${ctx.settings.namespace}` });
      const registered = await connection.operatorService.listSearchAttributes({ namespace: ctx.settings.namespace });
      const names = new Set(Object.keys(registered.customAttributes ?? {}));
      const missing = SEARCH_ATTRIBUTES.filter((a) => !names.has(a.name));
      add(
        missing.length === 0
          ? { check: 'search attributes', status: 'ok', detail: SEARCH_ATTRIBUTES.map((a) => a.name).join(', ') }
          : {
              check: 'search attributes',
              status: 'fail',
              detail: `missing ${missing.map((a) => a.name).join(', ')}: ${missing.map((a) => `temporal operator search-attribute create --namespace ${ctx.settings.namespace} --name ${a.name} --type ${a.type === 'DOUBLE' ? 'Double' : 'Keyword'}`).join('; ')}`,
            },
      );
    } finally {
      await connection.close();
    }
  } catch (err) {
    add({ check: 'temporal', status: 'fail', detail: `no Temporal server answers on ${ctx.settings.address} (${(err as Error).message}); set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (and TLS or API key)` });
  }

  const paths = ctx.paths();
  try {
    await mkdir(paths.artifactRoot, { recursive: true });
    const fs = await statfs(paths.artifactRoot);
    const free = fs.bavail * fs.bsize;
    add({ check: 'free disk', status: free < MIN_FREE_BYTES ? 'fail' : 'ok', detail: `${formatBytes(free)} free under ${paths.artifactRoot}${free < MIN_FREE_BYTES ? ` (needs at least ${formatBytes(MIN_FREE_BYTES)} plus the backups)` : ''}` });
  } catch (err) {
    add({ check: 'free disk', status: 'fail', detail: `cannot use ${paths.artifactRoot}: ${(err as Error).message}` });
  }

  const config = ctx.config();
  for (const [name, source] of Object.entries(config.sources)) {
    if (only && name !== only) continue;
    await checkSource(name, source, config, dockerUp ? runtime : undefined, add);
  }
  return checks;
}

async function checkSource(name: string, cfg: SourceConfig, config: ReturnType<CliContext['config']>, runtime: DockerodeRuntime | undefined, add: (c: DoctorCheck) => void): Promise<void> {
  const spec = parseDrillRequest(drillRequestFor(config, name)).source;
  let password: string | undefined;
  try {
    password = await resolveSecret(spec.passwordRef, `source ${name} password`);
  } catch (err) {
    add({ check: 'credentials', source: name, status: 'fail', detail: (err as Error).message });
    return;
  }
  try {
    await withSession(endpointOf(spec), { user: spec.user, password }, async (s) => {
      const [v] = await s.query<{ version: string; logBin: number; fmt: string }>('SELECT VERSION() AS version, @@log_bin AS logBin, @@binlog_format AS fmt');
      const flavor = detectFlavor(v.version);
      add({ check: 'connection', source: name, status: 'ok', detail: `${spec.user} on ${'socket' in spec.connection ? spec.connection.socket : `${spec.connection.host}:${spec.connection.port}`}: ${v.version}` });
      if (cfg.flavor !== 'auto' && cfg.flavor !== flavor) add({ check: 'flavor', source: name, status: 'fail', detail: `configured ${cfg.flavor}, server is ${flavor}: fix sources.${name}.flavor` });
      if (cfg.version && !v.version.startsWith(cfg.version)) add({ check: 'version', source: name, status: 'warn', detail: `configured ${cfg.version}, server is ${v.version}: fix sources.${name}.version` });

      const grants = (await s.query<Record<string, string>>('SHOW GRANTS')).map((r) => Object.values(r)[0]!);
      const physical = cfg.backup.method === 'physical';
      const missing = missingPrivileges(flavor, grants, physical);
      if (physical && flavor === 'mysql') {
        const [clone] = await s.query<{ status: string }>("SELECT PLUGIN_STATUS AS status FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'");
        add(
          clone?.status === 'ACTIVE'
            ? { check: 'clone plugin', source: name, status: 'ok', detail: 'ACTIVE (physical backups)' }
            : { check: 'clone plugin', source: name, status: 'fail', detail: "physical backups need it: INSTALL PLUGIN clone SONAME 'mysql_clone.so' (once, by a DBA)" },
        );
      }
      add(
        missing.length === 0
          ? { check: 'privileges', source: name, status: 'ok', detail: `${spec.user} has ${readerGrants(flavor)}${physical ? `, ${physicalPrivileges(flavor)}` : ''}` }
          : { check: 'privileges', source: name, status: 'fail', detail: `${spec.user} lacks ${missing.join(', ')}: GRANT ${missing.join(', ')} ON *.* TO '${spec.user}'@'<host>'` },
      );

      if (Number(v.logBin) !== 1) add({ check: 'binlog', source: name, status: 'fail', detail: 'log_bin is OFF: start the server with log_bin (and binlog_format=ROW); point-in-time recovery needs binary logs' });
      else if (String(v.fmt).toUpperCase() !== 'ROW')
        add({ check: 'binlog_format', source: name, status: 'fail', detail: `binlog_format=${v.fmt}: set binlog_format=ROW (SET PERSIST binlog_format='ROW' or my.cnf) so replay is deterministic` });
      else add({ check: 'binlog_format', source: name, status: 'ok', detail: 'ROW' });

      // MariaDB 10.6+ and MySQL 8+ have binlog_expire_logs_seconds; 0 means never purged (expire_logs_days on older MariaDB).
      const [r] = await s.query<{ secs: string | number | null }>(
        flavor === 'mysql' ? 'SELECT @@binlog_expire_logs_seconds AS secs' : 'SELECT COALESCE(NULLIF(@@binlog_expire_logs_seconds, 0), @@expire_logs_days * 86400) AS secs',
      );
      const retention = Number(r?.secs ?? 0);
      if (cfg.schedule) {
        const needed = 2 * cronIntervalSeconds(cfg.schedule.cron, { timezone: cfg.schedule.timezone });
        if (retention === 0) add({ check: 'binlog retention', source: name, status: 'ok', detail: 'binlogs are never purged automatically' });
        else if (retention < needed)
          add({ check: 'binlog retention', source: name, status: 'fail', detail: `binlogs are kept ${formatSeconds(retention)} but drills run every ${formatSeconds(needed / 2)} (cron ${cfg.schedule.cron}): set binlog_expire_logs_seconds >= ${needed} so a missed night does not leave a gap` });
        else add({ check: 'binlog retention', source: name, status: 'ok', detail: `${formatSeconds(retention)} >= 2 x schedule interval ${formatSeconds(needed / 2)}` });
      } else {
        add({ check: 'binlog retention', source: name, status: 'ok', detail: `${retention === 0 ? 'never purged' : formatSeconds(retention)} (no schedule to compare with)` });
      }

      const databases = spec.databases ?? (await s.query<{ name: string }>(USER_DATABASES_SQL)).map((d) => d.name);
      const nonTransactional = databases.length > 0 ? await s.query<NonTransactionalTable>(NON_TRANSACTIONAL_TABLES_SQL, [databases]) : [];
      const warning = nonTransactionalWarning(nonTransactional);
      add(warning ? { check: 'transactions', source: name, status: 'warn', detail: warning } : { check: 'transactions', source: name, status: 'ok', detail: `every table of ${databases.join(', ') || 'no database'} is transactional` });

      const image = spec.image ?? defaultImage(flavor, v.version);
      if (runtime) {
        const present = await runtime.imageExists(image);
        add({ check: 'image', source: name, status: present ? 'ok' : 'fail', detail: present ? image : `${image} is not on this Docker engine: build it (deploy/images.sh) or set sources.${name}.image` });
      } else {
        add({ check: 'image', source: name, status: 'fail', detail: `${image}: cannot check, the Docker engine does not answer` });
      }
    });
  } catch (err) {
    add({ check: 'connection', source: name, status: 'fail', detail: `${(err as Error).message}` });
  }
}

export async function doctorCommand(ctx: CliContext, source?: string): Promise<number> {
  const checks = await runDoctor(ctx, source);
  const failed = checks.filter((c) => c.status === 'fail').length;
  emit(ctx, { ok: failed === 0, checks }, () =>
    [
      table(['STATUS', 'SOURCE', 'CHECK', 'DETAIL'], checks.map((c) => [c.status.toUpperCase(), c.source ?? '-', c.check, c.detail])),
      failed === 0 ? 'all checks passed' : `${failed} check${failed === 1 ? '' : 's'} failed`,
    ].join('\n'),
  );
  return failed === 0 ? 0 : 1;
}
