/** Workflow code stays deterministic: the lint rule rejects I/O imports, and the bundle builds. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = path.resolve(__dirname, '../..');

function lint(filePath: string, code: string): string {
  try {
    execFileSync(path.join(root, 'node_modules/.bin/eslint'), ['--stdin', '--stdin-filename', filePath, '--format', 'stylish'], { cwd: root, input: code, encoding: 'utf8' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('workflow boundaries', () => {
  test('lint rejects a Node built-in imported by workflow code', () => {
    expect(lint('workflows/bad.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toMatch(/must not use Node built-ins/);
  }, 60_000);

  test('lint rejects an adapter imported by workflow code', () => {
    expect(lint('workflows/bad.ts', "import { DockerodeRuntime } from '../adapters/docker';\nexport const x = DockerodeRuntime;\n")).toMatch(/import activity types only/);
  }, 60_000);

  test('lint accepts activity types imported by workflow code', () => {
    expect(lint('workflows/ok.ts', "import type { DrillActivities } from '../activities';\nexport type X = DrillActivities;\n")).toBe('');
  }, 60_000);

  test('lint rejects Temporal imported by domain logic', () => {
    expect(lint('domain/bad.ts', "import { proxyActivities } from '@temporalio/workflow';\nexport const x = proxyActivities;\n")).toMatch(/no Temporal, Docker or database imports/);
  }, 60_000);

  test('lint rejects imports that point back up the layers: the CLI into activities, an adapter into activities', () => {
    expect(lint('cli/bad.ts', "import { endpointOf } from '../activities/source/checkpoint';\nexport const x = endpointOf;\n")).toMatch(/Imports point one way/);
    expect(lint('adapters/bad.ts', "import { createActivities } from '../activities';\nexport const x = createActivities;\n")).toMatch(/Imports point one way/);
  }, 60_000);

  test('the workflow bundle builds without Node built-ins', async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
    expect(code).toContain('drillWorkflow');
    expect(code.length).toBeGreaterThan(10_000);
  }, 120_000);
});
