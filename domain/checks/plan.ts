import { tableKey } from './checksums';

/**
 * How the per-table checks of a restored sandbox are spread over sessions: one work item per
 * table and kind, the biggest tables' items first so the longest items never start last.
 */

/** `check-table`: CHECK TABLE of one table; `state`: its row count and checksum. */
export type CheckWorkKind = 'check-table' | 'state';

export interface CheckWorkItem {
  db: string;
  table: string;
  kind: CheckWorkKind;
}

/** Size estimates (information_schema.TABLES DATA_LENGTH + INDEX_LENGTH), keyed by {@link tableKey}. */
export type TableSizes = ReadonlyMap<string, number>;

/** Of one table's items the state starts first: with the `rows` method it hashes every value, the longest item. */
const KIND_ORDER: Record<CheckWorkKind, number> = { state: 0, 'check-table': 1 };

/**
 * The order items start in: largest table first (a table without an estimate counts as
 * empty), its state before its CHECK TABLE; ties by name, so the order is deterministic.
 */
export function largestFirst<T extends CheckWorkItem>(items: readonly T[], sizes: TableSizes): T[] {
  const size = (t: T) => sizes.get(tableKey(t.db, t.table)) ?? 0;
  const name = (t: T) => tableKey(t.db, t.table);
  return [...items].sort((a, b) => size(b) - size(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

/** Seconds the checks of a sandbox took, part by part. */
export interface CheckTimings {
  /** Summed session time of the CHECK TABLE items (they overlap in wall time). */
  checkTableSeconds: number;
  /** Summed session time of the row count + checksum items; 0 without a checkpoint to compare with. */
  tableStatesSeconds: number;
  /** Wall time of the user assertions, which run one after another after the table checks. */
  assertionsSeconds: number;
  /** Wall time of the parallel part: listing the tables, then every CHECK TABLE and state item. */
  wallSeconds: number;
  /** Sessions the table checks ran on at once. */
  sessions: number;
}
