/**
 * One drill per source at a time, enforced by the Temporal server itself.
 *
 * Why a child workflow and not a lock file: a workflow id is unique among running workflows
 * of a namespace, and the server checks that atomically. Every drill starts a child
 * `source-lock-<source>` before it touches anything; a second drill of the same source
 * (scheduled, manual or a retry by hand) cannot start that child and fails at once with
 * SourceBusy. There is no stale lock to take over: the child is started with
 * ParentClosePolicy TERMINATE, so a terminated, timed-out or crashed-and-reset drill releases
 * it as its run closes, and a normal drill releases it after its cleanup.
 * Started in a non-cancellable scope, so cancelling a drill does not release the lock before
 * its cleanup has run.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  defineQuery,
  defineSignal,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { ChildWorkflowHandle } from '@temporalio/workflow';
import { sourceLockWorkflowId } from '../domain/naming';

export interface SourceLockHolder {
  source: string;
  drillId: string;
  runId: string;
}

export const releaseLockSignal = defineSignal('release-lock');
export const lockHolderQuery = defineQuery<SourceLockHolder>('lock-holder');

export { sourceLockWorkflowId };

/** Holds the lock of one source until the drill that started it releases it (or closes). */
export async function sourceLockWorkflow(holder: SourceLockHolder): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => void (released = true));
  setHandler(lockHolderQuery, () => holder);
  await condition(() => released);
}

export interface HeldSourceLock {
  release(): Promise<void>;
}

/** Thrown by {@link acquireSourceLock}: carries the stable `type` the drill reports. */
export class SourceBusyFailure extends Error {
  readonly type = 'SourceBusy';
}

/** Takes the source's lock for the calling workflow, or fails with `type` SourceBusy. */
export async function acquireSourceLock(holder: SourceLockHolder): Promise<HeldSourceLock> {
  const workflowId = sourceLockWorkflowId(holder.source);
  let child: ChildWorkflowHandle<typeof sourceLockWorkflow>;
  try {
    child = await CancellationScope.nonCancellable(() =>
      startChild(sourceLockWorkflow, {
        workflowId,
        args: [holder],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      }),
    );
  } catch (err) {
    if ((err as Error)?.name === 'WorkflowExecutionAlreadyStartedError')
      throw new SourceBusyFailure(
        `another drill of source ${holder.source} is running (it holds workflow ${workflowId}); drills of one source never overlap: wait for it to finish or cancel it (temporal workflow describe -w ${workflowId} names its parent)`,
      );
    throw err;
  }
  return {
    async release() {
      await CancellationScope.nonCancellable(async () => {
        await child.signal(releaseLockSignal);
        await child.result();
      });
    },
  };
}
