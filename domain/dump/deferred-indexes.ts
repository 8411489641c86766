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
  const parts = dumpedTable(createTable);
  // MariaDB refuses an ALTER of a system-versioned table by default (system_versioning_alter_history).
  if (!parts || !/\bENGINE=InnoDB\b/i.test(parts.options) || /\bPARTITION\s+BY\b|\bWITH SYSTEM VERSIONING\b/i.test(parts.options)) return undefined;
  const { head, lines } = parts;
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
    table: parts.name.slice(1, -1).replace(/``/g, '`'),
    create: `${head}${kept.join(',\n')}${createTable.slice(parts.tailAt)}`,
    addIndexes: `ALTER TABLE ${parts.name} ${deferred.map((d) => `ADD ${d}`).join(', ')}`,
  };
}

/**
 * Whether the rows of a CREATE TABLE as run (its keys deferred or not) go into its clustered
 * index alone: an InnoDB table with no key but its primary key, in mysqldump's layout. Sessions
 * loading such a table together append to one B-tree and contend little; a secondary, unique,
 * fulltext or foreign key, another engine (MyISAM locks the whole table) or partitions say no.
 */
export function loadsIntoClusteredIndexOnly(createTable: string): boolean {
  const parts = dumpedTable(createTable);
  if (!parts || !/\bENGINE=InnoDB\b/i.test(parts.options) || /\bPARTITION\s+BY\b/i.test(parts.options)) return false;
  return parts.lines.every((l) => !/^ {2}((UNIQUE|FULLTEXT|SPATIAL) )?(KEY|INDEX) |^ {2}CONSTRAINT /i.test(l));
}

/** A dumped CREATE TABLE's head (`CREATE TABLE `t` (\n`), quoted name, definition lines and table options (from `tailAt`). */
function dumpedTable(createTable: string): { head: string; name: string; lines: string[]; options: string; tailAt: number } | undefined {
  const head = /^CREATE TABLE (`(?:[^`]|``)+`) \(\n/.exec(createTable);
  if (!head) return undefined;
  const tailAt = createTable.lastIndexOf('\n)');
  if (tailAt < head[0].length) return undefined;
  return { head: head[0], name: head[1], lines: createTable.slice(head[0].length, tailAt).split('\n'), options: createTable.slice(tailAt + 2), tailAt };
}

/** Tables a statement's foreign keys reference (`REFERENCES [`db`.]`t``), names unquoted. */
export function referencedTables(statement: string): { database?: string; table: string }[] {
  const unquote = (q: string) => q.slice(1, -1).replace(/``/g, '`');
  return [...statement.matchAll(/\bREFERENCES\s+(?:(`(?:[^`]|``)+`)\.)?(`(?:[^`]|``)+`)/gi)].map((m) => ({ ...(m[1] ? { database: unquote(m[1]) } : {}), table: unquote(m[2]) }));
}
