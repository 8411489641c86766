/** Typed search attributes a drill sets, so operators can filter runs in the Temporal UI. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DrillSource = defineSearchAttributeKey('DrillSource', SearchAttributeType.KEYWORD);
export const DrillKind = defineSearchAttributeKey('DrillKind', SearchAttributeType.KEYWORD);
export const DrillOutcome = defineSearchAttributeKey('DrillOutcome', SearchAttributeType.KEYWORD);
export const DrillFailureType = defineSearchAttributeKey('DrillFailureType', SearchAttributeType.KEYWORD);
export const DrillTarget = defineSearchAttributeKey('DrillTarget', SearchAttributeType.KEYWORD);
export const DrillRtoSeconds = defineSearchAttributeKey('DrillRtoSeconds', SearchAttributeType.DOUBLE);

/** Names and types, for registering them on a server (deploy/temporal.sh keeps the same list). */
export const SEARCH_ATTRIBUTES = [DrillSource, DrillKind, DrillOutcome, DrillFailureType, DrillTarget, DrillRtoSeconds];
