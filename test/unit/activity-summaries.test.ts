/** Activity summaries shown in the Temporal UI's event history. */
import { activitySummary } from '../../workflows/activity-summaries';

test('a summary names the activity in words and the source, sandbox and target it works on', () => {
  expect(activitySummary('takeLogicalBackup', { drillId: 'd', source: { name: 'orders', user: 'r' } })).toBe('take logical backup · source orders');
  expect(activitySummary('replayBinlogs', { drillId: 'd', sandbox: { name: 'rd-sandbox-x' } })).toBe('replay binlogs · sandbox rd-sandbox-x');
  expect(activitySummary('planReplay', { source: { name: 'orders' }, target: { kind: 'time', at: '2026-11-21T14:37:00Z' } })).toBe('plan replay · source orders · target time');
});

test('a summary never carries a secret from the request', () => {
  const s = activitySummary('inspectSource', { name: 'orders', connection: { socket: '/run/mysqld.sock' }, user: 'drill_reader', passwordRef: { env: 'ORDERS_PASSWORD' } });
  expect(s).toBe('inspect source · source orders');
});
