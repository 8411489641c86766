/**
 * The views, routines, triggers and events a dump creates, with their DEFINERs: what a team's
 * dump restored as taken is expected to hold when no source can be compared with it. Read from
 * the schema and post pieces the splitter cuts (splitter.ts), which start with a `USE` of their
 * database and carry the dump's `DELIMITER` blocks. Pure: text in, objects out.
 */
import type { StoredObject, StoredObjectKind } from '../checks/objects';

const IDENT = '(?:`(?:[^`]|``)+`|[A-Za-z0-9_$]+)';
const ACCOUNT_PART = "(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[A-Za-z0-9_$.%-]+)";

/**
 * `CREATE [OR REPLACE] [ALGORITHM=…] [DEFINER=…] [SQL SECURITY …] [AGGREGATE] VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT [IF NOT EXISTS] name`,
 * once the versioned comments (`/*!50013 … *\/`) are opened.
 */
const CREATE_RE = new RegExp(
  '^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:ALGORITHM\\s*=\\s*\\w+\\s+)?' +
    `(?:DEFINER\\s*=\\s*(CURRENT_USER(?:\\(\\))?|${ACCOUNT_PART}(?:@${ACCOUNT_PART})?)\\s+)?` +
    '(?:SQL\\s+SECURITY\\s+\\w+\\s+)?(?:AGGREGATE\\s+)?(VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?' +
    `(${IDENT})(?:\\s*\\.\\s*(${IDENT}))?`,
  'i',
);

function unquoteIdent(s: string): string {
  return s.startsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s;
}

/** `/*!50013 DEFINER=… *\/` → `DEFINER=…`: what the server runs of a versioned comment. */
function openVersionedComments(statement: string): string {
  return statement.replace(/\/\*[!M]!?\d{5,6}\s?/g, '').replace(/\s*\*\/\s*/g, ' ');
}

/** The object a statement creates, or undefined. `db`: the database in use. */
export function declaredObject(statement: string, db: string | undefined): StoredObject | undefined {
  const head = openVersionedComments(statement.slice(0, 4000)).trim();
  const m = CREATE_RE.exec(head);
  if (!m) return undefined;
  const [, definer, kind, first, second] = m;
  const objectDb = second !== undefined ? unquoteIdent(first) : db;
  if (objectDb === undefined) return undefined;
  const name = unquoteIdent(second ?? first);
  const known = definer !== undefined && !/^CURRENT_USER/i.test(definer);
  return { kind: kind.toLowerCase() as StoredObjectKind, db: objectDb, name, ...(known ? { definer } : {}) };
}

/**
 * Collects the objects of a dump's pieces, fed in dump order; a later CREATE of the same object
 * (the final view after its placeholder) replaces the earlier one.
 */
export class DeclaredObjects {
  private readonly byKey = new Map<string, StoredObject>();

  /** One piece's text: statements split at its current DELIMITER, `USE` tracked. */
  push(sql: string): void {
    let db: string | undefined;
    let delimiter = ';';
    let current: string[] = [];
    for (const raw of sql.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (current.length === 0) {
        const trimmed = line.trim();
        const change = /^DELIMITER\s+(\S+)/i.exec(trimmed);
        if (change) {
          delimiter = change[1];
          continue;
        }
        // MariaDB's sandbox-mode marker is a comment line of its own, with no delimiter.
        if (trimmed === '' || trimmed.startsWith('--') || trimmed.startsWith('/*M!999999')) continue;
      }
      current.push(line);
      if (!line.trimEnd().endsWith(delimiter)) continue;
      const statement = current.join('\n');
      current = [];
      const use = /^USE\s+(`(?:[^`]|``)+`|\w+)/i.exec(statement);
      if (use) db = unquoteIdent(use[1]);
      else this.add(declaredObject(statement, db));
    }
  }

  private add(o: StoredObject | undefined): void {
    if (!o) return;
    // A placeholder of a view dumped as a table (MariaDB's temporary structure) is no object; the final CREATE VIEW is.
    this.byKey.set(`${o.kind}\u0000${o.db}\u0000${o.name}`, o);
  }

  get objects(): StoredObject[] {
    return [...this.byKey.values()];
  }
}
