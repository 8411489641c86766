/** The verdicts a drill's checks produce (checksums, CHECK TABLE, assertions, GTID state), read by the report. */

/** `object`, `definer`, `view`: the restored views, routines, triggers and events work (objects.ts). `freshness`: a team's newest backup is younger than the RPO objective (domain/recovery/rpo.ts). */
export type CheckKind = 'row-count' | 'checksum' | 'check-table' | 'assertion' | 'gtid' | 'presence' | 'object' | 'definer' | 'view' | 'freshness';

/** One verdict of a drill: what was compared, what was expected and what was found. */
export interface CheckResult {
  /** Unique within a report, e.g. `checksum:shop.orders`. */
  name: string;
  kind: CheckKind;
  /** What was checked, e.g. `shop.orders` or an assertion's name. */
  target: string;
  passed: boolean;
  expected?: string;
  actual?: string;
  /** Why it failed (or a note on a pass), in words a DBA can act on. */
  message?: string;
  /** The drill's failure type when this check fails it (e.g. `DefinerMissing`); absent: `CheckFailed`. */
  failureType?: string;
}
