/**
 * The views, routines, triggers and events of some databases, with their DEFINERs and
 * definitions, from information_schema: read-only, on the source (with the checkpoint) and in
 * the sandbox (the checks), by the same queries so that both sides compare.
 */
import { normalizeDefinition } from '../../domain/checks/objects';
import type { StoredObject, StoredObjectKind } from '../../domain/checks/objects';

type QuerySession = { query<T>(sql: string, p?: unknown[]): Promise<T[]> };

interface ObjectRow {
  kind: string;
  db: string;
  name: string;
  definer: string | null;
  /** Null where the reading account may not see it (a routine body without SHOW_ROUTINE / global SELECT). */
  definition: string | null;
}

/** One listing of every kind; the `?` of each part is the list of databases. */
const OBJECTS_SQL = [
  "SELECT 'view' AS kind, TABLE_SCHEMA AS db, TABLE_NAME AS name, DEFINER AS definer, VIEW_DEFINITION AS definition FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (?)",
  'SELECT LOWER(ROUTINE_TYPE) AS kind, ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, DEFINER AS definer, ROUTINE_DEFINITION AS definition FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (?)',
  "SELECT 'trigger' AS kind, TRIGGER_SCHEMA AS db, TRIGGER_NAME AS name, DEFINER AS definer, ACTION_STATEMENT AS definition FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (?)",
  "SELECT 'event' AS kind, EVENT_SCHEMA AS db, EVENT_NAME AS name, DEFINER AS definer, EVENT_DEFINITION AS definition FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (?)",
];

const KINDS = new Set<string>(['view', 'procedure', 'function', 'trigger', 'event']);

/** Every view, routine, trigger and event of `databases`, sorted by kind, database and name. */
export async function readStoredObjects(session: QuerySession, databases: readonly string[]): Promise<StoredObject[]> {
  if (databases.length === 0) return [];
  const rows: ObjectRow[] = [];
  for (const sql of OBJECTS_SQL) rows.push(...(await session.query<ObjectRow>(sql, [databases])));
  return rows
    .filter((r) => KINDS.has(String(r.kind)))
    .map((r) => ({
      kind: String(r.kind) as StoredObjectKind,
      db: String(r.db),
      name: String(r.name),
      ...(r.definer ? { definer: String(r.definer) } : {}),
      ...(r.definition !== null && r.definition !== undefined ? { definition: normalizeDefinition(String(r.definition)) } : {}),
    }))
    .sort((a, b) => (a.kind + a.db + a.name < b.kind + b.db + b.name ? -1 : 1));
}

/** Accounts of a server as `user@host` (information_schema's DEFINER form). */
export async function readAccounts(session: QuerySession): Promise<string[]> {
  const rows = await session.query<{ u: string; h: string }>('SELECT User AS u, Host AS h FROM mysql.user');
  return rows.map((r) => `${String(r.u)}@${String(r.h)}`);
}
