/**
 * Where a drill's sandbox runs: one worker host, chosen when the sandbox phase starts, reached
 * through that host's own task queue (Temporal's worker-specific task queue pattern). Pure names
 * and the signal both sides share.
 */

/** The queue only `host`'s worker polls: every sandbox activity of a drill placed there. */
export function hostTaskQueue(taskQueue: string, host: string): string {
  return `${taskQueue}@${host}`;
}

/**
 * The queue whose tasks are sandbox slots: each host's worker polls it with as many activity
 * slots as it runs sandboxes at once, so a drill's slot task waits until some host has room.
 */
export function placementTaskQueue(taskQueue: string): string {
  return `${taskQueue}-placement`;
}

/** The signal a slot holder sends its drill once it holds a slot: the host and its queue. */
export const SANDBOX_PLACED_SIGNAL = 'sandbox-placed';

export interface SandboxPlacement {
  host: string;
  hostQueue: string;
  /** The slot activity's attempt: a later attempt (its host was lost) replaces an earlier one. */
  attempt: number;
}

/** What a worker host tells a drill when asked where sandboxes go; absent: this worker does not place them (sandbox activities on the drill's own queue). */
export interface PlacementService {
  placementQueue: string;
}
