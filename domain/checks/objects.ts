/**
 * Whether a restored database works, not only holds rows: its views, routines, triggers and
 * events exist as the source (or the dump) had them, every DEFINER they run as exists, and every
 * view can be selected from. An object whose definer is missing fails at its first use with
 * ERROR 1449 (https://dev.mysql.com/doc/refman/8.4/en/stored-objects-security.html), which no
 * row count or checksum shows. Pure: the activities read the objects and run the SQL.
 */
import type { CheckResult } from './results';
import { DrillErrorTypes } from '../errors';
import { quoteIdentifier } from '../sql';

export type StoredObjectKind = 'view' | 'procedure' | 'function' | 'trigger' | 'event';

export const STORED_OBJECT_KINDS: readonly StoredObjectKind[] = ['view', 'procedure', 'function', 'trigger', 'event'];

/** One view, routine, trigger or event, as information_schema (or a dump's CREATE) declares it. */
export interface StoredObject {
  kind: StoredObjectKind;
  db: string;
  name: string;
  /** `user@host` as information_schema writes it; absent when not known (CURRENT_USER, no privilege). */
  definer?: string;
  /** {@link normalizeDefinition} of its body; absent when not known (a dump's declaration, a hidden definition). */
  definition?: string;
}

/** What to do with a definer that does not exist in the sandbox: create it as a locked account, or fail the drill. */
export type MissingDefinerPolicy = 'create' | 'fail';

/** The failure types the object checks give a failed drill. */
export const ObjectFailureTypes = {
  ObjectMissing: DrillErrorTypes.ObjectMissing,
  ObjectDiffers: DrillErrorTypes.ObjectDiffers,
  DefinerMissing: DrillErrorTypes.DefinerMissing,
  ViewUnusable: DrillErrorTypes.ViewUnusable,
  RowsLoadedMismatch: DrillErrorTypes.RowsLoadedMismatch,
} as const;

/** What the report says about the objects: how many of each kind were checked, which accounts were created. */
export interface ObjectsSummary {
  checked: Partial<Record<StoredObjectKind, number>>;
  /** Definers created as locked accounts in the sandbox (`user@host`). */
  accountsCreated: string[];
}

/** `procedure shop.refund`: how a check and a message name an object. */
export function describeObject(o: Pick<StoredObject, 'kind' | 'db' | 'name'>): string {
  return `${o.kind} ${o.db}.${o.name}`;
}

const objectKey = (o: Pick<StoredObject, 'kind' | 'db' | 'name'>): string => `${o.kind}\u0000${o.db}\u0000${o.name}`;

/**
 * A definition as two servers of the same version write it for the same object: whitespace
 * runs as one space, no trailing delimiter. Case and quoting are kept: they are the object's.
 */
export function normalizeDefinition(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().replace(/\s*;+$/, '');
}

/** `app@%` from `app@%`, `` `app`@`%` `` or `'app'@'%'`; the host is case-insensitive, the user is not. */
export function normalizeDefiner(definer: string): string {
  const { user, host } = splitDefiner(definer);
  return `${user}@${host.toLowerCase()}`;
}

/** A definer's user and host: quoted parts as a dump writes them, else split at the last `@` (a MariaDB role has no host). */
export function splitDefiner(definer: string): { user: string; host: string } {
  const quoted = /^(`(?:[^`]|``)*`|'(?:[^']|'')*')@(`(?:[^`]|``)*`|'(?:[^']|'')*'|[^`'\s]*)$/s.exec(definer.trim());
  if (quoted) return { user: unquote(quoted[1]), host: unquote(quoted[2]) };
  const at = definer.lastIndexOf('@');
  return at === -1 ? { user: unquote(definer), host: '' } : { user: unquote(definer.slice(0, at)), host: unquote(definer.slice(at + 1)) };
}

function unquote(s: string): string {
  const q = s[0];
  if ((q === '`' || q === "'") && s.length >= 2 && s.endsWith(q)) return s.slice(1, -1).split(q + q).join(q);
  return s;
}

