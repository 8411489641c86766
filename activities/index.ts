/** All activities, built by one factory over their dependencies (the worker injects them). */
import { backupActivities } from './dump/backup';
import { binlogActivities } from './binlog/archive';
import { withFailureTranslation } from './boundary';
import { checkActivities } from './checks/sandbox-checks';
import type { ActivityDeps } from './deps';
import { janitorActivities } from './artifacts/janitor';
import { notifyActivities } from './report/notify';
import { physicalActivities } from './physical/backups';
import { restoreActivities } from './dump/restore';
import { reportActivities } from './report/reports';
import { sandboxActivities } from './sandbox/sandbox';

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

export type { SourceFacts, PublishedBackup, SourceCheckpoint, VerifiedBackup, VerifyDepth } from './dump/backup';
export type { ReplayPlan, ArchivedBinlog, TransactionSummary } from './binlog/archive';
export type { SandboxHandle } from './sandbox/sandbox';
export type { VerifyResult } from './checks/sandbox-checks';
export type { PublishedReport } from './report/reports';
