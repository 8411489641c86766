/**
 * The README's test command (deploy/test.sh) stops a jest that finished its tests but does not
 * exit (a handle left open) and counts it as a failure: its watchdog, rd_run_watched in
 * deploy/lib.sh, run here on real processes standing in for jest.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const LIB = path.resolve(__dirname, '../../deploy/lib.sh');

interface Watched {
  code: number;
  stderr: string;
  marker: boolean;
  seconds: number;
}

let home: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'rd-watchdog-'));
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** Runs `node -e script` under the watchdog with a grace of `grace` seconds; the script gets the results path as its argument. */
function watched(name: string, script: string, grace: number): Promise<Watched> {
  const results = path.join(home, `${name}.json`);
  const marker = path.join(home, `${name}.hung`);
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', 'set -euo pipefail; source "$1"; shift; rd_run_watched "$@"', 'watchdog', LIB, results, marker, String(grace), process.execPath, '-e', script, results],
      { env: { ...process.env, RESTORE_DRILL_HOME: home }, timeout: 30_000 },
      (err, _stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? -1) : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stderr, marker: existsSync(marker), seconds: (Date.now() - started) / 1000 });
      },
    );
  });
}

const writeResults = "require('node:fs').writeFileSync(process.argv[1], '{}');";

test('a jest that exits after writing its results passes through, without the marker', async () => {
  const run = await watched('exits', writeResults, 2);
  expect(run).toMatchObject({ code: 0, marker: false });
  expect(run.stderr).toBe('');
});

test('a jest that writes its results and keeps running is stopped after the grace time, marked, and fails', async () => {
  const run = await watched('hangs', `${writeResults} setInterval(() => undefined, 1000);`, 2);
  expect(run).toMatchObject({ code: 1, marker: true });
  expect(run.stderr).toContain('did not exit within 2 s: a test left a handle open');
  expect(run.seconds).toBeGreaterThanOrEqual(2);
  expect(run.seconds).toBeLessThan(20);
});

test("a jest still running its tests is not stopped, however long they take, and a failing jest's status is kept", async () => {
  const slow = await watched('slow', `setTimeout(() => { ${writeResults} }, 4000);`, 1);
  expect(slow).toMatchObject({ code: 0, marker: false });
  expect(slow.seconds).toBeGreaterThanOrEqual(4);
  const failing = await watched('fails', `${writeResults} process.exit(3);`, 2);
  expect(failing).toMatchObject({ code: 3, marker: false });
});
