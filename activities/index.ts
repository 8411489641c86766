/** All activities, built by one factory over their dependencies (the worker injects them). */
import { verifyActivities } from './artifacts/verify';
import { adoptActivities } from './backups/adopt';
import { logicalBackupActivities } from './dump/backup';
import { binlogActivities } from './binlog/archive';
import { replayPlanningActivities } from './binlog/plan-replay';
import { withFailureTranslation } from './boundary';
import { bisectScanActivities } from './bisect/scan';
import { bisectSnapshotActivities } from './bisect/snapshots';
import { bisectWindowActivities } from './bisect/window';
import { checkActivities } from './checks/sandbox-checks';
import type { ActivityDeps } from './deps';
import { janitorActivities } from './artifacts/janitor';
import { notifyActivities } from './report/notify';
import { physicalBackupActivities } from './physical/backups';
import { physicalRestoreActivities } from './physical/restore';
import { restoreActivities } from './dump/restore';
import { recoveryProofActivities } from './replay/prove-recovery-point';
import { reportActivities } from './report/reports';
import { sandboxActivities } from './sandbox/sandbox';
import { placementActivities } from './sandbox/placement';
import { checkpointActivities } from './source/checkpoint';
import { sourceActivities } from './source/inspect';

export function createActivities(deps: ActivityDeps) {
  return withFailureTranslation({
    ...sourceActivities(),
    ...checkpointActivities(),
    ...logicalBackupActivities(deps),
    ...physicalBackupActivities(deps),
    ...verifyActivities(deps),
    ...adoptActivities(deps),
    ...physicalRestoreActivities(deps),
    ...binlogActivities(deps),
    ...replayPlanningActivities(deps),
    ...recoveryProofActivities(deps),
    ...sandboxActivities(deps),
    ...placementActivities(deps),
    ...restoreActivities(deps),
    ...checkActivities(deps),
    ...reportActivities(deps),
    ...janitorActivities(deps),
    ...notifyActivities(deps),
    ...bisectWindowActivities(deps),
    ...bisectSnapshotActivities(deps),
    ...bisectScanActivities(deps),
  });
}

export type DrillActivities = ReturnType<typeof createActivities>;

export type { ReplayPlan, ArchivedBinlog, RecoveryPlan, TransactionSummary } from './types';
export type { SourceFacts, SourceCheckpoint, PublishedBackup, VerifiedBackup, VerifyDepth, SandboxHandle, PhaseOutcome, RestoreOutcome, VerifyResult } from './types';
export type { PublishedReport } from '../adapters/report-files';
