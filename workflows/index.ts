export { drillWorkflow, progressQuery, releaseSignal, extendSignal } from './drill';
export type { DrillProgress, DrillStatus } from './drill';
export { sourceLockWorkflow, sourceLockWorkflowId, lockHolderQuery } from './source-lock';
export { binlogArchiverWorkflow } from './archiver';
export { janitorWorkflow } from './janitor';
export type { JanitorRequest, JanitorResult } from './janitor';
export { bisectWorkflow } from './bisect';
export type { BisectProgress } from './drill';
