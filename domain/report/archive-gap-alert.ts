/**
 * An alert for a gap that appeared in a source's binlog archive (a file missing, transactions
 * missing between two files): no replay can cross it, so recoveries past it are lost until a new
 * backup is taken after it. Each gap alerts once; the activity keeps the gaps already alerted. Pure.
 */
import type { DrillAlert } from './alerts';

export function archiveGapAlert(
  source: string,
  gaps: readonly string[],
  alreadyAlerted: readonly string[],
  run: { runId: string; url: string; at: string },
): DrillAlert | undefined {
  const fresh = gaps.filter((g) => !alreadyAlerted.includes(g));
  if (fresh.length === 0) return undefined;
  return {
    kind: 'archive-gap',
    drillId: run.runId,
    source,
    message:
      `the binlog archive of ${source} has ${fresh.length === 1 ? 'a new gap' : `${fresh.length} new gaps`}: ${fresh.join('; ')}. ` +
      `No recovery can replay across it: take a new backup after it (restore-drill drill ${source}) and find out what removed the binlogs (binlog retention shorter than archiveEvery?)`,
    url: run.url,
    finishedAt: run.at,
  };
}
