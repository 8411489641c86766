/** Consistency checks of a restored sandbox: CHECK TABLE, checksums against the source, GTID state, user assertions. */
import os from 'node:os';
import { runOnSessions, withSessions } from '../../adapters/mysql';
import type { SqlSession } from '../../adapters/mysql';
import type { AssertionSpec } from '../../domain/checks/assertions';
import { assertionErrorResult, evaluateAssertion } from '../../domain/checks/assertions';
import { largestFirst } from '../../domain/checks/plan';
import type { CheckTimings, CheckWorkItem, CheckWorkKind } from '../../domain/checks/plan';
import { checkTableResult, compareTableStates, sameServerVersion, tableKey } from '../../domain/checks/checksums';
import type { CheckTableRow, ChecksumMethod, TableState } from '../../domain/checks/checksums';
import type { CheckResult } from '../../domain/checks/results';
import type { MissingDefinerPolicy, StoredObject } from '../../domain/checks/objects';
import { checkRowsLoaded, checkSandboxObjects } from './object-checks';
import { NON_TRANSACTIONAL_TABLES_SQL, explainNonTransactionalMismatches } from '../../domain/backups/non-transactional';
import type { NonTransactionalTable } from '../../domain/backups/non-transactional';
import { quoteIdentifier } from '../../domain/sql';
import { gtidSetEquals, normalizeGtidSet } from '../../domain/binlog/gtid';
import { parallelSessions } from '../../domain/dump/session-dispatcher';
import type { TableStateItem } from '../source/checkpoint';
import { tableState, tableStateItems } from '../source/checkpoint';
import type { ReplayPlan } from '../types';
import { withHeartbeat } from '../boundary';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle, SourceCheckpoint, VerifyResult } from '../types';
import { assertOwnSandbox, failingOutOfMemory } from '../sandbox/sandbox';

export interface VerifyRequest {
  drillId: string;
  sandbox: SandboxHandle;
  databases: string[];
  /** Absent for a team's backup restored as it was taken: nothing was replayed. */
  plan?: ReplayPlan;
  /** Present when the replay stopped exactly at the checkpoint: then data must match it table by table. */
  checkpoint?: SourceCheckpoint;
  assertions: AssertionSpec[];
  /** Created locked when missing (default), or a failed check. */
  missingDefiners?: MissingDefinerPolicy;
  /** A dump restored as taken: the objects it creates and the rows it inserted per table, as the restore counted them. */
  declaredObjects?: StoredObject[];
  rowsLoaded?: Record<string, number>;
}

/** Base tables with a size estimate, in the order one `CHECK TABLE t1, t2, …` would list them. */
const TABLES_SQL =
  'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_TYPE AS type, COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0) AS bytes ' +
  "FROM information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA IN (?) ORDER BY 1, 2";

export interface SandboxTableChecks {
  /** One `check-table` result per base table, as one CHECK TABLE of them all gives. */
  checkTables: CheckResult[];
  /** Every table's state, as `tableStates` gives them; empty without `methods`. */
  states: TableState[];
  timings: Omit<CheckTimings, 'assertionsSeconds'>;
}

/**
 * CHECK TABLE of every base table and, given `methods` (the checkpoint's, table by table), the
 * state of every table: one work item per table and kind, spread over `sessions`, the biggest
 * tables first. Nothing else writes to the sandbox, so every session reads the same data, and
 * the results equal, in content and order, one CHECK TABLE of all tables and
 * `tableStates` on one session.
 */
export async function checkSandboxTables(
  sessions: SqlSession[],
  databases: string[],
  methods: ReadonlyMap<string, ChecksumMethod> | undefined,
  opts: { progress?: (done: number, of: number) => void; signal?: AbortSignal } = {},
): Promise<SandboxTableChecks> {
  const began = performance.now();
  const seconds: Record<CheckWorkKind, number> = { 'check-table': 0, state: 0 };
  const timings = () => ({ checkTableSeconds: seconds['check-table'], tableStatesSeconds: seconds.state, wallSeconds: (performance.now() - began) / 1000, sessions: sessions.length });
  if (databases.length === 0) return { checkTables: [], states: [], timings: timings() };
  const [first] = sessions;
  const tables = await first.query<{ db: string; t: string; type: string; bytes: string | number }>(TABLES_SQL, [databases]);
  const checked = tables.filter((t) => t.type === 'BASE TABLE');
  const stateItems = methods ? await tableStateItems(first, databases, { methods }) : [];
  type Work = CheckWorkItem & ({ kind: 'check-table' } | { kind: 'state'; item: TableStateItem });
  const work = largestFirst<Work>(
    [...checked.map((t) => ({ db: t.db, table: t.t, kind: 'check-table' as const })), ...stateItems.map((item) => ({ db: item.db, table: item.table, kind: 'state' as const, item }))],
    new Map(tables.map((t) => [tableKey(t.db, t.t), Number(t.bytes)])),
  );
  const checkRows = new Map<string, CheckTableRow[]>();
  const states = new Map<string, TableState>();
  let done = 0;
  await runOnSessions(
    sessions,
    work,
    async (s, w) => {
      const itemBegan = performance.now();
      if (w.kind === 'check-table') checkRows.set(tableKey(w.db, w.table), await s.query<CheckTableRow>(`CHECK TABLE ${quoteIdentifier(w.db)}.${quoteIdentifier(w.table)}`));
      else states.set(tableKey(w.db, w.table), await tableState(s, w.item));
      seconds[w.kind] += (performance.now() - itemBegan) / 1000;
      opts.progress?.(++done, work.length);
    },
    opts.signal,
  );
  return {
    checkTables: checkTableResult(checked.flatMap((t) => checkRows.get(tableKey(t.db, t.t)) ?? [])),
    states: stateItems.map((t) => states.get(tableKey(t.db, t.table))!),
    timings: timings(),
  };
}

