/** What the engine learns about a source before a drill, and the sources it refuses. */
import { withSession } from '../../adapters/mysql';
import type { SourceSpec } from '../../config/schema';
import { USER_DATABASES_SQL } from '../../domain/dump/format';
import { NON_TRANSACTIONAL_TABLES_SQL } from '../../domain/backups/non-transactional';
import type { NonTransactionalTable } from '../../domain/backups/non-transactional';
import { DrillError, DrillErrorTypes } from '../../domain/errors';
import { defaultImage, detectFlavor } from '../../domain/flavors';
import type { SourceFacts } from '../types';
import { endpointOf, sourceCredentials } from '../../adapters/source-connection';

export function sourceActivities() {
  return {
    /** Reads who the source is and refuses sources that cannot support a drill. */
    async inspectSource(source: SourceSpec): Promise<SourceFacts> {
      const creds = await sourceCredentials(source);
      return withSession(endpointOf(source), creds, async (s) => {
        const [v] = await s.query<{ version: string; serverId: number; logBin: number; binlogFormat: string }>(
          'SELECT VERSION() AS version, @@server_id AS serverId, @@log_bin AS logBin, @@binlog_format AS binlogFormat',
        );
        const flavor = detectFlavor(v.version);
        if (source.flavor && source.flavor !== flavor)
          throw new DrillError(DrillErrorTypes.VersionMismatch, `source ${source.name} is configured as ${source.flavor} but the server says ${v.version}; fix flavor in the config`);
        if (Number(v.logBin) !== 1)
          throw new DrillError(DrillErrorTypes.BadConfig, `binary logging is off on source ${source.name}: point-in-time recovery needs log_bin=ON and binlog_format=ROW`);
        if (String(v.binlogFormat).toUpperCase() !== 'ROW')
          throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has binlog_format=${v.binlogFormat}; set binlog_format=ROW so replay is deterministic`);
        const gtidMode = flavor === 'mysql' ? String((await s.query<{ m: string }>('SELECT @@gtid_mode AS m'))[0].m) : 'ON';
        let serverUuid: string | undefined;
        if (flavor === 'mysql') serverUuid = String((await s.query<{ u: string }>('SELECT @@server_uuid AS u'))[0].u);
        const all = (await s.query<{ name: string }>(USER_DATABASES_SQL)).map((r) => r.name);
        const databases = source.databases ?? all;
        const missing = databases.filter((d) => !all.includes(d));
        if (missing.length > 0)
          throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has no database ${missing.join(', ')}; fix databases in the config (it has: ${all.join(', ') || 'none'})`);
        if (databases.length === 0) throw new DrillError(DrillErrorTypes.BadConfig, `source ${source.name} has no user database to back up`);
        const [size] = await s.query<{ bytes: string | number | null }>('SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?)', [databases]);
        const nonTransactionalTables = await s.query<NonTransactionalTable>(NON_TRANSACTIONAL_TABLES_SQL, [databases]);
        return {
          identity: { flavor, version: v.version, serverId: Number(v.serverId), serverUuid },
          image: source.image ?? defaultImage(flavor, v.version),
          databases,
          binlogFormat: String(v.binlogFormat),
          gtidMode,
          dataBytes: Number(size?.bytes ?? 0),
          nonTransactionalTables: nonTransactionalTables.map((t) => ({ db: t.db, table: t.table, engine: t.engine })),
        };
      });
    },
  };
}
