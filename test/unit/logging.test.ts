/** Log lines: JSON objects with the drill's id and source, the SDK's logger routed through them, a readable form, settings refused by name. */
import { createLogger, prettyLine, temporalLogger } from '../../adapters/logging';
import { sourceOfActivityInput } from '../../workers/activity-log-attributes';
import { logSettings } from '../../workers/logging';

function capture(level: 'debug' | 'info' | 'warn' = 'debug', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const logger = createLogger({ format, level, stream: { write: (l: string) => void lines.push(l) } });
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log lines', () => {
  test('one JSON object per line: ISO time, level name, message and fields', () => {
    const { logger, lines, entries } = capture();
    logger.info({ source: 'orders' }, 'worker polling');
    expect(lines[0]!.endsWith('\n')).toBe(true);
    expect(entries()[0]).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: 'info', source: 'orders', msg: 'worker polling' });
  });

  test('lines below the level are not written', () => {
    const { logger, lines } = capture('warn');
    logger.info('chatter');
    logger.warn('kept');
    expect(lines).toHaveLength(1);
  });

  test('a key that would name a secret is redacted, at the top and one level down', () => {
    const { logger, entries } = capture();
    logger.warn({ password: 'hunter2', request: { secret: 'k', token: 't' } }, 'careful');
    expect(JSON.stringify(entries())).not.toMatch(/hunter2|"k"|"t"/);
    expect(entries()[0]).toMatchObject({ password: '[redacted]', request: { secret: '[redacted]', token: '[redacted]' } });
  });

  test('the SDK logger: workflowId becomes drillId; the source of a run is remembered for its later lines', () => {
    const { logger, entries } = capture();
    const sdk = temporalLogger(logger);
    sdk.info('drill started', { sdkComponent: 'workflow', workflowId: 'drill-orders-1', source: 'orders' });
    sdk.debug('Activity started', { sdkComponent: 'activity', workflowId: 'drill-orders-1', activityType: 'inspectSource', taskToken: 'Cghh…' });
    sdk.warn('Worker state changed', { sdkComponent: 'worker' });
    sdk.error('Activity failed', { workflowId: 'drill-other-1', error: new Error('boom') });
    const [first, second, third, fourth] = entries();
    expect(first).toMatchObject({ level: 'info', drillId: 'drill-orders-1', source: 'orders', msg: 'drill started' });
    expect(first).not.toHaveProperty('workflowId');
    expect(second).toMatchObject({ level: 'debug', drillId: 'drill-orders-1', source: 'orders', activityType: 'inspectSource' });
    expect(second).not.toHaveProperty('taskToken');
    expect(third).not.toHaveProperty('drillId');
    expect(fourth).toMatchObject({ level: 'error', drillId: 'drill-other-1', err: { message: 'boom', type: 'Error' } });
    expect(fourth).not.toHaveProperty('source');
  });

  test('the remembered sources are bounded: the oldest run is forgotten first', () => {
    const { logger, entries } = capture();
    const sdk = temporalLogger(logger, 2);
    for (const id of ['a', 'b', 'c']) sdk.info('started', { workflowId: id, source: `s-${id}` });
    for (const id of ['a', 'b', 'c']) sdk.info('later', { workflowId: id });
    expect(entries().slice(3).map((e) => e.source)).toEqual([undefined, 's-b', 's-c']);
  });

  test('pretty: time, level, message, then drill id and source first', () => {
    const line = prettyLine(JSON.stringify({ time: '2026-11-21T02:14:05.123Z', level: 'warn', msg: 'restore-drill alert: x', activityType: 'notify', source: 'orders', drillId: 'd-1', sdkComponent: 'activity' }));
    expect(line).toBe('02:14:05.123 WARN  restore-drill alert: x  drillId=d-1 source=orders activityType=notify\n');
    const { logger, lines } = capture('info', 'pretty');
    logger.info({ source: 'orders' }, 'hello');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}hello {2}source=orders\n$/);
  });
});

describe('the source of an activity, from its input', () => {
  test.each([
    ['a source spec', { name: 'orders', connection: { socket: '/s' } }, 'orders'],
    ['a request with a source spec', { drillId: 'd', source: { name: 'orders', connection: { socket: '/s' } } }, 'orders'],
    ['a source name', { source: 'orders', flavor: 'mariadb' }, 'orders'],
    ['a report', { report: { source: 'orders' } }, 'orders'],
    ['a nested request', { request: { source: { name: 'orders' } } }, 'orders'],
    ['the janitor', { retention: [] }, undefined],
    ['nothing', undefined, undefined],
  ])('%s', (_what, input, expected) => {
    expect(sourceOfActivityInput(input)).toBe(expected);
  });
});

describe('log settings', () => {
  test('flags win over the environment, which wins over the defaults; levels in any case', () => {
    expect(logSettings({}, {}, { format: 'json', level: 'info' })).toEqual({ format: 'json', level: 'info' });
    expect(logSettings({}, { RESTORE_DRILL_LOG_FORMAT: 'pretty', RESTORE_DRILL_LOG_LEVEL: 'WARN' }, { format: 'json', level: 'info' })).toEqual({ format: 'pretty', level: 'warn' });
    expect(logSettings({ format: 'json', level: 'debug' }, { RESTORE_DRILL_LOG_FORMAT: 'pretty' }, { format: 'pretty', level: 'info' })).toEqual({ format: 'json', level: 'debug' });
  });

  test('an unknown format or level is refused, naming what is allowed', () => {
    expect(() => logSettings({ format: 'xml' }, {}, { format: 'json', level: 'info' })).toThrow('log format "xml": use json or pretty');
    expect(() => logSettings({}, { RESTORE_DRILL_LOG_LEVEL: 'loud' }, { format: 'json', level: 'info' })).toThrow(/log level "loud": use one of trace, debug, info, warn, error/);
  });
});