/** `'user'@'host'` for account statements. */
export function accountName(definer: string): string {
  const { user, host } = splitDefiner(definer);
  const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  return `${lit(user)}@${lit(host)}`;
}

/**
 * Every expected object must exist in the sandbox, with the same definer and (where both are
 * known) the same definition. Objects only the sandbox has are not failures: the checks below
 * still make them usable or fail on them.
 */
export function compareObjects(expected: readonly StoredObject[], actual: readonly StoredObject[], source: 'source' | 'dump'): CheckResult[] {
  const found = new Map(actual.map((o) => [objectKey(o), o]));
  const from = source === 'source' ? 'the source has it' : 'the dump creates it';
  return expected.map((e) => {
    const name = describeObject(e);
    const base = { name: `object:${e.kind}:${e.db}.${e.name}`, kind: 'object' as const, target: name };
    const a = found.get(objectKey(e));
    if (!a) return { ...base, passed: false, failureType: ObjectFailureTypes.ObjectMissing, expected: 'present', actual: 'missing', message: `${name} is missing in the restored sandbox, but ${from}: restore it with the dump's --routines / --triggers / --events and check the restore's log` };
    if (e.definer !== undefined && a.definer !== undefined && normalizeDefiner(e.definer) !== normalizeDefiner(a.definer))
      return { ...base, passed: false, failureType: ObjectFailureTypes.ObjectDiffers, expected: `DEFINER=${e.definer}`, actual: `DEFINER=${a.definer}`, message: `${name} runs as ${a.definer} in the sandbox, but as ${e.definer} where ${from}` };
    if (e.definition !== undefined && a.definition !== undefined && e.definition !== a.definition)
      return { ...base, passed: false, failureType: ObjectFailureTypes.ObjectDiffers, expected: clip(e.definition), actual: clip(a.definition), message: `${name} has another definition in the sandbox than where ${from}` };
    return { ...base, passed: true, ...(e.definer ? { actual: `DEFINER=${e.definer}` } : {}) };
  });
}

/** Distinct definers of the objects that no account in the sandbox (`user@host`) matches, in first-use order. */
export function missingDefiners(objects: readonly StoredObject[], accounts: readonly string[]): string[] {
  const have = new Set(accounts.map(normalizeDefiner));
  const missing: string[] = [];
  for (const o of objects) {
    if (o.definer === undefined || o.definer === '') continue;
    const d = normalizeDefiner(o.definer);
    if (!have.has(d) && !missing.includes(d)) missing.push(d);
  }
  return missing;
}

/**
 * One check per definer the objects use: passed when the sandbox had the account or it was
 * created (locked: nobody logs in as it, the objects run as it); failed, naming the objects
 * that cannot run, when it is missing.
 */