export function checkActivities(deps: ActivityDeps) {
  return {
    async verifyRestore(req: VerifyRequest): Promise<VerifyResult> {
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      let progress = { done: 0, of: 0 };
      // A sandbox the kernel killed at its memory limit fails no check: SandboxOutOfMemory.
      return failingOutOfMemory(deps, req.sandbox.name, 'checks', () => withHeartbeat(
        () => ({ phase: 'checks', ...progress }),
        (signal) =>
          withSessions({ socket: req.sandbox.socketPath }, { user: 'root' }, parallelSessions(os.cpus().length), async (sessions) => {
            const [s] = sessions;
            // The reference snapshot was taken inside one transaction; nothing writes to the
            // sandbox now, so plain reads here, on several sessions, are just as consistent.
            // Each table is checksummed the way the checkpoint did it; CHECKSUM TABLE values
            // compare only between servers of one version.
            const methods = req.checkpoint ? new Map(req.checkpoint.tables.map((t) => [tableKey(t.db, t.table), t.method ?? 'rows'] as const)) : undefined;
            const tables = await checkSandboxTables(sessions, req.databases, methods, { progress: (done, of) => (progress = { done, of }), signal });
            const checks: CheckResult[] = [...tables.checkTables];
            let gtidSet: string | undefined;
            if (req.sandbox.flavor === 'mysql') {
              gtidSet = normalizeGtidSet('mysql', String((await s.query<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g'))[0].g));
            } else {
              gtidSet = req.plan?.lastApplied?.gtid ?? req.checkpoint?.point.gtidSet;
            }
            if (req.checkpoint && methods) {
              if ([...methods.values()].includes('server')) {
                const [v] = await s.query<{ v: string }>('SELECT VERSION() AS v');
                const passed = sameServerVersion(v.v, req.checkpoint.serverVersion);
                checks.push({
                  name: 'checksum:server-version',
                  kind: 'checksum',
                  target: 'CHECKSUM TABLE',
                  passed,
                  expected: req.checkpoint.serverVersion,
                  actual: v.v,
                  ...(passed ? {} : { message: `checks.checksum is server, but the sandbox runs ${v.v} and the source ${req.checkpoint.serverVersion}: CHECKSUM TABLE values of different versions do not compare. Use an image of the source's version, or checks.checksum: rows.` }),
                });
              }
              // The restored tables keep their engines: a mismatch on one without transactions says why.
              const nonTransactional = req.databases.length > 0 ? await s.query<NonTransactionalTable>(NON_TRANSACTIONAL_TABLES_SQL, [req.databases]) : [];
              checks.push(...explainNonTransactionalMismatches(compareTableStates(req.checkpoint.tables, tables.states), nonTransactional));
              if (req.sandbox.flavor === 'mysql' && req.checkpoint.point.gtidSet !== undefined) {
                const expected = normalizeGtidSet('mysql', req.checkpoint.point.gtidSet);
                const passed = gtidSetEquals('mysql', expected, gtidSet ?? '');
                checks.push({ name: 'gtid:executed', kind: 'gtid', target: 'gtid_executed', passed, expected, actual: gtidSet, message: passed ? undefined : 'the sandbox applied a different set of transactions than the source had at the checkpoint' });
              }
            }
            // Before the assertions: they may call the routines and views, which run as their definers.
            const expected = req.checkpoint?.objects ? { objects: req.checkpoint.objects, from: 'source' as const } : req.declaredObjects ? { objects: req.declaredObjects, from: 'dump' as const } : undefined;
            const objects = await checkSandboxObjects(s, { databases: req.databases, expected, missingDefiners: req.missingDefiners ?? 'create' });
            checks.push(...objects.checks);
            if (req.rowsLoaded) checks.push(...(await checkRowsLoaded(sessions, req.databases, req.rowsLoaded, signal)));
            const assertionsBegan = performance.now();
            for (const a of req.assertions) {
              try {
                checks.push(evaluateAssertion(a, await s.query(a.sql)));
              } catch (err) {
                checks.push(assertionErrorResult(a, (err as Error).message));
              }
            }
            return {
              checks,
              ...(req.plan ? { reached: { coordinates: req.plan.stop, gtidSet, lastCommitTime: req.plan.lastApplied?.commitTime ?? req.checkpoint?.takenAt } } : {}),
              timings: { ...tables.timings, assertionsSeconds: (performance.now() - assertionsBegan) / 1000 },
              objects: objects.summary,
            };
          }),
      ));
    },
  };
}
