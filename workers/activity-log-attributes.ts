/**
 * Every log line an activity writes carries the drill's source: read from the activity's input
 * (a source spec, a request with one, or a report), added through the SDK's getLogAttributes
 * hook. The drill id is the workflow id the SDK already attaches (adapters/logging.ts names it).
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** The source an activity works on, from its first argument's shape; undefined for activities of no one source (the janitor). */
export function sourceOfActivityInput(arg: unknown): string | undefined {
  if (!isObject(arg)) return undefined;
  if (typeof arg.name === 'string' && isObject(arg.connection)) return arg.name;
  if (typeof arg.source === 'string') return arg.source;
  if (isObject(arg.source) && typeof arg.source.name === 'string') return arg.source.name;
  if (isObject(arg.report) && typeof arg.report.source === 'string') return arg.report.source;
  if (isObject(arg.request)) return sourceOfActivityInput(arg.request);
  return undefined;
}

export const sourceLogAttributes: ActivityInterceptorsFactory = () => {
  let source: string | undefined;
  return {
    inbound: {
      execute(input, next) {
        source = sourceOfActivityInput(input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next(source === undefined ? attributes : { ...attributes, source });
      },
    },
  };
};
