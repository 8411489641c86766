/**
 * The source's state at one consistent snapshot (binlog position and per-table checksums): the
 * reference a restored sandbox must match. Read-only on the source.
 */
import { openSession } from '../../adapters/mysql';
import type { SourceSpec } from '../../config/schema';
import { groupColumns, serverChecksumObstacle, serverChecksumValue, tableChecksumSql, tableKey } from '../../domain/checks/checksums';
import type { ChecksumMethod, ColumnInfo, TableState } from '../../domain/checks/checksums';
import { COLUMNS_SQL, quoteIdentifier } from '../../domain/sql';
import type { ColumnRow } from '../../domain/sql';
import type { RecoveryPoint } from '../../domain/types';
import { withHeartbeat } from '../boundary';
import type { SourceCheckpoint, SourceFacts } from '../types';
import { endpointOf, sourceCredentials } from '../../adapters/source-connection';
import { readStoredObjects } from './objects';

type QuerySession = { query<T>(sql: string, p?: unknown[]): Promise<T[]> };

/** One table to take the state of: its columns (in ordinal order) and how to checksum it. */
export interface TableStateItem {
  db: string;
  table: string;
  columns: ColumnInfo[];
  method: ChecksumMethod;
}

/**
 * Which base tables to take the state of, and how.
 * `method: 'server'` uses CHECKSUM TABLE for every table it is valid for; `methods` (the
 * sandbox side) repeats, table by table, what the source's checkpoint used.
 */
export async function tableStateItems(
  session: QuerySession,
  databases: string[],
  opts: { method?: ChecksumMethod; methods?: ReadonlyMap<string, ChecksumMethod> } = {},
): Promise<TableStateItem[]> {
  if (databases.length === 0) return [];
  const columns = groupColumns(await session.query<ColumnRow>(COLUMNS_SQL, [databases]));
  const versioned =
    opts.method === 'server'
      ? new Set(
          (await session.query<{ db: string; t: string }>("SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'SYSTEM VERSIONED' AND TABLE_SCHEMA IN (?)", [databases])).map((r) =>
            tableKey(r.db, r.t),
          ),
        )
      : new Set<string>();
  return columns.map((t) => {
    const key = tableKey(t.db, t.table);
    const method = opts.methods?.get(key) ?? (opts.method === 'server' && serverChecksumObstacle(t.columns, versioned.has(key)) === undefined ? 'server' : 'rows');
    return { ...t, method };
  });
}

/** The row count and checksum of one table, read on `session` (inside the caller's transaction, if any). */
export async function tableState(session: QuerySession, t: TableStateItem): Promise<TableState> {
  if (t.method === 'server') {
    const name = `${quoteIdentifier(t.db)}.${quoteIdentifier(t.table)}`;
    const [count] = await session.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM ${name}`);
    const [sum] = await session.query<{ Checksum: string | number | null }>(`CHECKSUM TABLE ${name} EXTENDED`);
    return { db: t.db, table: t.table, rowCount: Number(count.n), checksum: serverChecksumValue(sum?.Checksum ?? null), method: 'server' };
  }
  const [row] = await session.query<{ row_count: string | number; checksum: string | number | null }>(tableChecksumSql(t.db, t.table, t.columns));
  return { db: t.db, table: t.table, rowCount: Number(row.row_count), checksum: String(row.checksum ?? '') };
}

/**
 * Lists base tables and their checksums, one after another on one session: inside the
 * caller's (snapshot) transaction, every state is of the same point. Options as in
 * {@link tableStateItems}.
 */
export async function tableStates(session: QuerySession, databases: string[], opts: Parameters<typeof tableStateItems>[2] = {}): Promise<TableState[]> {
  const states: TableState[] = [];
  for (const t of await tableStateItems(session, databases, opts)) states.push(await tableState(session, t));
  return states;
}

export function checkpointActivities() {
  return {
    /**
     * The source's state at one consistent snapshot, with its exact binlog coordinates and
     * table checksums. Reads only: MariaDB exposes the snapshot's coordinates directly;
     * MySQL needs a brief global read lock (as mysqldump --single-transaction --source-data does).
     */
    async captureSourceCheckpoint(req: { source: SourceSpec; facts: SourceFacts; checksum?: ChecksumMethod }): Promise<SourceCheckpoint> {
      const creds = await sourceCredentials(req.source);
      const s = await openSession(endpointOf(req.source), creds);
      try {
        await s.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        let point: RecoveryPoint;
        let takenAt: string;
        if (req.facts.identity.flavor === 'mariadb') {
          await s.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
          const status = await s.query<{ Variable_name: string; Value: string }>("SHOW STATUS LIKE 'binlog_snapshot_%'");
          const get = (n: string) => status.find((r) => r.Variable_name.toLowerCase() === n)?.Value ?? '';
          const file = get('binlog_snapshot_file');
          const position = Number(get('binlog_snapshot_position'));
          const [g] = await s.query<{ gtid: string | null; now: string }>('SELECT BINLOG_GTID_POS(?, ?) AS gtid, UTC_TIMESTAMP(6) AS now', [file, position]);
          point = { coordinates: { file, position }, gtidSet: g.gtid ?? undefined };
          takenAt = g.now;
        } else {
          await s.query('FLUSH TABLES WITH READ LOCK');
          try {
            await s.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
            const rows = await s.query<{ File: string; Position: number; Executed_Gtid_Set: string }>('SHOW BINARY LOG STATUS').catch(() => s.query<{ File: string; Position: number; Executed_Gtid_Set: string }>('SHOW MASTER STATUS'));
            const [now] = await s.query<{ now: string }>('SELECT UTC_TIMESTAMP(6) AS now');
            point = { coordinates: { file: rows[0].File, position: Number(rows[0].Position) }, gtidSet: rows[0].Executed_Gtid_Set.replace(/\s+/g, '') };
            takenAt = now.now;
          } finally {
            await s.query('UNLOCK TABLES');
          }
        }
        // Object definitions are not transactional: read right at the snapshot, before the long table reads.
        const objects = await readStoredObjects(s, req.facts.databases);
        const tables = await withHeartbeat(() => ({ phase: 'checkpoint' }), () => tableStates(s, req.facts.databases, { method: req.checksum }));
        await s.query('COMMIT');
        return { takenAt: new Date(takenAt.replace(' ', 'T') + 'Z').toISOString(), point, tables, serverVersion: req.facts.identity.version, objects };
      } finally {
        await s.close();
      }
    },
  };
}
