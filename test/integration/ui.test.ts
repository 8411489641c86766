/**
 * The Temporal UI as the operators' console: a real drill, opened in headless Chromium
 * (Debian's `chromium` driven by playwright-core), shows its run, its search attributes and
 * is found by a search-attribute query in the workflow list. The screenshot is the README's.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { awaitDrill, startDrill } from '../../client/drills';
import { drillWorkflowId } from '../../domain/naming';
import { testServer } from './servers';
import { startHarness } from './harness';
import type { Harness } from './harness';
import { startLiveSource } from './sources';
import type { LiveSource } from './sources';

const UI = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshot-ui.png');
const SCREENSHOT_ATTRIBUTES = path.resolve(__dirname, '../../docs/screenshot-ui-search-attributes.png');

let h: Harness;
let source: LiveSource;
let browser: BrowserContext;
let profile: string;
let drillId: string;

beforeAll(async () => {
  h = await startHarness('ui');
  source = await startLiveSource(h.runtime, testServer('mariadb'), h.home, `it-ui-${process.pid}`);
  profile = await mkdtemp(path.join(os.tmpdir(), 'rd-chromium-'));
  // The machine has no internet: nothing in Chromium may try to phone home.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1250 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  source.writer.start();
  const handle = await startDrill({ client: h.client, taskQueue: h.taskQueue, workflowId: drillWorkflowId(source.spec.name, new Date().toISOString()), request: { source: source.spec }, summary: `drill of ${source.spec.name} to checkpoint` });
  drillId = handle.workflowId;
  const { report, failure } = await awaitDrill(handle);
  await source.writer.stop();
  if (report?.outcome !== 'passed') throw new Error(`the drill behind the UI test failed: ${failure?.type}: ${failure?.message}`);
});

afterAll(async () => {
  try {
    await browser?.close().catch(() => undefined);
    if (profile) await rm(profile, { recursive: true, force: true });
    await source?.destroy();
  } finally {
    await h?.close();
  }
});

test("a drill's page in the Temporal UI shows the completed run, its activity summaries and its search attributes", async () => {
  const page = await browser.newPage();
  await page.goto(`${UI}/namespaces/default/workflows/${encodeURIComponent(drillId)}`);
  await page.getByRole('heading', { name: drillId }).or(page.getByText(drillId).first()).first().waitFor({ timeout: 60_000 });
  await page.getByText('Completed', { exact: true }).first().waitFor();
  // The event history reads as a story: every activity carries a summary naming what it worked on.
  await page.getByText(`take logical backup · source ${source.spec.name}`).first().waitFor({ timeout: 20_000 });
  await page.getByText('publish report · outcome passed').first().waitFor();
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  await page.getByText('Search Attributes', { exact: true }).first().click();
  const attributes = page.locator('main');
  for (const expected of ['"DrillSource"', `"${source.spec.name}"`, '"DrillKind"', '"drill"', '"DrillOutcome"', '"passed"', '"DrillRtoSeconds"', '"DrillTarget"', '"checkpoint"'])
    await attributes.getByText(expected, { exact: false }).first().waitFor({ timeout: 20_000 });
  await page.screenshot({ path: SCREENSHOT_ATTRIBUTES });
  await page.close();
});

test('the workflow list of the Temporal UI finds the drill by a search-attribute query', async () => {
  const page = await browser.newPage();
  const query = `DrillSource="${source.spec.name}" AND DrillOutcome="passed"`;
  // Visibility is eventually consistent: reload until the row is there.
  let found = false;
  for (let attempt = 0; attempt < 20 && !found; attempt++) {
    await page.goto(`${UI}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    found = await page
      .getByText(drillId)
      .first()
      .waitFor({ timeout: 5_000 })
      .then(() => true)
      .catch(() => false);
  }
  expect(found).toBe(true);
  // And the query really filters: the same source with the other outcome does not list it.
  await page.goto(`${UI}/namespaces/default/workflows?query=${encodeURIComponent(`DrillSource="${source.spec.name}" AND DrillOutcome="failed"`)}`);
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(2_000);
  expect(await page.getByText(drillId).count()).toBe(0);
  await page.close();
});
