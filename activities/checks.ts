/** Consistency checks of a restored sandbox: CHECK TABLE, checksums against the source, GTID state, user assertions. */
import { withSession } from '../adapters/mysql';
import type { SqlSession } from '../adapters/mysql';
import type { AssertionSpec } from '../domain/assertions';
import { assertionErrorResult, evaluateAssertion } from '../domain/assertions';
import { checkTableResult, compareTableStates, quoteIdentifier, sameServerVersion } from '../domain/checksums';
import type { CheckResult, CheckTableRow } from '../domain/checksums';
import { gtidSetEquals, normalizeGtidSet } from '../domain/gtid';
import type { RecoveryPoint } from '../domain/types';
import type { SourceCheckpoint } from './backup';
import { tableKey, tableStates } from './backup';
import type { ReplayPlan } from './binlog';
import { withHeartbeat } from './boundary';
import type { ActivityDeps } from './deps';
import type { SandboxHandle } from './sandbox';
import { assertOwnSandbox } from './sandbox';

export interface VerifyRequest {
  drillId: string;
  sandbox: SandboxHandle;
  databases: string[];
  plan: ReplayPlan;
  /** Present when the replay stopped exactly at the checkpoint: then data must match it table by table. */
  checkpoint?: SourceCheckpoint;
  assertions: AssertionSpec[];
}

export interface VerifyResult {
  checks: CheckResult[];
  reached: RecoveryPoint;
}

async function checkTables(s: SqlSession, databases: string[]): Promise<CheckResult[]> {
  const tables = await s.query<{ db: string; t: string }>(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?) ORDER BY 1, 2",
    [databases],
  );
  if (tables.length === 0) return [];
  const rows = await s.query<CheckTableRow>(`CHECK TABLE ${tables.map((t) => `${quoteIdentifier(t.db)}.${quoteIdentifier(t.t)}`).join(', ')}`);
  return checkTableResult(rows);
}

export function checkActivities(deps: ActivityDeps) {
  return {
    async verifyRestore(req: VerifyRequest): Promise<VerifyResult> {
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      return withHeartbeat(
        () => ({ phase: 'checks' }),
        () =>
          withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, async (s) => {
            const checks: CheckResult[] = [];
            checks.push(...(await checkTables(s, req.databases)));
            let gtidSet: string | undefined;
            if (req.sandbox.flavor === 'mysql') {
              gtidSet = normalizeGtidSet('mysql', String((await s.query<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g'))[0].g));
            } else {
              gtidSet = req.plan.lastApplied?.gtid ?? req.checkpoint?.point.gtidSet;
            }
            if (req.checkpoint) {
              // The reference snapshot was taken inside one transaction: no other session
              // reads the sandbox, so a plain read here is just as consistent.
              // Each table is checksummed the way the checkpoint did it; CHECKSUM TABLE values
              // compare only between servers of one version.
              const methods = new Map(req.checkpoint.tables.map((t) => [tableKey(t.db, t.table), t.method ?? 'rows'] as const));
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
              checks.push(...compareTableStates(req.checkpoint.tables, await tableStates(s, req.databases, { methods })));
              if (req.sandbox.flavor === 'mysql' && req.checkpoint.point.gtidSet !== undefined) {
                const expected = normalizeGtidSet('mysql', req.checkpoint.point.gtidSet);
                const passed = gtidSetEquals('mysql', expected, gtidSet ?? '');
                checks.push({ name: 'gtid:executed', kind: 'gtid', target: 'gtid_executed', passed, expected, actual: gtidSet, message: passed ? undefined : 'the sandbox applied a different set of transactions than the source had at the checkpoint' });
              }
            }
            for (const a of req.assertions) {
              try {
                checks.push(evaluateAssertion(a, await s.query(a.sql)));
              } catch (err) {
                checks.push(assertionErrorResult(a, (err as Error).message));
              }
            }
            return {
              checks,
              reached: { coordinates: req.plan.stop, gtidSet, lastCommitTime: req.plan.lastApplied?.commitTime ?? req.checkpoint?.takenAt },
            };
          }),
      );
    },
  };
}
