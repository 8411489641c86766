/**
 * The demo: a live sample source with a writer, an in-process worker, one drill end to end.
 * What the README's first command runs.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { DockerodeRuntime } from '../adapters/docker';
import { defaultPaths, sourceArtifactDir } from '../adapters/local-layout';
import { renderText } from '../domain/report/report';
import type { Flavor } from '../domain/types';
import { ensureSampleSource } from '../sample/source-container';
import { UniversityWriter } from '../sample/university-writer';
import { createDrillWorker } from '../workers/drill-worker';
import { temporalSettings, workflowUiUrl } from '../client/settings';
import { awaitDrill, startDrill } from '../client/drills';
import { progressPrinter } from './progress-view';

export async function runDemo(opts: { flavor: Flavor; json: boolean; log: (s: string) => void }): Promise<boolean> {
  const settings = temporalSettings();
  const runtime = new DockerodeRuntime();
  await runtime.ping();
  const home = process.env.RESTORE_DRILL_HOME ?? path.join(process.env.HOME ?? '/root', '.restore-drill');
  opts.log(`sample source: ${opts.flavor} (container sample-${opts.flavor})`);
  const source = await ensureSampleSource({ runtime, flavor: opts.flavor, name: `sample-${opts.flavor}`, home: path.join(home, 'sources') });
  if (source.created) {
    // A new sample server has a binlog history of its own: an archive of an earlier one would
    // be refused (ArchiveDiverged). Set it aside, nothing is deleted.
    const artifacts = sourceArtifactDir(defaultPaths(home), source.spec.name);
    const aside = `${artifacts}.replaced-${new Date().toISOString().replace(/[:.]/g, '')}`;
    if (await rename(artifacts, aside).then(() => true, () => false)) opts.log(`the sample source was re-created: its earlier artifacts were moved to ${aside}`);
  }
  const pool = mysql.createPool({ socketPath: source.socketPath, user: 'root', connectionLimit: 2 });
  const writer = new UniversityWriter(pool, { intervalMs: 10 });
  writer.start();

  const nativeConnection = await NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  const connection = await Connection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  const client = new Client({ connection, namespace: settings.namespace });
  const taskQueue = `restore-drill-demo-${process.pid}`;
  const worker = await createDrillWorker({ connection: nativeConnection, namespace: settings.namespace, taskQueue, deps: { paths: defaultPaths(home) } });
  try {
    const outcome = await worker.runUntil(async () => {
      const handle = await startDrill({ client, taskQueue, request: { source: source.spec, target: { kind: 'checkpoint' } } });
      opts.log(`drill ${handle.workflowId} started; follow it at ${workflowUiUrl(settings, handle.workflowId)}`);
      return { handle, result: await awaitDrill(handle, opts.json ? undefined : progressPrinter({ write: (t) => opts.log(t.replace(/\n$/, '')) })) };
    });
    const stats = await writer.stop();
    const { report, failure } = outcome.result;
    if (opts.json) console.log(JSON.stringify({ report, failure, ui: workflowUiUrl(settings, outcome.handle.workflowId) }, null, 2));
    else {
      if (report) opts.log('\n' + renderText(report));
      if (failure) opts.log(`\nFAILED (${failure.type}): ${failure.message}`);
      opts.log(`\nwriter committed ${stats.transactions} transactions on the source during the drill`);
      opts.log(`Temporal UI: ${workflowUiUrl(settings, outcome.handle.workflowId)}`);
    }
    return report?.outcome === 'passed';
  } finally {
    await writer.stop(); // idempotent: already stopped on the happy path
    await pool.end();
    await connection.close();
    await nativeConnection.close();
  }
}