export function definerChecks(objects: readonly StoredObject[], missing: readonly string[], created: readonly string[]): CheckResult[] {
  const users = new Map<string, StoredObject[]>();
  for (const o of objects) {
    if (!o.definer) continue;
    const d = normalizeDefiner(o.definer);
    users.set(d, [...(users.get(d) ?? []), o]);
  }
  return [...users].map(([definer, used]) => {
    const base = { name: `definer:${definer}`, kind: 'definer' as const, target: definer };
    const names = used.map(describeObject);
    const listed = `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
    if (!missing.includes(definer)) return { ...base, passed: true, actual: 'exists' };
    if (created.includes(definer)) return { ...base, passed: true, actual: 'created locked', message: `${definer} does not exist in the restored server; created as a locked account with privileges on the restored databases so that ${listed} run. Create it on the server you restore to, or these objects fail with ERROR 1449` };
    return {
      ...base,
      passed: false,
      failureType: ObjectFailureTypes.DefinerMissing,
      expected: 'exists',
      actual: 'missing',
      message: `${definer} is the DEFINER of ${listed} but does not exist in the restored server: every use fails with ERROR 1449. Restore the account with the backup (or set checks.missingDefiners: create to have the drill create it locked)`,
    };
  });
}

/** The statements that create a definer as a locked account able to run the restored objects. */
export function lockedAccountSql(definer: string, databases: readonly string[]): string[] {
  const account = accountName(definer);
  return [`CREATE USER IF NOT EXISTS ${account} ACCOUNT LOCK`, ...databases.map((db) => `GRANT ALL PRIVILEGES ON ${quoteIdentifier(db)}.* TO ${account}`)];
}

/** `SELECT * FROM v LIMIT 0`: the server resolves every table, column and function the view reads, as its definer. */
export function viewProbeSql(view: Pick<StoredObject, 'db' | 'name'>): string {
  return `SELECT * FROM ${quoteIdentifier(view.db)}.${quoteIdentifier(view.name)} LIMIT 0`;
}

/** The verdict on one view's probe: `error` is the server's message when the select failed. */
export function viewCheck(view: Pick<StoredObject, 'db' | 'name'>, error: string | undefined): CheckResult {
  const name = describeObject({ kind: 'view', ...view });
  const base = { name: `view:${view.db}.${view.name}`, kind: 'view' as const, target: `${view.db}.${view.name}` };
  if (error === undefined) return { ...base, passed: true, actual: 'selects' };
  return { ...base, passed: false, failureType: ObjectFailureTypes.ViewUnusable, expected: 'selects', actual: clip(error), message: `${name} cannot be selected from in the restored server: ${clip(error)}. Fix the view (or what it reads) on the source and take a new backup` };
}

/**
 * Rows each table holds in the sandbox against the rows the dump inserted into it, counted while
 * it was loaded (`db.table` keys). Every base table is compared; one the dump inserted nothing
 * into must be empty.
 */
export function compareRowsLoaded(loaded: Readonly<Record<string, number>>, counted: readonly { db: string; table: string; rows: number }[]): CheckResult[] {
  const seen = new Set<string>();
  const checks: CheckResult[] = counted.map(({ db, table, rows }) => {
    const key = `${db}.${table}`;
    seen.add(key);
    return rowsCheck(key, loaded[key] ?? 0, rows);
  });
  // Rows loaded into a table the sandbox does not list: they went somewhere else.
  for (const [key, n] of Object.entries(loaded)) if (!seen.has(key) && n > 0) checks.push(rowsCheck(key, n, undefined));
  return checks;
}

function rowsCheck(key: string, loaded: number, rows: number | undefined): CheckResult {
  const passed = rows === loaded;
  return {
    name: `rows-loaded:${key}`,
    kind: 'row-count',
    target: key,
    passed,
    expected: String(loaded),
    actual: rows === undefined ? 'no such table' : String(rows),
    ...(passed ? {} : { failureType: ObjectFailureTypes.RowsLoadedMismatch, message: `${key}: the dump inserts ${loaded} rows but the restored table holds ${rows ?? 'none (it does not exist)'}` }),
  };
}

/** How many objects of each kind were checked. */
export function countByKind(objects: readonly StoredObject[]): Partial<Record<StoredObjectKind, number>> {
  const out: Partial<Record<StoredObjectKind, number>> = {};
  for (const o of objects) out[o.kind] = (out[o.kind] ?? 0) + 1;
  return out;
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

/** `2 views, 1 procedure, 3 triggers checked; created locked: app@%`: one line for the reports. */
export function describeObjectsSummary(summary: ObjectsSummary): string {
  const counts = STORED_OBJECT_KINDS.filter((k) => (summary.checked[k] ?? 0) > 0).map((k) => `${summary.checked[k]} ${k}${summary.checked[k] === 1 ? '' : 's'}`);
  const checked = counts.length > 0 ? `${counts.join(', ')} checked` : 'no views, routines, triggers or events';
  return summary.accountsCreated.length > 0 ? `${checked}; definers created as locked accounts in the sandbox: ${summary.accountsCreated.join(', ')}` : checked;
}
