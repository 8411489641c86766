/** Plain secondary keys held back from a table's CREATE TABLE and built after its rows. */

export interface DeferredIndexes {
  /** The CREATE TABLE without its plain secondary keys. */
  create: string;
  /** The table's name, unquoted. */
  table: string;
  /** One ALTER adding them all back: one sorted build per index after the rows are in. */
  addIndexes: string;
}

/**
 * Splits the plain secondary keys (`KEY …`) out of a dumped InnoDB CREATE TABLE, so rows
 * load into the clustered index alone and each index is built once, sorted, afterwards.
 * Left as they are: tables with foreign keys (their keys back the constraints), PRIMARY and
 * UNIQUE keys (they decide what a duplicate is), FULLTEXT and SPATIAL keys, other engines,
 * system-versioned tables (MariaDB), and anything not in mysqldump's one-definition-per-line layout. Undefined when nothing
 * is deferred.
 */
export function deferSecondaryIndexes(createTable: string): DeferredIndexes | undefined {
  const head = /^CREATE TABLE (`(?:[^`]|``)+`) \(\n/.exec(createTable);
  if (!head) return undefined;
  const tailAt = createTable.lastIndexOf('\n)');
  if (tailAt < head[0].length) return undefined;
  const options = createTable.slice(tailAt + 2);
  // MariaDB refuses an ALTER of a system-versioned table by default (system_versioning_alter_history).
  if (!/\bENGINE=InnoDB\b/i.test(options) || /\bPARTITION\s+BY\b|\bWITH SYSTEM VERSIONING\b/i.test(options)) return undefined;
  const lines = createTable.slice(head[0].length, tailAt).split('\n');
  if (lines.some((l) => /\bFOREIGN KEY\b/i.test(l))) return undefined;
  const kept: string[] = [];
  const deferred: string[] = [];
  for (const line of lines) {
    const definition = line.replace(/,$/, '');
    if (/^ {2}KEY `/.test(line)) deferred.push(definition.trim());
    else kept.push(definition);
  }
  if (deferred.length === 0 || kept.length === 0) return undefined;
  return {
    table: head[1].slice(1, -1).replace(/``/g, '`'),
    create: `${head[0]}${kept.join(',\n')}${createTable.slice(tailAt)}`,
    addIndexes: `ALTER TABLE ${head[1]} ${deferred.map((d) => `ADD ${d}`).join(', ')}`,
  };
}

/** Tables a statement's foreign keys reference (`REFERENCES [`db`.]`t``), names unquoted. */
export function referencedTables(statement: string): { database?: string; table: string }[] {
  const unquote = (q: string) => q.slice(1, -1).replace(/``/g, '`');
  return [...statement.matchAll(/\bREFERENCES\s+(?:(`(?:[^`]|``)+`)\.)?(`(?:[^`]|``)+`)/gi)].map((m) => ({ ...(m[1] ? { database: unquote(m[1]) } : {}), table: unquote(m[2]) }));
}
