/** The workflows as clients see them: types, signals, queries and search attributes, for starting and steering runs. */
export { binlogArchiverWorkflow, bisectWorkflow, drillWorkflow, extendSignal, progressQuery, releaseSignal } from '../workflows';
export type { BisectProgress, DrillProgress } from '../workflows';
export * from '../workflows/search-attributes';
