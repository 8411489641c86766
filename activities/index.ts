/** All activities, built by one factory over their dependencies (the worker injects them). */
import { backupActivities } from './backup';
import { binlogActivities } from './binlog';
import { withFailureTranslation } from './boundary';
import { checkActivities } from './checks';
import type { ActivityDeps } from './deps';
import { janitorActivities } from './janitor';
import { notifyActivities } from './notify';
import { physicalActivities } from './physical';
import { restoreActivities } from './restore';
import { reportActivities } from './reports';
import { sandboxActivities } from './sandbox';

export function createActivities(deps: ActivityDeps) {
  return withFailureTranslation({
    ...backupActivities(deps),
    ...physicalActivities(deps),
    ...binlogActivities(deps),
    ...sandboxActivities(deps),
    ...restoreActivities(deps),
    ...checkActivities(deps),
    ...reportActivities(deps),
    ...janitorActivities(deps),
    ...notifyActivities(deps),
  });
}

export type DrillActivities = ReturnType<typeof createActivities>;

export type { SourceFacts, PublishedBackup, SourceCheckpoint, VerifiedBackup, VerifyDepth } from './backup';
export type { ReplayPlan, ArchivedBinlog, TransactionSummary } from './binlog';
export type { SandboxHandle } from './sandbox';
export type { VerifyResult } from './checks';
export type { PublishedReport } from './reports';
