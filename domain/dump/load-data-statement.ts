/**
 * The LOAD DATA LOCAL statement that loads a scanned or converted INSERT's rows
 * (insert-scan.ts, insert-convert.ts): the server reads fields instead of parsing SQL
 * expressions.
 */
import { quoteIdentifier } from '../sql';
import type { ConvertedInsert } from './insert-syntax';

/** A column of the target table, as information_schema describes it. */
export interface LoadColumn {
  name: string;
  /** CHARACTER_SET_NAME: null for numbers, dates, binary-less types. */
  charset: string | null;
  dataType: string;
  generated: boolean;
}

/** Character sets whose bytes equal the dump's utf8 text (the dump connection's own). */
const UTF8_SETS = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

/** True when the column must not receive the loaded bytes as they are. */
function needsConversion(column: LoadColumn): boolean {
  // MySQL refuses JSON from a binary string ("Cannot create a JSON value from a string with CHARACTER SET 'binary'").
  if (column.dataType.toLowerCase() === 'json') return true;
  return column.charset !== null && column.charset !== 'binary' && !UTF8_SETS.has(column.charset.toLowerCase());
}

export type LoadPlanResult = { sql: string } | { fallback: string };

/**
 * The LOAD DATA statement for a converted INSERT into a table with `tableColumns` (in table
 * order), or why the INSERT must run as it is. Without a column list a dumped row holds every
 * column, generated ones included (mariadb-dump writes them; INSERT ignores them): those go
 * to a throwaway variable. Columns in another character set than utf8 get
 * `CONVERT(@v USING utf8mb4)`: the bytes are the dump's utf8mb4 text, converted on assignment
 * exactly as an INSERT's literal is.
 */
export function loadDataStatement(insert: ConvertedInsert, tableColumns: LoadColumn[], infileName = 'restore-drill-rows'): LoadPlanResult {
  const byName = new Map(tableColumns.map((c) => [c.name.toLowerCase(), c]));
  let targets: (LoadColumn | undefined)[];
  if (insert.columns) {
    targets = insert.columns.map((name) => byName.get(name.toLowerCase()));
    const missing = insert.columns.find((_, i) => !targets[i]);
    if (missing !== undefined) return { fallback: `column ${missing} is not in the table` };
    if (targets.some((c) => c!.generated)) return { fallback: 'the INSERT names a generated column' };
  } else {
    if (insert.fields !== tableColumns.length) return { fallback: `rows have ${insert.fields} values for ${tableColumns.length} columns` };
    targets = tableColumns.map((c) => (c.generated ? undefined : c));
  }
  const list: string[] = [];
  const sets: string[] = [];
  targets.forEach((column, i) => {
    if (!column) list.push('@restore_drill_ignored');
    else if (needsConversion(column)) {
      list.push(`@v${i}`);
      sets.push(`${quoteIdentifier(column.name)} = CONVERT(@v${i} USING utf8mb4)`);
    } else list.push(quoteIdentifier(column.name));
  });
  const converted = insert.binaryFields.find((i) => targets[i] !== undefined && needsConversion(targets[i]!));
  if (converted !== undefined) return { fallback: `a binary literal is bound for the ${targets[converted]!.charset ?? targets[converted]!.dataType} column ${targets[converted]!.name}` };
  const table = (insert.database !== undefined ? `${quoteIdentifier(insert.database)}.` : '') + quoteIdentifier(insert.table);
  const sql =
    `LOAD DATA LOCAL INFILE '${infileName}' INTO TABLE ${table} CHARACTER SET binary ` +
    (insert.format === 'tab' ? "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'" : "FIELDS TERMINATED BY ',' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '(' TERMINATED BY ')'") +
    ` (${list.join(', ')})` +
    (sets.length > 0 ? ` SET ${sets.join(', ')}` : '');
  return { sql };
}
