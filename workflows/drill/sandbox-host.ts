/** The host a drill's sandbox phase is placed on, as slot holders announce it by signal (placement.ts). */
import { condition, defineSignal, log, setHandler } from '@temporalio/workflow';
import { SANDBOX_PLACED_SIGNAL } from '../../domain/placement';
import type { SandboxPlacement } from '../../domain/placement';
import { onHostQueue, unplaced } from './activity-options';
import type { SandboxProxies } from './activity-options';

export const sandboxPlacedSignal = defineSignal<[SandboxPlacement]>(SANDBOX_PLACED_SIGNAL);

/** After a host call timed out, how long the drill waits for another placement before trying the same host again. */
const NEW_PLACEMENT_WAIT = '90s';

export class SandboxHost {
  /** The latest host a slot holder announced. */
  current?: SandboxPlacement;
  /** How many placements arrived so far: a host lost mid-phase is replaced by a later one. */
  received = 0;
  /** Every host the sandbox phase ran on, in order. */
  readonly hosts: string[] = [];

  constructor() {
    setHandler(sandboxPlacedSignal, (p) => {
      if (this.current && p.attempt < this.current.attempt) return; // a late signal of an attempt already replaced
      this.current = p;
      this.received++;
      if (this.hosts.at(-1) !== p.host) this.hosts.push(p.host);
      log.info(`sandbox placed on ${p.host} (slot attempt ${p.attempt})`);
    });
  }

  proxies(): SandboxProxies {
    return this.current ? onHostQueue(this.current.hostQueue) : unplaced;
  }

  /** After a host call timed out: waits for a placement later than `seen` (the host was lost), or gives the same host another try. */
  async replacedSince(seen: number): Promise<boolean> {
    return condition(() => this.received > seen, NEW_PLACEMENT_WAIT);
  }
}

/** A call on a placed host's queue that timed out: the host stopped answering (its worker or engine gone) or never took the task. */
export function isHostTimeout(err: unknown): boolean {
  return (err as { cause?: { name?: string } } | undefined)?.cause?.name === 'TimeoutFailure';
}
