/**
 * Sandbox placement (docs/deployment.md) on one machine, in one run:
 * 1. its cost: the same small MariaDB drill on a host that places its sandbox (its own queue, a
 *    slot held for the sandbox phase) and on a worker that places nothing, alternating; median
 *    total and RTO, the ratio and the seconds added, and the placement step itself from each
 *    history (asked until the host's signal);
 * 2. a burst: drills of 6 sources started at once over 2 hosts of capacity 1: every outcome, the
 *    most sandboxes up at once on each host, from the histories and from the Docker engine
 *    sampled every 200 ms, each drill's wait for a slot, and the wall time.
 * The hosts are worker sets in this process (workers/host-workers.ts), each with its own name,
 * queue and scratch folder, on the shared Docker engine (a sandbox's drill label says whose it
 * is) and one artifact folder. Writes bench/results/placement.json and .png. Never part of CI.
 *   bash bench/placement.sh [--reps 3] [--burst 6] [--students 1000]
 */
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DockerodeRuntime } from '../adapters/docker';
import { awaitDrill, startDrill } from '../client/drills';
import type { DrillOutcome } from '../client/drills';
import { SandboxLabels } from '../domain/naming';
import { hostTaskQueue } from '../domain/placement';
import { ensureSampleSource } from '../sample/source-container';
import type { SampleSource } from '../sample/source-container';
import { createDrillWorker } from '../workers/drill-worker';
import { createHostWorkers } from '../workers/host-workers';
import type { HostWorkers } from '../workers/host-workers';
import { activitySpans, placementSeconds, sandboxesAtOnce } from './history';
import { barChart, svgToPng } from './plot';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const FLEET = ['bench-a', 'bench-b'];

