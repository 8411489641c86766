/**
 * Recorded drill histories replay against today's workflow code: a change that would break
 * drills already running (non-determinism) fails here, before it is deployed.
 * Fixtures: test/fixtures/histories/*.json, recorded from real drills by the safety and fault
 * suites with RECORD_HISTORIES=1. Re-record them only for an intended, versioned change.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../workers/drill-worker';

const dir = path.resolve(__dirname, '../fixtures/histories');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

function load(file: string): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
}

describe('recorded drill histories', () => {
  let code: string;
  beforeAll(async () => {
    ({ code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never }));
  });

  test('a succeeded, a failed and a cancelled drill are recorded', () => {
    for (const outcome of ['succeeded', 'failed', 'cancelled']) expect(fixtures).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${outcome}-`))]));
  });

  test.each(fixtures)('%s replays against the current workflow code without non-determinism', async (file) => {
    const history = load(file);
    expect(history.events.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: { code }, replayName: file }, history, file.replace(/\.json$/, ''));
  });
});
