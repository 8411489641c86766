/**
 * Sandbox placement on the worker side. `sandboxPlacement` (any worker of the drill's queue)
 * says whether this fleet places sandboxes; `holdSandboxSlot` (polled on the placement queue
 * with as many slots as the host runs sandboxes) tells its drill which host it got, then holds
 * the slot by heartbeating until the drill cancels it. A host that dies stops heartbeating:
 * the slot's heartbeat timeout fails it and Temporal retries it on a host with room, which
 * signals the drill again (workflows/drill/placement.ts).
 */
import { Context } from '@temporalio/activity';
import { SANDBOX_PLACED_SIGNAL } from '../../domain/placement';
import type { PlacementService, SandboxPlacement } from '../../domain/placement';
import type { ActivityDeps } from '../deps';

/** How often a held slot heartbeats (its timeout is a few of these: workflows/drill/placement.ts). */
const HOLD_HEARTBEAT_MS = 3000;

export function placementActivities(deps: ActivityDeps) {
  return {
    async sandboxPlacement(): Promise<PlacementService | undefined> {
      return deps.placement ? { placementQueue: deps.placement.placementQueue } : undefined;
    },

    async holdSandboxSlot(req: { drillId: string }): Promise<void> {
      const ctx = Context.current();
      const placement = deps.placement;
      if (!placement) throw new Error(`holdSandboxSlot for ${req.drillId} reached a worker that places no sandboxes`);
      const run = ctx.info.workflowExecution;
      if (!run) throw new Error(`holdSandboxSlot for ${req.drillId} was not started by a workflow`);
      const { workflowId, runId } = run;
      const placed: SandboxPlacement = { host: placement.host, hostQueue: placement.hostQueue, attempt: ctx.info.attempt };
      ctx.heartbeat();
      await ctx.client.workflow.getHandle(workflowId, runId).signal(SANDBOX_PLACED_SIGNAL, placed);
      ctx.log.info(`sandbox slot on ${placement.host} held for ${req.drillId}`);
      // Until the drill cancels it (ctx.sleep rejects on cancellation) or the drill's run closes.
      for (;;) {
        ctx.heartbeat();
        await ctx.sleep(HOLD_HEARTBEAT_MS);
      }
    },
  };
}
