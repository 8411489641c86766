/** SQL text shared by the checks and the restore: identifier quoting and the column listing both read. */

/** `` `name` `` with embedded backticks doubled. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** A row of {@link COLUMNS_SQL}. */
export interface ColumnRow {
  db: string;
  table_name: string;
  column_name: string;
  data_type: string;
  /** CHARACTER_SET_NAME: null for numbers, dates and binary types. */
  charset: string | null;
  /** GENERATION_EXPRESSION, '' for a stored column; MariaDB marks system-versioning columns 'ROW START' / 'ROW END'. */
  generation: string;
}

/**
 * Columns of the base tables (MariaDB system-versioned tables included; views and sequences
 * not) of the given schemas, in ordinal order, invisible and generated columns included.
 * Parameters: an array of schema names, expanded by mysql2's `query()` (not `execute()`) into
 * `IN ('a', 'b')`; with `oneTable`, then a table name.
 */
export function columnsSql(opts: { oneTable?: boolean } = {}): string {
  return (
    'SELECT c.TABLE_SCHEMA AS db, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, ' +
    "c.DATA_TYPE AS data_type, c.CHARACTER_SET_NAME AS charset, COALESCE(c.GENERATION_EXPRESSION, '') AS generation " +
    'FROM information_schema.COLUMNS c ' +
    'JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME ' +
    "WHERE t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND c.TABLE_SCHEMA IN (?) " +
    (opts.oneTable ? 'AND c.TABLE_NAME = ? ' : '') +
    'ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION'
  );
}

/** Every column of the given schemas' base tables ({@link columnsSql}). */
export const COLUMNS_SQL = columnsSql();
