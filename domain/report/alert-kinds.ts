/** The alert vocabulary: what can be raised, and what a delivery of it records. Pure, no imports (the report records deliveries). */

/**
 * The events a destination can subscribe to: a failed drill; the first pass after failures
 * (recovered); a pass slower than rtoTarget; a recovery or an archive further behind than
 * rpoTarget (domain/report/rpo-alert.ts); a new gap in the binlog archive (archive-gap-alert.ts).
 */
export const ALERT_KINDS = ['failed', 'recovered', 'rto-missed', 'rpo-missed', 'archive-gap'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** One destination's attempt at one alert, recorded in the report and the worker log (never the URL). */
export interface AlertDelivery {
  /** The destination's name in the configuration (or RESTORE_DRILL_WEBHOOK_URL). */
  destination: string;
  type: 'slack' | 'webhook';
  kind: AlertKind;
  delivered: boolean;
  attempts: number;
  /** The receiver's last HTTP status, when it answered. */
  status?: number;
  /** Why the last attempt failed. */
  error?: string;
}

