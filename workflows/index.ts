export { drillWorkflow, progressQuery, releaseSignal, extendSignal } from './drill';
export type { DrillProgress, DrillStatus } from './drill';