async function passed(handle: WorkflowHandle, what: string): Promise<DrillOutcome> {
  const outcome = await awaitDrill(handle);
  if (outcome.failure || outcome.report?.outcome !== 'passed') throw new Error(`${what} did not pass: ${outcome.failure?.type} ${outcome.failure?.message}`);
  return outcome;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const reps = arg('reps', 3);
  const burst = arg('burst', 6);
  const students = arg('students', 1000);
  const startedAt = new Date().toISOString();
  const stamp = `${process.pid}-${Date.now().toString(36)}`;
  const home = await mkdtemp(path.join(os.tmpdir(), 'rdpb-'));
  const runtime = new DockerodeRuntime();
  const native = await NativeConnection.connect({ address: '127.0.0.1:7233' });
  const connection = await Connection.connect({ address: '127.0.0.1:7233' });
  const client = new Client({ connection });
  // Short folders and ids: a sandbox's socket path must fit in 107 bytes.
  const paths = (fleet: string, host: string) => ({ artifactRoot: path.join(home, fleet, 'artifacts'), workRoot: path.join(home, fleet, host.slice(-1)) });

  // The baseline: a worker that places nothing (its sandbox runs where the drill runs).
  const plainQueue = `place-bench-plain-${stamp}`;
  const plain = await createDrillWorker({ connection: native, taskQueue: plainQueue, deps: { runtime, paths: paths('plain', 'plain') } });
  // A connection per host: Temporal refuses two workers of one queue on one connection, as two real hosts never share one.
  const hostConnections: NativeConnection[] = [];
  const hostWorkers = async (taskQueue: string, fleet: string, host: string) => {
    const own = await NativeConnection.connect({ address: '127.0.0.1:7233' });
    hostConnections.push(own);
    return createHostWorkers({ connection: own, namespace: 'default', taskQueue, host, capacity: { sandboxes: 1 }, deps: { runtime, paths: paths(fleet, host) } });
  };
  const placedQueue = `place-bench-solo-${stamp}`;
  const burstQueue = `place-bench-fleet-${stamp}`;
  const fleets: HostWorkers[] = [await hostWorkers(placedQueue, 'solo', 'bench-solo'), ...(await Promise.all(FLEET.map((h) => hostWorkers(burstQueue, 'fleet', h))))];
  const running = [plain.run(), ...fleets.map((w) => w.run())];

  const sources: SampleSource[] = [];
  const samples: { at: number; run: string }[] = [];
  let sampling: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < burst; i++) {
      sources.push(await ensureSampleSource({ runtime, flavor: 'mariadb', name: `bench-place-${i}-${process.pid}`, home: path.join(home, 'sources'), seed: { students: i === 0 ? students : Math.round(students / 2), courses: 30 } }));
    }

    // 1. The cost of placement: one source, alternating.
    const cost = { plain: { totals: [] as number[], rtos: [] as number[] }, placed: { totals: [] as number[], rtos: [] as number[], steps: [] as number[] } };
    for (let rep = 1; rep <= reps; rep++) {
      for (const kind of rep % 2 === 1 ? (['plain', 'placed'] as const) : (['placed', 'plain'] as const)) {
        const handle = await startDrill({ client, taskQueue: kind === 'plain' ? plainQueue : placedQueue, workflowId: `pb-${kind}-${rep}-${stamp}`, request: { source: sources[0]!.spec } });
        const { report } = await passed(handle, `${kind} drill ${rep}`);
        cost[kind].totals.push(report!.totalSeconds);
        cost[kind].rtos.push(report!.rtoSeconds);
        const step = placementSeconds(await handle.fetchHistory());
        if (kind === 'placed') {
          if (step === undefined || report!.sandbox?.host !== 'bench-solo') throw new Error(`placed drill ${rep} was not placed`);
          cost.placed.steps.push(step);
        }
        console.log(`${kind} rep ${rep}: total ${report!.totalSeconds.toFixed(2)} s, RTO ${report!.rtoSeconds.toFixed(2)} s${step !== undefined ? `, placement step ${step.toFixed(3)} s` : ''}`);
      }
    }

    // 2. A burst over two hosts of capacity 1, the Docker engine sampled meanwhile.
    const ids = sources.map((_, i) => `pb-burst-${i}-${stamp}`);
    sampling = setInterval(() => {
      const at = Date.now();
      void runtime.listByLabel({ [SandboxLabels.role]: 'sandbox' }).then(
        (list) => list.filter((c) => c.running && ids.includes(c.labels[SandboxLabels.run] ?? '')).forEach((c) => samples.push({ at, run: c.labels[SandboxLabels.run]! })),
        () => undefined,
      );
    }, 200);
    const burstStart = Date.now();
    const handles = await Promise.all(sources.map((s, i) => startDrill({ client, taskQueue: burstQueue, workflowId: ids[i]!, request: { source: s.spec } })));
    const outcomes = await Promise.all(handles.map((h) => awaitDrill(h)));
    const wallSeconds = (Date.now() - burstStart) / 1000;
    clearInterval(sampling);
    sampling = undefined;
    const histories = await Promise.all(handles.map((h) => h.fetchHistory()));
    const drills = outcomes.map(({ report, failure }, i) => ({
      drillId: ids[i]!,
      host: report?.sandbox?.host,
      outcome: report?.outcome ?? 'failed',
      ...(failure ? { failure: `${failure.type}: ${failure.message}` } : {}),
      totalSeconds: report?.totalSeconds,
      slotWaitSeconds: placementSeconds(histories[i]!),
    }));
    const hostOf = new Map(drills.map((d) => [d.drillId, d.host ?? '?']));
    const byQueue = sandboxesAtOnce(histories.map(activitySpans));
    const fromHistory = Object.fromEntries(FLEET.map((h) => [h, byQueue[hostTaskQueue(burstQueue, h)] ?? 0]));
    const fromDocker: Record<string, number> = Object.fromEntries(FLEET.map((h) => [h, 0]));
    const instants = new Map<number, Record<string, number>>();
    for (const s of samples) {
      const counts = instants.get(s.at) ?? {};
      const host = hostOf.get(s.run) ?? '?';
      counts[host] = (counts[host] ?? 0) + 1;
      fromDocker[host] = Math.max(fromDocker[host] ?? 0, counts[host]!);
      instants.set(s.at, counts);
    }

    const medians = { plainTotal: median(cost.plain.totals), placedTotal: median(cost.placed.totals), plainRto: median(cost.plain.rtos), placedRto: median(cost.placed.rtos), placementStep: median(cost.placed.steps) };
    const result = {
      startedAt,
      machine: { cpus: os.cpus().length },
      flavor: 'mariadb',
      students,
      reps,
      cost: {
        ...cost,
        medians,
        ratioTotal: round(medians.placedTotal / medians.plainTotal),
        ratioRto: round(medians.placedRto / medians.plainRto),
        addedSeconds: round(medians.placedTotal - medians.plainTotal),
        addedRtoSeconds: round(medians.placedRto - medians.plainRto),
      },
      burst: {
        hosts: FLEET.length,
        capacityPerHost: 1,
        drills,
        allPassed: drills.every((d) => d.outcome === 'passed'),
        mostSandboxesAtOnce: { fromHistory, fromDocker },
        dockerSamples: instants.size,
        wallSeconds: round(wallSeconds, 1),
        medianDrillSeconds: round(median(drills.map((d) => d.totalSeconds ?? 0)), 2),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(
      `\n| | median total s | median RTO s |\n| --- | --- | --- |\n| no placement | ${medians.plainTotal.toFixed(2)} | ${medians.plainRto.toFixed(2)} |\n| placed | ${medians.placedTotal.toFixed(2)} | ${medians.placedRto.toFixed(2)} |\n| placed / not | ${result.cost.ratioTotal} | ${result.cost.ratioRto} |\n` +
        `placement step (median): ${medians.placementStep.toFixed(3)} s; burst of ${burst} on ${FLEET.length} hosts of capacity 1: ${result.burst.allPassed ? 'all passed' : 'NOT ALL PASSED'}, most at once ${JSON.stringify(fromHistory)} (history) ${JSON.stringify(fromDocker)} (docker), wall ${wallSeconds.toFixed(1)} s`,
    );
    const out = path.join(path.resolve(__dirname, '../../..'), 'bench/results', 'placement');
    writeFileSync(`${out}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(
      `${out}.svg`,
      barChart(
        {
          'drill, no placement': medians.plainTotal,
          'drill, placed': medians.placedTotal,
          'placement step': medians.placementStep,
          [`burst of ${burst}, 2 hosts x 1`]: wallSeconds,
          'burst: median drill': result.burst.medianDrillSeconds,
        },
        `placement: ${result.cost.ratioTotal}x a drill (+${result.cost.addedSeconds.toFixed(2)} s); burst: at most ${Math.max(...Object.values(fromDocker))} sandbox per host`,
        (label) => label.includes('placed') || label.startsWith('placement'),
      ),
    );
    svgToPng(`${out}.svg`, `${out}.png`);
  } finally {
    if (sampling) clearInterval(sampling);
    for (const s of sources) await runtime.remove(s.containerName).catch(() => undefined);
    plain.shutdown();
    for (const w of fleets) w.shutdown();
    await Promise.allSettled(running);
    await connection.close();
    await native.close();
    for (const c of hostConnections) await c.close();
    await rm(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
