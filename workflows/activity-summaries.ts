/**
 * Activity summaries (Temporal user metadata), so the event history in the UI reads as a story:
 * "take logical backup · source orders", "restore logical dump · sandbox rd-sandbox-…".
 * A drop-in for proxyActivities: every call goes through executeWithOptions with a summary
 * built from the activity's name and its first argument. Deterministic: no I/O, no clock.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import type { DrillActivities } from '../activities';

/** `takeLogicalBackup` → `take logical backup`. */
function words(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

/** One line: the activity in words and the facts of its request a DBA looks for. */
export function activitySummary(name: string, arg: unknown): string {
  const a = (arg ?? {}) as Record<string, unknown>;
  const facts: string[] = [];
  // A SourceSpec itself (inspectSource) or a request naming one.
  const source = a.connection !== undefined ? a.name : typeof a.source === 'string' ? a.source : (a.source as { name?: unknown } | undefined)?.name;
  if (typeof source === 'string') facts.push(`source ${source}`);
  const sandbox = (a.sandbox as { name?: unknown } | undefined)?.name;
  if (typeof sandbox === 'string') facts.push(`sandbox ${sandbox}`);
  const target = a.target as { kind?: unknown } | undefined;
  if (target && typeof target.kind === 'string') facts.push(`target ${target.kind}`);
  if (typeof a.fromFile === 'string') facts.push(`binlogs from ${a.fromFile}`);
  if (typeof a.manifestPath === 'string') facts.push(a.manifestPath.split('/').slice(-2).join('/'));
  // A bisect's step between two points of its window, or its snapshot of one.
  if (typeof a.from === 'number' && typeof a.to === 'number') facts.push(`transactions ${a.from}→${a.to}`);
  if (typeof a.point === 'number') facts.push(`point ${a.point}`);
  if (typeof a.attempt === 'number' && a.attempt > 1) facts.push(`attempt ${a.attempt}`);
  const report = a.report as { outcome?: unknown } | undefined;
  if (report && typeof report.outcome === 'string') facts.push(`outcome ${report.outcome}`);
  return [words(name), ...facts].join(' · ').slice(0, 200);
}

/** proxyActivities, with a summary on every call. */
export function proxyWithSummaries(options: ActivityOptions): ActivityInterfaceFor<DrillActivities> {
  const proxy = proxyActivities<DrillActivities>(options);
  return new Proxy(proxy, {
    get(target, prop) {
      const fn = Reflect.get(target, prop) as ActivityInterfaceFor<DrillActivities>[keyof DrillActivities] | undefined;
      if (typeof prop !== 'string' || fn === undefined) return fn;
      const call = (...args: unknown[]) => (fn.executeWithOptions as (o: ActivityOptions, a: unknown[]) => Promise<unknown>)({ ...options, summary: activitySummary(prop, args[0]) }, args);
      return Object.assign(call, { executeWithOptions: fn.executeWithOptions });
    },
  });
}
