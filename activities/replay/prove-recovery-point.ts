/** Proves, from the sandbox itself, which transactions a replay applied. */
import { withSession } from '../../adapters/mysql';
import { proveByGtidExecuted, proveByGtidSlavePos, type RecoveryProof } from '../../domain/recovery/proof';
import type { ActivityDeps } from '../deps';
import type { SandboxHandle } from '../types';
import { assertOwnSandbox } from '../sandbox/sandbox';
import type { ReplayPlan } from '../types';

export function recoveryProofActivities(deps: ActivityDeps) {
  return {
    /**
     * Reads back, from the sandbox itself, which transactions it applied and compares them
     * with the archive. MySQL: @@gtid_executed. MariaDB: @@gtid_slave_pos, which only the
     * server's applier keeps (a client replay into a sandbox without binary log leaves none).
     */
    async proveRecoveryPoint(req: { drillId: string; sandbox: SandboxHandle; plan: ReplayPlan; method?: 'applier' | 'client' }): Promise<RecoveryProof> {
      assertOwnSandbox(await deps.runtime.inspect(req.sandbox.name), req.sandbox.name, req.drillId);
      if (req.sandbox.flavor === 'mariadb') {
        // A client replay leaves gtid_slave_pos at the backup's position (mariadb-dump --gtid sets it).
        if (req.method === 'client') return proveByGtidSlavePos('', req.plan.lastApplied, req.plan.firstExcluded);
        const [pos] = await withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, (s) => s.query<{ g: string }>('SELECT @@GLOBAL.gtid_slave_pos AS g'));
        return proveByGtidSlavePos(String(pos?.g ?? ''), req.plan.lastApplied, req.plan.firstExcluded);
      }
      const [row] = await withSession({ socket: req.sandbox.socketPath }, { user: 'root' }, (s) => s.query<{ g: string }>('SELECT @@GLOBAL.gtid_executed AS g'));
      return proveByGtidExecuted(String(row?.g ?? ''), req.plan.expectedGtidSet, req.plan.lastApplied, req.plan.firstExcluded, req.plan.skipped);
    },
  };
}
