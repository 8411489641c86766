/**
 * Structural cleanup, as in temporalio/samples-typescript `saga`: each step that leaves something
 * behind (the source lock, a sandbox) registers its undo as soon as it may have done so, and the
 * workflow runs the undos, newest first, whatever way the drill ends.
 */
import { CancellationScope } from '@temporalio/workflow';

export interface Undo {
  /** What the undo does, in words ("remove the sandbox"). */
  what: string;
  run(): Promise<unknown>;
}

export interface UndoFailure {
  what: string;
  error: unknown;
}

export class UndoStack {
  private readonly undos: Undo[] = [];

  push(what: string, run: () => Promise<unknown>): void {
    this.undos.unshift({ what, run });
  }

  get size(): number {
    return this.undos.length;
  }

  /**
   * Runs every registered undo, newest first, and forgets it. Non-cancellable: a cancelled drill
   * still removes what it made. One failed undo does not stop the others; its failure is returned.
   */
  async unwind(): Promise<UndoFailure[]> {
    const undos = this.undos.splice(0);
    return CancellationScope.nonCancellable(async () => {
      const failures: UndoFailure[] = [];
      for (const undo of undos) {
        try {
          await undo.run();
        } catch (error) {
          failures.push({ what: undo.what, error });
        }
      }
      return failures;
    });
  }
}
