/**
 * Sandbox placement: the sandbox phase of a drill runs on one worker host, chosen when it
 * starts, through that host's own task queue. A first call on the drill's queue asks whether
 * the fleet places sandboxes; if it does, a slot activity on the placement queue waits for a
 * host with a free slot, which signals the host back and holds the slot (heartbeating) until
 * the drill's cleanup cancels it (activities/sandbox/placement.ts). A host lost mid-drill stops
 * heartbeating: the slot is retried on a host with room, which signals again, and the sandbox
 * phase starts over there (sandbox-phases.ts). Histories recorded before placement replay
 * without it (patched).
 */
import { CancellationScope, condition, patched } from '@temporalio/workflow';
import { proxyWithSummaries } from '../activity-summaries';
import { quick } from './activity-options';
import type { Drill } from './context';
import { SandboxHost } from './sandbox-host';

/** Patch id: sandbox activities go to a placed host's queue. */
const SANDBOX_PLACEMENT = 'sandbox-placement';

/** A held slot heartbeats every 3 s; a host silent this long is lost and its slot is retried elsewhere. */
export const SLOT_HEARTBEAT_TIMEOUT = '15s';

/**
 * Places the drill's sandbox on a host with a free slot, or leaves it where the drill runs when
 * the fleet does not place sandboxes (workers without a host queue, histories before placement).
 * The slot is given back by the drill's cleanup, after the sandbox is removed.
 */
export async function placeSandbox(d: Drill): Promise<void> {
  if (!patched(SANDBOX_PLACEMENT)) return;
  const service = await quick.sandboxPlacement();
  if (!service) return;
  const host = new SandboxHost();
  d.placement = host;
  const slot = proxyWithSummaries({
    taskQueue: service.placementQueue,
    // Held for the whole sandbox phase and a kept sandbox's life; the heartbeat is what bounds a lost host.
    startToCloseTimeout: '3650d',
    heartbeatTimeout: SLOT_HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
  });
  const holding = new CancellationScope();
  const held = holding.run(() => slot.holdSandboxSlot({ drillId: d.drillId }));
  held.catch(() => undefined);
  d.undos.push('give back the sandbox slot', async () => {
    holding.cancel();
    await held.catch(() => undefined);
  });
  // Until some host has a free slot (capacity.sandboxes): drills queue here instead of overloading a host.
  await condition(() => host.current !== undefined);
}
