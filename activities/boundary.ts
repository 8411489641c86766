/**
 * The activity boundary: typed DrillErrors become ApplicationFailures exactly once, here,
 * with their stable `type` and retry decision; unknown errors stay retryable.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isDrillError } from '../domain/errors';

export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (isDrillError(err)) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: !err.retryable,
      details: [err.details],
      cause: err.cause instanceof Error ? err.cause : undefined,
    });
  }
  return err;
}

/** Wraps every activity of a record so failures cross the boundary typed. */
export function withFailureTranslation<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toFailure(err);
      }
    };
    Object.defineProperty(wrapped[name], 'name', { value: name });
  }
  return wrapped as T;
}

/** This activity's attempt number (1 outside an activity context, e.g. called directly in a test). */
export function activityAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** The workflow this activity runs for; undefined outside an activity context. */
export function runningWorkflowId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

/** Heartbeats `details()` every `everyMs` while `work` runs; outside an activity it does nothing. */
export async function withHeartbeat<T>(details: () => unknown, work: (signal: AbortSignal | undefined) => Promise<T>, everyMs = 2_000): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (!ctx) return work(undefined);
  const beat = () => ctx!.heartbeat(details());
  beat();
  const timer = setInterval(beat, everyMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
