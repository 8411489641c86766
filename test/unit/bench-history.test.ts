import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { activitySpans, checkPartsOf, drillTimeline, placementSeconds, restoreBreakdown, restorePhasesOf, sandboxesAtOnce } from '../../bench/history';
import type { ActivitySpan } from '../../bench/history';

const historyFromJSON = (json: object): History => temporal.api.history.v1.History.fromObject(json);
const recorded = (name: string): History => historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../fixtures/histories', name), 'utf8')));

const at = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
/** A history of two activities running [1 s, 4 s) and [3 s, 6 s) in a 10 s workflow. */
function overlapping(): History {
  return historyFromJSON({
    events: [
      { eventId: '1', eventTime: at(0), eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', workflowExecutionStartedEventAttributes: {} },
      { eventId: '2', eventTime: at(500), eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', activityTaskScheduledEventAttributes: { activityType: { name: 'a' } } },
      { eventId: '3', eventTime: at(500), eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', activityTaskScheduledEventAttributes: { activityType: { name: 'b' } } },
      { eventId: '4', eventTime: at(1000), eventType: 'EVENT_TYPE_ACTIVITY_TASK_STARTED', activityTaskStartedEventAttributes: { scheduledEventId: '2' } },
      { eventId: '5', eventTime: at(3000), eventType: 'EVENT_TYPE_ACTIVITY_TASK_STARTED', activityTaskStartedEventAttributes: { scheduledEventId: '3' } },
      { eventId: '6', eventTime: at(4000), eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED', activityTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '4' } },
      { eventId: '7', eventTime: at(6000), eventType: 'EVENT_TYPE_ACTIVITY_TASK_FAILED', activityTaskFailedEventAttributes: { scheduledEventId: '3', startedEventId: '5' } },
      { eventId: '8', eventTime: at(10000), eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', workflowExecutionCompletedEventAttributes: {} },
    ],
  });
}

describe('bench: Temporal overhead from a drill history', () => {
  test('overlapping activities count once: overhead is wall time minus the time any activity ran', () => {
    const t = drillTimeline(overlapping());
    expect(t.wallSeconds).toBe(10);
    expect(t.activitySeconds).toBe(5);
    expect(t.overheadSeconds).toBe(5);
    expect(t.spans.map((s) => [s.activity, s.outcome])).toEqual([
      ['a', 'completed'],
      ['b', 'failed'],
    ]);
  });

  test.each(['succeeded-mariadb.json', 'succeeded-mysql.json'])('a recorded drill (%s): every activity accounted, overhead a small positive part of the wall time', (file) => {
    const t = drillTimeline(recorded(file));
    expect(t.spans.map((s) => s.activity)).toEqual(expect.arrayContaining(['inspectSource', 'createSandbox', 'restoreLogicalDump', 'replayBinlogs', 'verifyRestore', 'removeSandbox']));
    expect(t.activitySeconds).toBeGreaterThan(0);
    expect(t.overheadSeconds).toBeGreaterThan(0);
    expect(t.overheadSeconds).toBeLessThan(t.wallSeconds / 2);
    expect(t.overheadSeconds + t.activitySeconds).toBeCloseTo(t.wallSeconds, 6);
  });

  test('the restore activity result is decoded: a result without sub-phases gives none', () => {
    const t = drillTimeline(recorded('succeeded-mariadb.json'));
    const restore = t.spans.find((s) => s.activity === 'restoreLogicalDump');
    expect(restore?.result).toEqual({ seconds: expect.any(Number) });
    expect(restorePhasesOf(t)).toEqual({});
  });

  test("the checks activity's timings become its parts; a result without them gives none", () => {
    const t = drillTimeline(recorded('succeeded-mariadb.json'));
    expect(checkPartsOf(t)).toEqual({});
    const verify = t.spans.find((s) => s.activity === 'verifyRestore')!;
    verify.result = { checks: [], timings: { checkTableSeconds: 2.5, tableStatesSeconds: 6, assertionsSeconds: 0.1, wallSeconds: 4, sessions: 4 } };
    expect(checkPartsOf(t)).toEqual({ checkTable: 2.5, tableStates: 6, assertions: 0.1, wall: 4, sessions: 4 });
  });
});

describe('bench: restore sub-phases', () => {
  test('a phases list sums repeated names', () => {
    expect(restoreBreakdown({ seconds: 9, phases: [{ phase: 'schema', seconds: 1 }, { name: 'data', seconds: 6 }, { phase: 'data', seconds: 1 }, { phase: 'indexes', seconds: 1 }] })).toEqual({ schema: 1, data: 7, indexes: 1 });
  });

  test('a phases record of numbers or { seconds }', () => {
    expect(restoreBreakdown({ phases: { schema: 0.5, indexes: { seconds: 2 } } })).toEqual({ schema: 0.5, indexes: 2 });
  });

  test('<name>Seconds fields, never the total', () => {
    expect(restoreBreakdown({ seconds: 9, schemaSeconds: 1, dataSeconds: 6, indexesSeconds: 2, chunks: 40 })).toEqual({ schema: 1, data: 6, indexes: 2 });
  });
});

describe('bench: placement from drill histories', () => {
  const span = (activity: string, taskQueue: string, startMs: number, endMs: number): ActivitySpan => ({ activity, taskQueue, startMs, endMs, outcome: 'completed', identity: '1@m' });
  const sandboxOn = (queue: string, from: number, to: number) => [span('createSandbox', queue, from, from + 1), span('restoreLogicalDump', queue, from + 1, to - 1), span('removeSandbox', queue, to - 1, to)];

  test('the most sandboxes up at once per host queue: back to back is one, overlapping is two', () => {
    expect(sandboxesAtOnce([sandboxOn('q@a', 0, 10), sandboxOn('q@a', 10, 20), sandboxOn('q@b', 5, 15)])).toEqual({ 'q@a': 1, 'q@b': 1 });
    expect(sandboxesAtOnce([sandboxOn('q@a', 0, 10), sandboxOn('q@a', 9, 20)])).toEqual({ 'q@a': 2 });
  });

  test('the placement step: from asking to the first host signal; the task queue and worker identity of each span', () => {
    const history = historyFromJSON({
      events: [
        { eventId: '1', eventTime: at(0), eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', workflowExecutionStartedEventAttributes: {} },
        { eventId: '2', eventTime: at(1000), eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', activityTaskScheduledEventAttributes: { activityType: { name: 'sandboxPlacement' }, taskQueue: { name: 'q' } } },
        { eventId: '3', eventTime: at(1010), eventType: 'EVENT_TYPE_ACTIVITY_TASK_STARTED', activityTaskStartedEventAttributes: { scheduledEventId: '2', identity: '42@host' } },
        { eventId: '4', eventTime: at(1020), eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED', activityTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '3' } },
        { eventId: '5', eventTime: at(1250), eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', workflowExecutionSignaledEventAttributes: { signalName: 'sandbox-placed' } },
        { eventId: '6', eventTime: at(9000), eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', workflowExecutionSignaledEventAttributes: { signalName: 'sandbox-placed' } },
      ],
    });
    expect(placementSeconds(history)).toBe(0.25);
    expect(activitySpans(history).map((s) => [s.activity, s.taskQueue, s.identity])).toEqual([['sandboxPlacement', 'q', '42@host']]);
    expect(placementSeconds(overlapping())).toBeUndefined();
  });
});
