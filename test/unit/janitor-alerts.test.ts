/** The janitor's and the alerts' decisions: pure rules, no Docker, no Temporal. */
import { alertKind, drillAlert } from '../../domain/report/alerts';
import { containerSweepDecision, folderSweepDecision, leftoverArtifactOwner } from '../../domain/artifacts/janitor';
import { sandboxLabels } from '../../domain/naming';
import type { DrillReport } from '../../domain/report/report';

const now = new Date('2026-11-21T12:00:00Z');
const labels = (role: 'sandbox' | 'tool' | 'source', expires = '2026-11-21T16:00:00Z') => sandboxLabels({ role, run: 'drill-a', source: 'univ', expires });

describe('janitor decisions', () => {
  test('a sandbox whose owner drill has closed is removed', () => {
    expect(containerSweepDecision(labels('sandbox'), 'closed', now).remove).toBe(true);
  });

  test('a sandbox of a running drill is kept until its expiry passes', () => {
    expect(containerSweepDecision(labels('sandbox'), 'running', now).remove).toBe(false);
    expect(containerSweepDecision(labels('sandbox', '2026-11-21T11:59:59Z'), 'running', now).remove).toBe(true);
  });

  test('a sandbox whose owner this namespace does not know is kept until it expires', () => {
    expect(containerSweepDecision(labels('tool'), 'unknown', now).remove).toBe(false);
    expect(containerSweepDecision(labels('tool', '2026-11-21T11:00:00Z'), 'unknown', now).remove).toBe(true);
  });

  test('a source is never removed, even expired with a closed owner', () => {
    expect(containerSweepDecision(labels('source', '2000-01-01T00:00:00Z'), 'closed', now)).toEqual({ remove: false, reason: 'a source is never removed' });
  });

  test('a container without the managed label is never removed', () => {
    const unmanaged = Object.fromEntries(Object.entries(labels('sandbox', '2000-01-01T00:00:00Z')).filter(([k]) => k !== 'io.restore-drill.managed'));
    expect(containerSweepDecision(unmanaged, 'closed', now).remove).toBe(false);
    expect(containerSweepDecision({ ...unmanaged, 'io.restore-drill.managed': 'yes' }, 'closed', now).remove).toBe(false);
  });

  test('a folder goes when its owner closed, or when ownerless and older than the limit', () => {
    expect(folderSweepDecision('closed', 0, 3600_000).remove).toBe(true);
    expect(folderSweepDecision('running', 10 * 3600_000, 3600_000).remove).toBe(false);
    expect(folderSweepDecision('unknown', 60_000, 3600_000).remove).toBe(false);
    expect(folderSweepDecision('unknown', 2 * 3600_000, 3600_000).remove).toBe(true);
  });

  test('only .partial- and .staging- folders name an owner', () => {
    expect(leftoverArtifactOwner('.partial-drill-univ-20261121T120000Z')).toBe('drill-univ-20261121T120000Z');
    expect(leftoverArtifactOwner('.staging-x')).toBe('x');
    expect(leftoverArtifactOwner('.partial-drill-univ-20261121T120000Z.attempt-2')).toBe('drill-univ-20261121T120000Z');
    expect(leftoverArtifactOwner('drill-univ-20261121T120000Z')).toBeUndefined();
  });
});

describe('alert decisions', () => {
  const report = (outcome: 'passed' | 'failed'): DrillReport =>
    ({ drillId: 'drill-univ-1', source: 'univ', outcome, finishedAt: now.toISOString(), rtoSeconds: 12.5, checks: [{ passed: outcome === 'passed' }], failure: outcome === 'failed' ? { type: 'DumpTruncated', message: 'no trailer' } : undefined }) as unknown as DrillReport;

  test('every failed drill alerts, whatever came before', () => {
    expect(alertKind('failed', undefined)).toBe('failed');
    expect(alertKind('failed', 'failed')).toBe('failed');
  });

  test('a pass alerts only as the first one after a failure', () => {
    expect(alertKind('passed', 'failed')).toBe('recovered');
    expect(alertKind('passed', 'passed')).toBeUndefined();
    expect(alertKind('passed', undefined)).toBeUndefined();
  });

  test('a failure alert carries drill id, source, failure type, message and link', () => {
    expect(drillAlert(report('failed'), 'failed', 'http://ui/x')).toEqual({ kind: 'failed', drillId: 'drill-univ-1', source: 'univ', outcome: 'failed', failureType: 'DumpTruncated', message: 'drill of univ failed: no trailer', url: 'http://ui/x', finishedAt: now.toISOString() });
  });

  test('a recovery alert has no failure type', () => {
    expect(drillAlert(report('passed'), 'recovered', 'http://ui/y')).toMatchObject({ kind: 'recovered', failureType: undefined, message: expect.stringContaining('passed again') });
  });
});
