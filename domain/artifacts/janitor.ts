/**
 * What the janitor may remove. Pure: the activity gathers labels, folder ages and owner
 * statuses; this decides. Only objects the engine labelled are ever candidates, never a source.
 */
import { MANAGED_LABEL_VALUE, SandboxLabels, withoutAttempt } from '../naming';

/** The owner workflow as Temporal reports it; 'unknown' when no such workflow exists here. */
export type OwnerStatus = 'running' | 'closed' | 'unknown';

export interface SweepDecision {
  remove: boolean;
  reason: string;
}

/**
 * A labelled container goes when its owner run has closed (a terminated or crashed drill
 * never ran its cleanup) or its expiry has passed. An owner this Temporal namespace does not
 * know may belong to another namespace or cluster sharing the Docker host: only its expiry
 * can release it.
 */
export function containerSweepDecision(labels: Record<string, string>, owner: OwnerStatus, now: Date): SweepDecision {
  if (labels[SandboxLabels.managed] !== MANAGED_LABEL_VALUE) return { remove: false, reason: 'not created by restore-drill' };
  const role = labels[SandboxLabels.role];
  if (role === 'source') return { remove: false, reason: 'a source is never removed' };
  if (role !== 'sandbox' && role !== 'tool') return { remove: false, reason: `unknown role ${JSON.stringify(role)}` };
  const expires = Date.parse(labels[SandboxLabels.expires] ?? '');
  if (!Number.isNaN(expires) && expires <= now.getTime()) return { remove: true, reason: `expired at ${new Date(expires).toISOString()}` };
  if (owner === 'closed') return { remove: true, reason: `owner drill ${labels[SandboxLabels.run]} has closed` };
  return { remove: false, reason: owner === 'running' ? 'owner drill is running' : 'owner unknown here and not expired' };
}

/**
 * A drill's scratch folder or a half-written artifact folder (`.partial-<id>`, `.staging-<id>`)
 * goes when its owner has closed, or when nobody here owns it and it is older than `maxAgeMs`.
 */
export function folderSweepDecision(owner: OwnerStatus, ageMs: number, maxAgeMs: number): SweepDecision {
  if (owner === 'closed') return { remove: true, reason: 'owner drill has closed' };
  if (owner === 'unknown' && ageMs > maxAgeMs) return { remove: true, reason: `no owner and older than ${Math.round(maxAgeMs / 3600_000)} h` };
  return { remove: false, reason: owner === 'running' ? 'owner drill is running' : 'no owner but recent' };
}

/** The owner id a leftover artifact folder names (`.partial-<id>[.attempt-N]` / `.staging-<id>`), if it is one. */
export function leftoverArtifactOwner(folderName: string): string | undefined {
  const m = /^\.(?:partial|staging)-(.+)$/.exec(folderName);
  return m?.[1] === undefined ? undefined : withoutAttempt(m[1]);
}
