/** Observations the safety and fault suites share: what Docker holds, what processes show, where a drill is. */
import Docker from 'dockerode';
import { readFileSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { SandboxLabels } from '../../domain/naming';
import { progressQuery } from '../../workflows';
import type { DrillProgress } from '../../workflows';

const docker = new Docker();

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ContainerState {
  id: string;
  name: string;
  status: string;
  startedAt: string;
}

/** Every container without the engine's managed label: the engine must never change one. */
export async function unlabelledContainers(): Promise<ContainerState[]> {
  const list = await docker.listContainers({ all: true });
  const out: ContainerState[] = [];
  for (const c of list.filter((c) => c.Labels?.[SandboxLabels.managed] !== 'true')) {
    const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
    if (info) out.push({ id: c.Id, name: info.Name.replace(/^\//, ''), status: info.State.Status, startedAt: info.State.StartedAt });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Names of containers labelled with this drill's run id that Docker created since `sinceSeconds`.
 * A daemon keeps its events in memory: after it restarts, only newer ones.
 */
export async function containersCreated(drillId: string, sinceSeconds: number, daemon: Docker = docker): Promise<string[]> {
  const stream = (await daemon.getEvents({
    since: sinceSeconds,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: JSON.stringify({ type: ['container'], event: ['create'], label: [`${SandboxLabels.run}=${drillId}`] }),
  })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => String((JSON.parse(l) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name));
}

/**
 * Watches, from now until `stop`, the containers labelled with this drill's run id that Docker
 * creates. A daemon keeps only its last thousand or so events: on a busy host, reading them after
 * a long drill (containersCreated) can miss the create.
 */
export async function watchContainersCreated(drillId: string, daemon: Docker = docker): Promise<{ stop(): Promise<string[]> }> {
  const stream = (await daemon.getEvents({ filters: JSON.stringify({ type: ['container'], event: ['create'], label: [`${SandboxLabels.run}=${drillId}`] }) })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const names: string[] = [];
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines.filter((x) => x.trim())) names.push(String((JSON.parse(l) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name));
  });
  stream.on('error', () => undefined);
  let stopped = false;
  return {
    async stop() {
      if (!stopped) {
        stopped = true;
        await sleep(500); // events still in flight
        stream.destroy();
      }
      return names;
    },
  };
}

/** Command lines of every process on the host (containers' processes included). */
export function allCommandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out.push(readFileSync(path.join('/proc', pid, 'cmdline')).toString('utf8').replace(/\0/g, ' '));
    } catch {
      /* exited between readdir and read */
    }
  }
  return out;
}

/** Polls the drill's progress until `until` holds; undefined while the workflow cannot answer (worker down). */
export async function waitForProgress(handle: WorkflowHandle, until: (p: DrillProgress) => boolean, timeoutMs = 300_000, everyMs = 100): Promise<DrillProgress> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && until(p)) return p;
    if (p?.status === 'done') throw new Error(`drill ${handle.workflowId} finished before the awaited state: ${JSON.stringify(p.phases.map((x) => x.phase))}`);
    await sleep(everyMs);
  }
  throw new Error(`drill ${handle.workflowId} did not reach the awaited state within ${timeoutMs} ms`);
}

/** With RECORD_HISTORIES=1, stores a drill's history as a replay fixture (test/fixtures/histories). */
export async function recordHistoryIfAsked(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const json = (history as unknown as { toJSON(): unknown }).toJSON();
  await writeFile(path.resolve(__dirname, '../fixtures/histories', `${name}.json`), JSON.stringify(json, null, 1) + '\n');
}
