/**
 * The restored database works, not only holds rows: its views, routines, triggers and events
 * are the expected ones, their definers exist (created locked, or the drill fails), every view
 * selects; and, for a dump restored as taken, every table holds the rows the dump inserted.
 * Decisions in domain/checks/objects.ts; here only the reads and the account statements.
 */
import { runOnSessions } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import { compareObjects, compareRowsLoaded, countByKind, definerChecks, lockedAccountSql, missingDefiners, viewCheck, viewProbeSql } from '../../domain/checks/objects';
import type { MissingDefinerPolicy, ObjectsSummary, StoredObject } from '../../domain/checks/objects';
import type { CheckResult } from '../../domain/checks/results';
import { quoteIdentifier } from '../../domain/sql';
import { readAccounts, readStoredObjects } from '../source/objects';

export interface ObjectExpectations {
  databases: string[];
  /** What the sandbox must hold: the source's objects at the checkpoint, or what the dump creates. */
  expected?: { objects: StoredObject[]; from: 'source' | 'dump' };
  missingDefiners: MissingDefinerPolicy;
}

/**
 * Checks the sandbox's objects. A definer missing there is created as a locked account (nobody
 * logs in as it; the objects run as it) with every privilege on the restored databases, when
 * the policy says so, before the views are probed: a view runs as its definer. A retried
 * activity finds the accounts a first attempt created and reports them as existing.
 */
export async function checkSandboxObjects(s: SqlSession, req: ObjectExpectations): Promise<{ checks: CheckResult[]; summary: ObjectsSummary }> {
  const actual = await readStoredObjects(s, req.databases);
  const checks = req.expected ? compareObjects(req.expected.objects, actual, req.expected.from) : [];
  const missing = missingDefiners(actual, await readAccounts(s));
  const created: string[] = [];
  if (req.missingDefiners === 'create') {
    for (const definer of missing) {
      for (const sql of lockedAccountSql(definer, req.databases)) await s.query(sql);
      created.push(definer);
    }
  }
  checks.push(...definerChecks(actual, missing, created));
  for (const view of actual.filter((o) => o.kind === 'view')) {
    const error = await s.query(viewProbeSql(view)).then(
      () => undefined,
      // The server's own words (ERROR 1356 …), without the session wrapper's "query on unix socket … failed:".
      (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
    );
    checks.push(viewCheck(view, error));
  }
  return { checks, summary: { checked: countByKind(actual), accountsCreated: created } };
}

const BASE_TABLES_SQL = "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA IN (?) ORDER BY 1, 2";

/** COUNT(*) of every base table of `databases`, on `sessions`, against the rows the dump inserted into each. */
export async function checkRowsLoaded(sessions: SqlSession[], databases: string[], rowsLoaded: Readonly<Record<string, number>>, signal?: AbortSignal): Promise<CheckResult[]> {
  if (databases.length === 0) return [];
  const tables = await sessions[0].query<{ db: string; t: string }>(BASE_TABLES_SQL, [databases]);
  const counted = new Map<string, number>();
  await runOnSessions(
    sessions,
    tables,
    async (s, t) => {
      const [row] = await s.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM ${quoteIdentifier(t.db)}.${quoteIdentifier(t.t)}`);
      counted.set(`${t.db}.${t.t}`, Number(row.n));
    },
    signal,
  );
  // An --all-databases dump loads more databases than the drill checks.
  const ours = Object.fromEntries(Object.entries(rowsLoaded).filter(([key]) => databases.some((db) => key.startsWith(`${db}.`))));
  return compareRowsLoaded(
    ours,
    tables.map((t) => ({ db: t.db, table: t.t, rows: counted.get(`${t.db}.${t.t}`)! })),
  );
}
